// Findings across runs in the state DB: upsert what this run saw, resolve what it no longer sees
// (only on days the run covered), and escalate a pending_sync that outlived the sync lag.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { UsageError } from '../../core/errors.js';
import { failing as failingOf } from '../engine/classify.js';
import type { UpstreamShrink } from './shrink-guard.js';
import type { Finding, FindingKind } from '../model/types.js';

export interface RunRecord {
  id: string;
  scope: string;
  startedAt: string;
  finishedAt: string;
  window: { from: string; to: string };
  upstream: unknown;
  local: unknown;
  /** reconcile.failOn: what counts as failing, once acknowledgements are applied */
  failOn: readonly FindingKind[];
  /** upstream rows per day, kept so the next run can tell a shrunken upstream (shrink-guard.ts) */
  upstreamDays?: Record<string, number>;
  /** this run's upstream shrank: nothing is resolved and the run is not ok */
  upstreamShrank?: UpstreamShrink;
}

/** Who accepted or explained a finding, and why (`findings ack`). */
export interface Acknowledgement {
  at: string;
  by: string;
  reason: string;
}

/** An acknowledgement ended because the finding changed after it (the finding fails again). */
export interface Reopened extends Acknowledgement {
  reopenedAt: string;
  /** what changed, e.g. `upstream.totalFen 10000 → 20000` */
  changes: string[];
}

export interface FindingHistory {
  /** the short id users type (`findings ack <id>`) */
  id?: string;
  firstSeen: string;
  lastSeen: string;
  timesSeen: number;
  escalatedAt?: string;
  /** in force: the finding no longer fails reconcile or status, and stays listed */
  acknowledgement?: Acknowledgement;
  /** an acknowledgement this run ended because the finding changed */
  reopened?: Reopened;
}

export interface StoredFinding extends FindingHistory {
  id: string;
  scope: string;
  fingerprint: string;
  kind: string;
  key: string;
  cause: string | null;
  day: string | null;
  resolvedAt: string | null;
  details: Finding;
  /** every acknowledgement ever made, oldest first (listFindings with ackHistory) */
  acknowledgements?: Array<Acknowledgement & { endedAt: string | null; endReason: string | null }>;
}

/** A finding's short id: 8 hex digits of the sha256 of scope and fingerprint (stable from run to run). */
export function findingId(scope: string, print: string): string {
  return createHash('sha256').update(`${scope}\n${print}`).digest('hex').slice(0, 8);
}

/**
 * What an acknowledgement accepts: the finding's facts, not where they were read (file:line moves
 * when an export is regenerated) nor the tool's explanation of them (a pending_sync that escalates
 * is still the same missing invoice).
 */
export function findingSubstance(f: Finding): Record<string, unknown> {
  const view = (v: Finding['upstream']): Record<string, unknown> | undefined => {
    if (!v) return undefined;
    const { origin: _origin, ...facts } = v;
    return facts;
  };
  if (f.kind === 'invalid_input')
    return { kind: f.kind, key: f.key, day: f.day ?? null, reason: f.evidence.reason ?? null };
  return {
    kind: f.kind,
    key: f.key,
    day: f.day ?? null,
    side: f.side ?? null,
    ...(f.upstream ? { upstream: view(f.upstream) } : {}),
    ...(f.local ? { local: view(f.local) } : {}),
  };
}

/**
 * How a finding differs from what was acknowledged: every fact the acknowledgement saw that now
 * reads differently or is gone. Facts only the current finding has (a field a later version adds)
 * do not reopen it.
 */
export function substanceChanges(acked: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const flat = (value: unknown, prefix: string, out: Map<string, string>): Map<string, string> => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flat(v, prefix ? `${prefix}.${k}` : k, out);
    } else out.set(prefix, JSON.stringify(value));
    return out;
  };
  const before = flat(acked, '', new Map());
  const after = flat(current, '', new Map());
  const changes: string[] = [];
  for (const [path, value] of before) {
    const now = after.get(path);
    if (now !== value) changes.push(`${path} ${value} → ${now ?? 'absent'}`);
  }
  return changes;
}

