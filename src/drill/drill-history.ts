// Drill history in the state database (table fapiao_guard.drills, migration 0002): a row at the
// start (running), finished with the verdict, or marked interrupted / error.
import { hostname } from 'node:os';
import type pg from 'pg';
import { processAlive } from '../core/process-alive.js';
import type { DrillReport } from './drill-report.js';
import type { TrendPoint } from './drill-html.js';

export type DrillStatus = 'running' | 'pass' | 'fail' | 'interrupted' | 'error';

export interface DrillHistoryRow {
  drillId: string;
  target: string;
  backupId: string | null;
  status: DrillStatus;
  startedAt: string;
  finishedAt: string | null;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  cause: string | null;
  scratchDatabase: string | null;
  kept: boolean;
  reportObject: string | null;
  htmlReport: string | null;
}

export async function recordStart(
  db: pg.Client,
  row: { drillId: string; target: string; backupId: string; scratchDatabase: string; startedAt: Date },
): Promise<void> {
  await db.query(
    `insert into fapiao_guard.drills (drill_id, target, backup_id, status, started_at, host, pid, scratch_database)
     values ($1, $2, $3, 'running', $4, $5, $6, $7)`,
    [row.drillId, row.target, row.backupId, row.startedAt, hostname(), process.pid, row.scratchDatabase],
  );
}

export async function recordReport(db: pg.Client, report: DrillReport): Promise<void> {
  await db.query(
    `update fapiao_guard.drills set status = $2, finished_at = $3, kept = $4, rto_seconds = $5, rpo_seconds = $6,
       seconds = $7, cause = $8, report_object = $9, html_report = $10, report = $11
     where drill_id = $1`,
    [
      report.drillId,
      report.verdict,
      report.finishedAt,
      report.scratch.kept,
      report.seconds.total,
      report.rpoSeconds,
      JSON.stringify(report.seconds),
      report.cause ?? null,
      report.reportObject ?? null,
      report.htmlReport ?? null,
      JSON.stringify(report),
    ],
  );
}

export async function recordEnd(
  db: pg.Client,
  drillId: string,
  status: 'interrupted' | 'error',
  cause: string,
  seconds?: number,
): Promise<void> {
  await db.query(
    `update fapiao_guard.drills set status = $2, finished_at = now(), cause = $3, rto_seconds = null, seconds = $4 where drill_id = $1`,
    [drillId, status, cause, seconds === undefined ? null : JSON.stringify({ total: seconds })],
  );
}

/** Rows left `running` by a drill on this host whose process is gone: it crashed (or was killed). */
export async function markCrashedDrills(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ drill_id: string; pid: number }>(
    `select drill_id, pid from fapiao_guard.drills where status = 'running' and host = $1`,
    [hostname()],
  );
  const dead = rows.filter((r) => r.pid !== process.pid && !processAlive(r.pid)).map((r) => r.drill_id);
  if (dead.length === 0) return 0;
  await db.query(
    `update fapiao_guard.drills set status = 'interrupted', finished_at = now(), cause = 'the drill process ended without finishing (crash or kill)' where drill_id = any($1)`,
    [dead],
  );
  return dead.length;
}

export async function listDrills(
  db: pg.Client,
  options: { target?: string; limit: number },
): Promise<DrillHistoryRow[]> {
  const { rows } = await db.query<{
    drill_id: string;
    target: string;
    backup_id: string | null;
    status: DrillStatus;
    started_at: Date;
    finished_at: Date | null;
    rto_seconds: number | null;
    rpo_seconds: number | null;
    cause: string | null;
    scratch_database: string | null;
    kept: boolean;
    report_object: string | null;
    html_report: string | null;
  }>(
    `select * from (select drill_id, target, backup_id, status, started_at, finished_at, rto_seconds, rpo_seconds, cause,
            scratch_database, kept, report_object, html_report
       from fapiao_guard.drills where ($1::text is null or target = $1) order by started_at desc limit $2) recent
     order by started_at`,
    [options.target ?? null, options.limit],
  );
  return rows.map((r) => ({
    drillId: r.drill_id,
    target: r.target,
    backupId: r.backup_id,
    status: r.status,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    rtoSeconds: r.rto_seconds,
    rpoSeconds: r.rpo_seconds,
    cause: r.cause,
    scratchDatabase: r.scratch_database,
    kept: r.kept,
    reportObject: r.report_object,
    htmlReport: r.html_report,
  }));
}

/** RTO of the last finished drills of a target, oldest first, for the chart. */
export async function rtoTrend(db: pg.Client, target: string, limit = 30): Promise<TrendPoint[]> {
  const rows = await listDrills(db, { target, limit: limit * 2 });
  return rows
    .filter((r) => (r.status === 'pass' || r.status === 'fail') && r.rtoSeconds !== null)
    .slice(-limit)
    .map((r) => ({ drillId: r.drillId, startedAt: r.startedAt, status: r.status, rtoSeconds: r.rtoSeconds }));
}
