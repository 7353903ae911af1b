// Findings across runs in the state DB: upsert what this run saw, resolve what it no longer sees
// (only on days the run covered), and escalate a pending_sync that outlived the sync lag.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Finding } from './types.js';

export interface RunRecord {
  id: string;
  scope: string;
  startedAt: string;
  finishedAt: string;
  window: { from: string; to: string };
  upstream: unknown;
  local: unknown;
  summary: unknown;
  ok: boolean;
}

export interface FindingHistory {
  firstSeen: string;
  lastSeen: string;
  timesSeen: number;
  escalatedAt?: string;
}

export interface StoredFinding extends FindingHistory {
  scope: string;
  kind: string;
  key: string;
  cause: string | null;
  day: string | null;
  resolvedAt: string | null;
  details: Finding;
}

/** What identifies a finding from run to run (its cause may change; its identity does not). */
export function fingerprint(f: Finding): string {
  if (f.kind === 'invalid_input') {
    // The row's content, not its line: lines shift when an export is regenerated.
    const file = String(f.evidence.origin ?? '').replace(/:\d+$/, '');
    const { seq: _seq, ...row } = (f.evidence.row ?? {}) as Record<string, string>;
    return `invalid_input|${createHash('sha256').update(`${file}|${f.key}|${String(f.evidence.reason ?? '')}|${JSON.stringify(row)}`).digest('hex').slice(0, 32)}`;
  }
  return `${f.kind}|${f.side ?? ''}|${f.key}`;
}

/** Fingerprints made unique within one run (two identical damaged rows are two findings). */
export function uniqueFingerprints(findings: readonly Finding[]): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const p = fingerprint(f);
    const n = (seen.get(p) ?? 0) + 1;
    seen.set(p, n);
    return n === 1 ? p : `${p}#${n}`;
  });
}

/** The newest earlier run of this scope that recorded its upstream rows per day (shrink-guard.ts). */
export async function previousUpstreamDays(client: pg.Client, scope: string): Promise<{ run: string; days: Record<string, number> } | undefined> {
  const res = await client.query<{ id: string; days: Record<string, number> }>(
    `select id, summary->'upstreamDays' as days from fapiao_guard.reconcile_runs
     where scope = $1 and jsonb_typeof(summary->'upstreamDays') = 'object' order by started_at desc limit 1`,
    [scope],
  );
  const row = res.rows[0];
  return row ? { run: row.id, days: row.days } : undefined;
}

/**
 * Record the run and its findings; returns each finding's history (same order) and what was
 * resolved. `resolve: false` (a shrunken upstream) keeps every open finding open.
 */