/** Findings that fail a run: of a failOn kind, not pending, not acknowledged. */
export function failingFindings<F extends Finding & { acknowledgement?: Acknowledgement }>(
  findings: readonly F[],
  failOn: readonly FindingKind[],
): F[] {
  return (failingOf(findings, failOn) as F[]).filter((f) => !f.acknowledgement);
}

/** What identifies a finding from run to run (its cause may change; its identity does not). */
export function fingerprint(f: Finding): string {
  if (f.kind === 'invalid_input') {
    // The row's content, not its line: lines shift when an export is regenerated.
    const file = String(f.evidence.origin ?? '').replace(/:\d+$/, '');
    const { seq: _seq, ...row } = (f.evidence.row ?? {}) as Record<string, string>;
    return `invalid_input|${createHash('sha256')
      .update(`${file}|${f.key}|${String(f.evidence.reason ?? '')}|${JSON.stringify(row)}`)
      .digest('hex')
      .slice(0, 32)}`;
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
export async function previousUpstreamDays(
  client: pg.Client,
  scope: string,
): Promise<{ run: string; days: Record<string, number> } | undefined> {
  const res = await client.query<{ id: string; days: Record<string, number> }>(
    `select id, summary->'upstreamDays' as days from fapiao_guard.reconcile_runs
     where scope = $1 and jsonb_typeof(summary->'upstreamDays') = 'object' order by started_at desc limit 1`,
    [scope],
  );
  const row = res.rows[0];
  return row ? { run: row.id, days: row.days } : undefined;
}

/**
 * Record the run and its findings; returns each finding's history (same order, acknowledgements
 * included), what was resolved, and how many findings fail once acknowledgements are applied.
 * A run whose upstream shrank (shrink-guard.ts) resolves nothing and is not ok.
 */
export async function recordRun(
  client: pg.Client,
  run: RunRecord,
  findings: readonly Finding[],
): Promise<{ history: FindingHistory[]; resolved: number; escalated: number; failing: number; acknowledged: number }> {
  const prints = uniqueFingerprints(findings);
  await client.query('begin');
  try {
    const rows = await findingRows(client, run, findings, prints);
    const history = await upsertFindings(client, run, rows, prints);
    const resolved = run.upstreamShrank ? 0 : await resolveUnseen(client, run);
    await applyAcknowledgements(client, run, findings, prints, history);
    const withAcks = findings.map((f, i) => ({ ...f, ...history[i] }));
    const failing = failingFindings(withAcks, run.failOn).length;
    const acknowledged = history.filter((h) => h.acknowledgement).length;
    await insertRun(client, run, {
      failing,
      findings: findings.length,
      acknowledged,
      kinds: countKinds(findings),
      ...(run.upstreamDays ? { upstreamDays: run.upstreamDays } : {}),
      ...(run.upstreamShrank ? { upstreamShrank: run.upstreamShrank } : {}),
    });
    await client.query('commit');
    return { history, resolved, escalated: rows.filter((r) => r.escalate).length, failing, acknowledged };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

type FindingRow = ReturnType<typeof findingRow>;

/** The findings as rows to upsert; a missing invoice that was pending sync last time is escalated. */
async function findingRows(
  client: pg.Client,
  run: RunRecord,
  findings: readonly Finding[],
  prints: readonly string[],
): Promise<FindingRow[]> {
  const before = await client.query<{ fingerprint: string; cause: string | null }>(
    `select fingerprint, cause from fapiao_guard.reconcile_findings where scope = $1 and fingerprint = any($2::text[])`,
    [run.scope, prints],
  );
  const pendingBefore = new Set(before.rows.filter((r) => r.cause === 'pending_sync').map((r) => r.fingerprint));
  return findings.map((f, i) => findingRow(f, prints[i], pendingBefore));
}

function findingRow(f: Finding, fingerprint: string | undefined, pendingBefore: ReadonlySet<string>) {
  // still missing after the lag: escalated, whether or not a backup explains where it went
  const escalate =
    f.kind === 'missing' && (f.cause === undefined || f.cause === 'in_backup') && pendingBefore.has(fingerprint!);
  if (escalate) f.evidence.escalatedFrom = 'pending_sync';
  return {
    fingerprint,
    kind: f.kind,
    key: f.key,
    cause: f.cause ?? null,
    day: f.day ?? null,
    details: f,
    escalate,
  };
}

/** Inserts new findings and updates seen ones; each finding's history, in the order of `prints`. */
async function upsertFindings(
  client: pg.Client,
  run: RunRecord,
  rows: readonly FindingRow[],
  prints: readonly string[],
): Promise<FindingHistory[]> {
  const upserted = await client.query<{
    fingerprint: string;
    first_seen: Date;
    last_seen: Date;
    times_seen: number;
    escalated_at: Date | null;
  }>(
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
  const byPrint = new Map<string, FindingHistory>();
  for (const r of upserted.rows) {
    byPrint.set(r.fingerprint, {
      id: findingId(run.scope, r.fingerprint),
      firstSeen: r.first_seen.toISOString(),
      lastSeen: r.last_seen.toISOString(),
      timesSeen: r.times_seen,
      ...(r.escalated_at ? { escalatedAt: r.escalated_at.toISOString() } : {}),
    });
  }
  return prints.map((p) => byPrint.get(p)!);
}

/** Findings of the window this run did not see are resolved by it; how many. */
async function resolveUnseen(client: pg.Client, run: RunRecord): Promise<number> {
  const resolved = await client.query(
    `update fapiao_guard.reconcile_findings set resolved_at = $2, resolved_run = $3
           where scope = $1 and resolved_at is null and last_run <> $3 and (day is null or day between $4::date and $5::date)`,
    [run.scope, run.finishedAt, run.id, run.window.from, run.window.to],
  );
  return resolved.rowCount ?? 0;
}

async function insertRun(
  client: pg.Client,
  run: RunRecord,
  summary: { failing: number } & Record<string, unknown>,
): Promise<void> {
  await client.query(
    `insert into fapiao_guard.reconcile_runs (id, scope, started_at, finished_at, window_from, window_to, upstream, local, summary, ok)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      run.id,
      run.scope,
      run.startedAt,
      run.finishedAt,
      run.window.from,
      run.window.to,
      JSON.stringify(run.upstream),
      JSON.stringify(run.local),
      JSON.stringify(summary),
      summary.failing === 0 && !run.upstreamShrank,
    ],
  );
}

function countKinds(findings: readonly Finding[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of findings) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

/**
 * Attach the acknowledgement in force to each finding it still fits; end those whose finding
 * changed since (the finding is reopened: it fails again, and says who had accepted what).
 */
async function applyAcknowledgements(
  client: pg.Client,
  run: RunRecord,
  findings: readonly Finding[],
  prints: readonly string[],
  history: FindingHistory[],
): Promise<void> {
  const { rows } = await client.query<{
    id: string;
    fingerprint: string;
    acked_at: Date;
    acked_by: string;
    reason: string;
    acked_details: Record<string, unknown>;
  }>(
    `select id, fingerprint, acked_at, acked_by, reason, acked_details from fapiao_guard.reconcile_finding_acks
      where scope = $1 and fingerprint = any($2::text[]) and ended_at is null`,
    [run.scope, prints],
  );
  const acks = new Map(rows.map((r) => [r.fingerprint, r]));
  for (const [i, f] of findings.entries()) {
    const ack = acks.get(prints[i]!);
    if (!ack) continue;
    const given: Acknowledgement = { at: ack.acked_at.toISOString(), by: ack.acked_by, reason: ack.reason };
    const changes = substanceChanges(ack.acked_details, findingSubstance(f));
    if (changes.length === 0) {
      history[i]!.acknowledgement = given;
      continue;
    }
    await client.query(
      `update fapiao_guard.reconcile_finding_acks set ended_at = $2, ended_run = $3, end_reason = $4 where id = $1`,
      [ack.id, run.finishedAt, run.id, `reopened: changed since acknowledged (${changes.join('; ')})`],
    );
    history[i]!.reopened = { ...given, reopenedAt: run.finishedAt, changes };
  }
}

export interface FindingFilter {
  /** only unresolved findings */
  open?: boolean;
  scope?: string;
  kinds?: readonly string[];
  /** days (YYYY-MM-DD, inclusive); a finding without a day is left out when either is given */
  from?: string;
  to?: string;
  /** a seller tax ID (销方识别号) on either side */
  seller?: string;
  /** with `from`/`to`: also findings seen by a run within these instants, whatever their day (evidence packs) */
  seenWithin?: { from: string; to: string };
  /** every acknowledgement ever made, not only the one in force */
  ackHistory?: boolean;
}

/**
 * What findings are kept per: the two sides, by where they are, never by who reads them (a
 * password added to a URL, or another user, must not start a second set of findings).
 */
export function reconcileScope(localLocation: string, upstreamLocation: string): string {
  const withoutUser = (location: string): string => location.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, '$1');
  return `${withoutUser(localLocation)} <- ${withoutUser(upstreamLocation)}`;
}

export async function listFindings(client: pg.Client, filter: FindingFilter = {}): Promise<StoredFinding[]> {
  const { rows } = await client.query<{
    scope: string;
    fingerprint: string;
    kind: string;
    key: string;
    cause: string | null;
    day: string | null;
    first_seen: Date;
    last_seen: Date;
    times_seen: number;
    resolved_at: Date | null;
    escalated_at: Date | null;
    details: Finding;
  }>(
    `select scope, fingerprint, kind, key, cause, to_char(day, 'YYYY-MM-DD') as day, first_seen, last_seen, times_seen, resolved_at, escalated_at, details
     from fapiao_guard.reconcile_findings
     where ($1::boolean is not true or resolved_at is null) and ($2::text is null or scope = $2)
       and ($3::text[] is null or kind = any($3::text[]))
       and (($4::date is null and $5::date is null)
            or (day is not null and ($4::date is null or day >= $4::date) and ($5::date is null or day <= $5::date))
            or ($7::timestamptz is not null and last_seen >= $7::timestamptz and first_seen < $8::timestamptz))
       and ($6::text is null or details->'upstream'->>'sellerTaxId' = $6 or details->'local'->>'sellerTaxId' = $6)
     order by scope, resolved_at is not null, kind, day nulls last, key`,
    [
      filter.open ?? false,
      filter.scope ?? null,
      filter.kinds?.length ? filter.kinds : null,
      filter.from ?? null,
      filter.to ?? null,
      filter.seller ?? null,
      filter.seenWithin?.from ?? null,
      filter.seenWithin?.to ?? null,
    ],
  );
  const acks = await acknowledgementsOf(client, rows, filter.ackHistory ?? false);
  return rows.map((r) => {
    const mine = acks.get(`${r.scope}\n${r.fingerprint}`) ?? [];
    const current = mine.find((a) => a.endedAt === null);
    return {
      id: findingId(r.scope, r.fingerprint),
      scope: r.scope,
      fingerprint: r.fingerprint,
      kind: r.kind,
      key: r.key,
      cause: r.cause,
      day: r.day,
      firstSeen: r.first_seen.toISOString(),
      lastSeen: r.last_seen.toISOString(),
      timesSeen: r.times_seen,
      resolvedAt: r.resolved_at ? r.resolved_at.toISOString() : null,
      ...(r.escalated_at ? { escalatedAt: r.escalated_at.toISOString() } : {}),
      ...(current ? { acknowledgement: { at: current.at, by: current.by, reason: current.reason } } : {}),
      ...(filter.ackHistory ? { acknowledgements: mine } : {}),
      details: r.details,
    };
  });
}

/** Every scope with recorded findings. */
export async function listScopes(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ scope: string }>(
    'select distinct scope from fapiao_guard.reconcile_findings order by scope',
  );
  return rows.map((r) => r.scope);
}

async function acknowledgementsOf(
  client: pg.Client,
  findings: ReadonlyArray<{ scope: string; fingerprint: string }>,
  all: boolean,
): Promise<Map<string, NonNullable<StoredFinding['acknowledgements']>>> {
  const out = new Map<string, NonNullable<StoredFinding['acknowledgements']>>();
  if (findings.length === 0) return out;
  const { rows } = await client.query<{
    scope: string;
    fingerprint: string;
    acked_at: Date;
    acked_by: string;
    reason: string;
    ended_at: Date | null;
    end_reason: string | null;
  }>(
    `select a.scope, a.fingerprint, a.acked_at, a.acked_by, a.reason, a.ended_at, a.end_reason
       from fapiao_guard.reconcile_finding_acks a
       join jsonb_to_recordset($1::jsonb) as f(scope text, fingerprint text) on f.scope = a.scope and f.fingerprint = a.fingerprint
      where $2::boolean or a.ended_at is null
      order by a.id`,
    [JSON.stringify(findings.map((f) => ({ scope: f.scope, fingerprint: f.fingerprint }))), all],
  );
  for (const r of rows) {
    const key = `${r.scope}\n${r.fingerprint}`;
    const list = out.get(key) ?? [];
    list.push({
      at: r.acked_at.toISOString(),
      by: r.acked_by,
      reason: r.reason,
      endedAt: r.ended_at ? r.ended_at.toISOString() : null,
      endReason: r.end_reason,
    });
    out.set(key, list);
  }
  return out;
}

/**
 * `findings ack`: accept or explain one open finding, named by its short id (or a prefix of at
 * least 4 digits) or by its invoice key. A finding acknowledged before gets the new reason; the
 * old acknowledgement is kept, ended.
 */
export async function acknowledgeFinding(
  client: pg.Client,
  ref: string,
  ack: { reason: string; by: string; scope?: string; now?: Date },
): Promise<StoredFinding> {
  const open = await listFindings(client, { open: true, ...(ack.scope ? { scope: ack.scope } : {}) });
  const needle = ref.trim();
  const byId = /^[0-9a-f]{4,8}$/i.test(needle) ? open.filter((f) => f.id.startsWith(needle.toLowerCase())) : [];
  const matches = byId.length > 0 ? byId : open.filter((f) => f.key === needle);
  if (matches.length === 0) {
    const resolved = (await listFindings(client, ack.scope ? { scope: ack.scope } : {})).filter(
      (f) => f.id.startsWith(needle.toLowerCase()) || f.key === needle,
    );
    if (resolved.length > 0)
      throw new UsageError(
        `finding '${needle}' is resolved (${resolved[0]!.resolvedAt ?? ''}); only open findings are acknowledged`,
      );
    throw new UsageError(`no open finding '${needle}'${ack.scope ? ` in scope '${ack.scope}'` : ''}`, {
      hint: "'fapiao-guard findings --open' lists the ids",
    });
  }
  if (matches.length > 1) {
    throw new UsageError(
      `'${needle}' names ${matches.length} open findings: ${matches
        .slice(0, 6)
        .map((f) => `${f.id} (${f.kind} ${f.key || String(f.details.evidence.origin ?? '')})`)
        .join(', ')}${matches.length > 6 ? ', …' : ''}`,
      { hint: 'give the id of one' },
    );
  }
  const f = matches[0]!;
  const at = (ack.now ?? new Date()).toISOString();
  await client.query('begin');
  try {
    await client.query(
      `update fapiao_guard.reconcile_finding_acks set ended_at = $3, end_reason = 'replaced by a later acknowledgement' where scope = $1 and fingerprint = $2 and ended_at is null`,
      [f.scope, f.fingerprint, at],
    );
    await client.query(
      `insert into fapiao_guard.reconcile_finding_acks (scope, fingerprint, acked_at, acked_by, reason, acked_details) values ($1, $2, $3, $4, $5, $6)`,
      [f.scope, f.fingerprint, at, ack.by, ack.reason, JSON.stringify(findingSubstance(f.details))],
    );
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
  return { ...f, acknowledgement: { at, by: ack.by, reason: ack.reason } };
}
