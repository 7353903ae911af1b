// What the daemon schedules (job × target × cron expression, from config and the job registry) and
// the daemons table: who is alive, with which concurrency and queue workers, for `status` and sweeps.
import type pg from 'pg';
import { JOBS, type JobName } from '../../jobs/index.js';
import type { Config, TargetConfig } from '../core/config/config.js';
import { ConfigError } from '../core/errors.js';
import { historyTarget, scopesFor } from './job.js';
import type { Schedules } from './daemon-config.js';
import type { RunSpec } from './job-runner.js';

export interface ScheduleEntry extends RunSpec {
  /** the target as recorded in job history: the target's name, or '*' for a job that runs once */
  historyTarget: string;
  schedule: string;
}

export function scheduleEntries(
  config: Config,
  schedules: Schedules,
  targets: readonly TargetConfig[],
): ScheduleEntry[] {
  const problems: string[] = [];
  const entries = (Object.entries(schedules) as Array<[JobName, string | undefined]>).flatMap(([name, schedule]) => {
    if (!schedule) return [];
    if (name === 'reconcile' && !config.reconcile) {
      problems.push(`schedules.reconcile: the configuration has no 'reconcile' section`);
      return [];
    }
    const job = JOBS[name];
    return scopesFor(job, targets).map((scope) => ({
      name,
      job,
      scope,
      historyTarget: historyTarget(scope),
      schedule,
    }));
  });
  if (problems.length > 0) throw new ConfigError('cannot schedule the configured jobs', problems);
  if (entries.length === 0)
    throw new ConfigError('nothing to schedule: the configuration has no schedules', [], {
      hint: 'add e.g. schedules: {backup: "0 2 * * *", prune: "30 5 * * *"}',
    });
  return entries;
}

export async function registerDaemon(
  pool: pg.Pool,
  id: string,
  host: string,
  listen: string | null,
  concurrency: number,
): Promise<void> {
  await pool.query(
    `insert into fapiao_guard.daemons (daemon_id, host, pid, listen, concurrency) values ($1, $2, $3, $4, $5)`,
    [id, host, process.pid, listen, concurrency],
  );
}

/** A queue worker of this daemon: another daemon releases its jobs if this one dies. */
export async function recordWorker(pool: pg.Pool, id: string, workerId: string): Promise<void> {
  await pool.query(`update fapiao_guard.daemons set worker_ids = array_append(worker_ids, $2) where daemon_id = $1`, [
    id,
    workerId,
  ]);
}

/**
 * This daemon is alive. Returns true when another daemon had recorded it as stopped (its heartbeat
 * went stale, e.g. while the state database was unreachable): the row is live again, so that a sweep
 * still releases its queue workers' jobs if it dies later.
 */
export async function daemonHeartbeat(pool: pg.Pool, id: string): Promise<boolean> {
  const res = await pool.query<{ revived: boolean }>(
    `update fapiao_guard.daemons d set heartbeat_at = now(), stopped_at = null
     from (select daemon_id, stopped_at is not null as revived from fapiao_guard.daemons where daemon_id = $1 for update) old
     where d.daemon_id = old.daemon_id
     returning old.revived`,
    [id],
  );
  return res.rows[0]?.revived ?? false;
}

export async function daemonStopped(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(`update fapiao_guard.daemons set stopped_at = now(), heartbeat_at = now() where daemon_id = $1`, [
    id,
  ]);
}

export interface DeadDaemon {
  daemonId: string;
  host: string;
  pid: number;
  workerIds: string[];
}

/**
 * Daemons that neither stopped nor beat within `staleAfter` seconds, or whose process on this host is
 * gone: recorded as stopped (once, by whichever daemon sees it first) and returned with their queue
 * workers, whose jobs the caller releases. Never the caller's own daemon (`ownId`), however late its
 * heartbeat: after a state-database outage a daemon's own beat is stale too, and releasing its own
 * workers' jobs would hand a job it still holds (a finished one whose completion was lost, or one
 * running) back to the queue.
 */
export async function claimDeadDaemons(
  pool: pg.Pool,
  staleAfter: number,
  host: string,
  isAlive: (pid: number) => boolean,
  ownId: string,
): Promise<DeadDaemon[]> {
  const local = await pool.query<{ pid: number }>(
    `select pid from fapiao_guard.daemons where stopped_at is null and host = $1 and pid <> $2`,
    [host, process.pid],
  );
  const dead = local.rows.map((r) => r.pid).filter((pid) => !isAlive(pid));
  const res = await pool.query<{ daemon_id: string; host: string; pid: number; worker_ids: string[] }>(
    `update fapiao_guard.daemons set stopped_at = now()
     where stopped_at is null and daemon_id <> $4
       and (heartbeat_at < now() - make_interval(secs => $1) or (host = $2 and pid = any($3::int[])))
     returning daemon_id, host, pid, worker_ids`,
    [staleAfter, host, dead, ownId],
  );
  return res.rows.map((r) => ({ daemonId: r.daemon_id, host: r.host, pid: r.pid, workerIds: r.worker_ids }));
}