export async function recordRun(client: pg.Client, run: RunRecord, findings: readonly Finding[], options: { resolve?: boolean } = {}): Promise<{ history: FindingHistory[]; resolved: number; escalated: number }> {
  const prints = uniqueFingerprints(findings);
  await client.query('begin');
  try {
    await client.query(
      `insert into fapiao_guard.reconcile_runs (id, scope, started_at, finished_at, window_from, window_to, upstream, local, summary, ok)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [run.id, run.scope, run.startedAt, run.finishedAt, run.window.from, run.window.to, JSON.stringify(run.upstream), JSON.stringify(run.local), JSON.stringify(run.summary), run.ok],
    );
    const before = await client.query<{ fingerprint: string; cause: string | null }>(
      `select fingerprint, cause from fapiao_guard.reconcile_findings where scope = $1 and fingerprint = any($2::text[])`,
      [run.scope, prints],
    );
    const pendingBefore = new Set(before.rows.filter((r) => r.cause === 'pending_sync').map((r) => r.fingerprint));
    const rows = findings.map((f, i) => {
      // still missing after the lag: escalated, whether or not a backup explains where it went
      const escalate = f.kind === 'missing' && (f.cause === undefined || f.cause === 'in_backup') && pendingBefore.has(prints[i]!);
      if (escalate) f.evidence.escalatedFrom = 'pending_sync';
      return { fingerprint: prints[i], kind: f.kind, key: f.key, cause: f.cause ?? null, day: f.day ?? null, details: f, escalate };
    });
    const upserted = await client.query<{ fingerprint: string; first_seen: Date; last_seen: Date; times_seen: number; escalated_at: Date | null }>(
      `insert into fapiao_guard.reconcile_findings as f (scope, fingerprint, kind, key, cause, day, details, first_seen, last_seen, first_run, last_run, escalated_at)
       select $1, x.fingerprint, x.kind, x.key, x.cause, x.day, x.details, $2, $2, $3, $3, null
       from jsonb_to_recordset($4::jsonb) as x(fingerprint text, kind text, key text, cause text, day date, details jsonb, escalate boolean)
       on conflict (scope, fingerprint) do update set
         cause = excluded.cause, day = excluded.day, details = excluded.details, last_seen = excluded.last_seen, last_run = excluded.last_run,
         times_seen = f.times_seen + 1, resolved_at = null, resolved_run = null,
         escalated_at = case when f.cause = 'pending_sync' and (excluded.cause is null or excluded.cause = 'in_backup') and excluded.kind = 'missing' then excluded.last_seen else f.escalated_at end
       returning fingerprint, first_seen, last_seen, times_seen, escalated_at`,
      [run.scope, run.finishedAt, run.id, JSON.stringify(rows)],
    );
    const resolved =
      options.resolve === false
        ? { rowCount: 0 }
        : await client.query(
            `update fapiao_guard.reconcile_findings set resolved_at = $2, resolved_run = $3
       where scope = $1 and resolved_at is null and last_run <> $3 and (day is null or day between $4::date and $5::date)`,
            [run.scope, run.finishedAt, run.id, run.window.from, run.window.to],
          );
    await client.query('commit');
    const byPrint = new Map<string, FindingHistory>();
    for (const r of upserted.rows) {
      byPrint.set(r.fingerprint, { firstSeen: r.first_seen.toISOString(), lastSeen: r.last_seen.toISOString(), timesSeen: r.times_seen, ...(r.escalated_at ? { escalatedAt: r.escalated_at.toISOString() } : {}) });
    }
    const history = prints.map((p) => byPrint.get(p)!);
    return { history, resolved: resolved.rowCount ?? 0, escalated: rows.filter((r) => r.escalate).length };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/**
 * What findings are kept per: the two sides, by where they are, never by who reads them (a
 * password added to a URL, or another user, must not start a second set of findings).
 */
export function reconcileScope(localLocation: string, upstreamLocation: string): string {
  const withoutUser = (location: string): string => location.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, '$1');
  return `${withoutUser(localLocation)} <- ${withoutUser(upstreamLocation)}`;
}

export async function listFindings(client: pg.Client, options: { open: boolean; scope?: string }): Promise<StoredFinding[]> {
  const { rows } = await client.query<{ scope: string; kind: string; key: string; cause: string | null; day: string | null; first_seen: Date; last_seen: Date; times_seen: number; resolved_at: Date | null; escalated_at: Date | null; details: Finding }>(
    `select scope, kind, key, cause, to_char(day, 'YYYY-MM-DD') as day, first_seen, last_seen, times_seen, resolved_at, escalated_at, details
     from fapiao_guard.reconcile_findings
     where ($1::boolean is false or resolved_at is null) and ($2::text is null or scope = $2)
     order by resolved_at is not null, kind, day nulls last, key`,
    [options.open, options.scope ?? null],
  );
  return rows.map((r) => ({
    scope: r.scope,
    kind: r.kind,
    key: r.key,
    cause: r.cause,
    day: r.day,
    firstSeen: r.first_seen.toISOString(),
    lastSeen: r.last_seen.toISOString(),
    timesSeen: r.times_seen,
    resolvedAt: r.resolved_at ? r.resolved_at.toISOString() : null,
    ...(r.escalated_at ? { escalatedAt: r.escalated_at.toISOString() } : {}),
    details: r.details,
  }));
}
