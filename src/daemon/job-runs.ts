// The job_runs table (migrations 0004, 0007): claiming a fire time (the lease), the no-overlap lock,
// starting an attempt, heartbeats, finishing, and marking runs whose daemon died. One SQL statement
// per function where it can be, like graphile-worker.
import type pg from 'pg';
import type { JobName } from '../../jobs/index.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';
export type Trigger = 'schedule' | 'catch-up' | 'manual';

export interface RunRow {
  id: number;
  job: string;
  target: string;
  fireTime: string;
  trigger: Trigger;
  host: string;
  pid: number;
  status: RunStatus;
  /** 1 for the first attempt at a fire time; a retry after a lost attempt is the next row */
  attempt: number;
  maxAttempts: number;
  startedAt: string;
  heartbeatAt: string;
  finishedAt: string | null;
  isFailure: boolean;
  error: string | null;
  summary: string | null;
  details: Record<string, unknown> | null;
}

export interface ClaimRequest {
  job: JobName;
  target: string;
  fireTime: Date;
  trigger: Trigger;
  host: string;
  pid: number;
  /** catch-up only: claim only when no run of a later (or equal) fire time exists */
  onlyIfNewest?: boolean;
  /** attempts the fire time gets (the job's retry policy) */
  maxAttempts: number;
  /**
   * Hands the claimed fire time to the queue inside the claim's transaction (the row is 'queued'
   * until a worker starts it); without it the caller runs the fire time itself (row 'running').
   */
  enqueue?: (client: pg.PoolClient) => Promise<void>;
}

export type Claim =
  | { kind: 'claimed'; runId: number }
  /** another daemon already has this fire time (or a later one, for catch-up) */
  | { kind: 'taken' }
  /** the previous run still holds the lock: this fire time is recorded as skipped */
  | { kind: 'overlap'; runId: number; holder: { id: number; host: string; pid: number; startedAt: string } };

/** pg_advisory_xact_lock class for claims: 'fgjb' */
const CLAIM_LOCK = 0x66676a62;
const COLUMNS = `id, job, target, fire_time, trigger, host, pid, status, attempt, max_attempts, started_at, heartbeat_at, finished_at, is_failure, error, summary, details`;

/** Claims run serialised per (job, target), so the lease check and the lock check cannot race. */
export async function claimRun(pool: pg.Pool, req: ClaimRequest): Promise<Claim> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [CLAIM_LOCK, `${req.job}/${req.target}`]);
    const taken = await client.query(
      `select 1 from fapiao_guard.job_runs where job = $1 and target = $2 and (fire_time = $3 or ($4 and fire_time > $3)) limit 1`,
      [req.job, req.target, req.fireTime, req.onlyIfNewest ?? false],
    );
    if (taken.rowCount) {
      await client.query('commit');
      return { kind: 'taken' };
    }
    // a fire time still queued or running holds the lock: a queue never piles up fire times of one job
    const running = await client.query<{ id: string; host: string; pid: number; started_at: Date; status: RunStatus }>(
      `select id, host, pid, started_at, status from fapiao_guard.job_runs where job = $1 and target = $2 and status in ('running', 'queued')
       order by id limit 1`,
      [req.job, req.target],
    );
    const holder = running.rows[0];
    const status: RunStatus = holder ? 'skipped' : req.enqueue ? 'queued' : 'running';
    const error = holder
      ? `previous run #${holder.id} (host ${holder.host}, pid ${holder.pid}, ${holder.status === 'queued' ? 'queued' : 'started'} ${holder.started_at.toISOString()}) is still ${holder.status}`
      : null;
    const inserted = await client.query<{ id: string }>(
      `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, error, finished_at, max_attempts)
       values ($1, $2, $3, $4, $5, $6, $7, $8, case when $7 = 'skipped' then now() end, $9) returning id`,
      [req.job, req.target, req.fireTime, req.trigger, req.host, req.pid, status, error, req.maxAttempts],
    );
    if (status === 'queued') await req.enqueue!(client);
    await client.query('commit');
    const runId = Number(inserted.rows[0]!.id);
    if (!holder) return { kind: 'claimed', runId };
    return {
      kind: 'overlap',
      runId,
      holder: { id: Number(holder.id), host: holder.host, pid: holder.pid, startedAt: holder.started_at.toISOString() },
    };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface AttemptRequest {
  job: JobName;
  target: string;
  fireTime: Date;
  host: string;
  pid: number;
}

export type Attempt =
  | { kind: 'started'; runId: number; attempt: number; maxAttempts: number; trigger: Trigger }
  /** the fire time already has an outcome (or its attempts are used up): nothing to run */
  | { kind: 'done'; why: string }
  /** a later fire time of the job and target has run or is queued: redoing this one is pointless */
  | { kind: 'superseded'; by: string }
  /** another attempt of the job and target is still running (its daemon not yet found dead) */
  | { kind: 'busy'; holder: number };

/**
 * A worker starts a queued fire time: the claim's 'queued' row becomes 'running' here, or, when an
 * earlier attempt was lost (interrupted), the next attempt gets a row of its own. Serialised with
 * claims per (job, target), under the same lock.
 */
export async function startAttempt(pool: pg.Pool, req: AttemptRequest): Promise<Attempt> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [CLAIM_LOCK, `${req.job}/${req.target}`]);
    const rows = await client.query<{
      id: string;
      status: RunStatus;
      attempt: number;
      max_attempts: number;
      trigger: Trigger;
    }>(
      `select id, status, attempt, max_attempts, trigger from fapiao_guard.job_runs where job = $1 and target = $2 and fire_time = $3 order by attempt desc, id desc`,
      [req.job, req.target, req.fireTime],
    );
    const latest = rows.rows[0];
    const result = await attemptFor(client, req, latest);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function attemptFor(
  client: pg.PoolClient,
  req: AttemptRequest,
  latest: { id: string; status: RunStatus; attempt: number; max_attempts: number; trigger: Trigger } | undefined,
): Promise<Attempt> {
  if (!latest) return { kind: 'done', why: 'no claim of this fire time in job history (deleted)' };
  if (latest.status === 'succeeded' || latest.status === 'failed' || latest.status === 'skipped')
    return { kind: 'done', why: `already ${latest.status}` };
  if (latest.status === 'running') return { kind: 'busy', holder: Number(latest.id) };
  const later = await client.query<{ id: string; status: RunStatus }>(
    `select id, status from fapiao_guard.job_runs where job = $1 and target = $2 and fire_time > $3 and status <> 'skipped' order by id limit 1`,
    [req.job, req.target, req.fireTime],
  );
  if (later.rows[0] && latest.status !== 'queued')
    return { kind: 'superseded', by: `run #${later.rows[0].id} (${later.rows[0].status})` };
  const busy = await client.query<{ id: string }>(
    `select id from fapiao_guard.job_runs where job = $1 and target = $2 and status = 'running' limit 1`,
    [req.job, req.target],
  );
  if (busy.rows[0]) return { kind: 'busy', holder: Number(busy.rows[0].id) };
  if (latest.status === 'queued') {
    await client.query(
      `update fapiao_guard.job_runs set status = 'running', host = $2, pid = $3, started_at = now(), heartbeat_at = now() where id = $1`,
      [latest.id, req.host, req.pid],
    );
    return {
      kind: 'started',
      runId: Number(latest.id),
      attempt: latest.attempt,
      maxAttempts: latest.max_attempts,
      trigger: latest.trigger,
    };
  }
  // the latest attempt was interrupted: its daemon died or was stopped, so the fire time gets another
  const attempt = latest.attempt + 1;
  if (attempt > latest.max_attempts) return { kind: 'done', why: `all ${latest.max_attempts} attempt(s) used` };
  const inserted = await client.query<{ id: string }>(
    `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, attempt, max_attempts)
     values ($1, $2, $3, $4, $5, $6, 'running', $7, $8) returning id`,
    [req.job, req.target, req.fireTime, latest.trigger, req.host, req.pid, attempt, latest.max_attempts],
  );
  return {
    kind: 'started',
    runId: Number(inserted.rows[0]!.id),
    attempt,
    maxAttempts: latest.max_attempts,
    trigger: latest.trigger,
  };
}

/** false when the row is no longer ours to run (another daemon marked it interrupted). */
export async function heartbeat(pool: pg.Pool, runId: number): Promise<boolean> {
  const res = await pool.query(
    `update fapiao_guard.job_runs set heartbeat_at = now() where id = $1 and status = 'running'`,
    [runId],
  );
  return (res.rowCount ?? 0) > 0;
}

export interface Finish {
  status: Exclude<RunStatus, 'queued' | 'running' | 'skipped'>;
  isFailure: boolean;
  error: string | null;
  summary: string | null;
  details: Record<string, unknown> | null;
}

export async function finishRun(pool: pg.Pool, runId: number, f: Finish): Promise<boolean> {
  const res = await pool.query(
    `update fapiao_guard.job_runs set status = $2, is_failure = $3, error = $4, summary = $5, details = $6, finished_at = now(), heartbeat_at = now()
     where id = $1 and status = 'running'`,
    [runId, f.status, f.isFailure, f.error, f.summary, f.details === null ? null : JSON.stringify(f.details)],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Runs whose heartbeat stopped longer than `staleAfter` seconds ago, or whose process on this host is
 * gone, become `interrupted` (a failure: nobody shut them down cleanly). Returns the rows it marked.
 * `own`: runs the calling process holds; never marked, however late their heartbeat (a blocked
 * event loop delays it, but the run is alive and its own runner decides when to give up).
 */
export async function markStaleRuns(
  pool: pg.Pool,
  staleAfter: number,
  host: string,
  isAlive: (pid: number) => boolean,
  own: readonly number[] = [],
): Promise<RunRow[]> {
  const local = await pool.query<{ pid: number }>(
    `select distinct pid from fapiao_guard.job_runs where status = 'running' and host = $1 and pid <> $2`,
    [host, process.pid],
  );
  const dead = local.rows.map((r) => r.pid).filter((pid) => !isAlive(pid));
  const res = await pool.query(
    `update fapiao_guard.job_runs set status = 'interrupted', is_failure = true, finished_at = now(),
       error = case when host = $2 and pid = any($3::int[])
         then 'the process running it (host ' || host || ', pid ' || pid || ') ended without finishing: crash or kill'
         else 'no heartbeat since ' || to_char(heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' from host ' || host || ', pid ' || pid || ': the daemon died or lost the state database' end
     where status = 'running' and (heartbeat_at < now() - make_interval(secs => $1) or (host = $2 and pid = any($3::int[])))
       and not (id = any($4::bigint[]))
     returning ${COLUMNS}`,
    [staleAfter, host, dead, own],
  );
  return res.rows.map(toRow);
}

/** The last finished, not skipped, run before `runId`: was it a failure? (for `recovery`) */
export async function previousWasFailure(pool: pg.Pool, runId: number, job: string, target: string): Promise<boolean> {
  const res = await pool.query<{ is_failure: boolean }>(
    `select is_failure from fapiao_guard.job_runs where job = $1 and target = $2 and id < $3 and status in ('succeeded', 'failed', 'interrupted')
     order by id desc limit 1`,
    [job, target, runId],
  );
  return res.rows[0]?.is_failure ?? false;
}

/** The latest scheduled (or caught-up) fire time of a job and target: where catch-up starts. */
export async function lastFireTime(pool: pg.Pool | pg.Client, job: string, target: string): Promise<Date | undefined> {
  const res = await pool.query<{ t: Date | null }>(
    `select max(fire_time) as t from fapiao_guard.job_runs where job = $1 and target = $2 and trigger <> 'manual'`,
    [job, target],
  );
  return res.rows[0]?.t ?? undefined;
}

export async function listRuns(
  db: pg.Pool | pg.Client,
  options: { job?: string; target?: string; limit: number; includeSkipped?: boolean },
): Promise<RunRow[]> {
  const res = await db.query(
    `select * from (select ${COLUMNS} from fapiao_guard.job_runs
       where ($1::text is null or job = $1) and ($2::text is null or target = $2) and ($4 or status <> 'skipped')
       order by id desc limit $3) recent order by id`,
    [options.job ?? null, options.target ?? null, options.limit, options.includeSkipped ?? false],
  );
  return res.rows.map(toRow);
}

export interface JobSummary {
  job: string;
  target: string;
  last: RunRow;
  lastSuccessAt: string | null;
  lastSuccessSeconds: number | null;
  lastSuccessDetails: Record<string, unknown> | null;
  failures: number;
  runs: number;
}

/** Per (job, target): the last run (not skipped), the last success and counts, for status and metrics. */
export async function jobSummaries(db: pg.Pool | pg.Client): Promise<JobSummary[]> {
  const res = await db.query(
    `select distinct on (job, target) ${COLUMNS},
       (select max(finished_at) from fapiao_guard.job_runs s where s.job = r.job and s.target = r.target and s.status = 'succeeded') as last_success_at,
       (select extract(epoch from finished_at - started_at) from fapiao_guard.job_runs s where s.job = r.job and s.target = r.target and s.status = 'succeeded' order by id desc limit 1) as last_success_seconds,
       (select details from fapiao_guard.job_runs s where s.job = r.job and s.target = r.target and s.status = 'succeeded' order by id desc limit 1) as last_success_details,
       (select count(*) from fapiao_guard.job_runs s where s.job = r.job and s.target = r.target and s.is_failure) as failures,
       (select count(*) from fapiao_guard.job_runs s where s.job = r.job and s.target = r.target and s.status not in ('skipped', 'queued')) as runs
     from fapiao_guard.job_runs r where status not in ('skipped', 'queued') order by job, target, id desc`,
  );
  return res.rows.map((r) => ({
    job: r.job,
    target: r.target,
    last: toRow(r),
    lastSuccessAt: r.last_success_at ? (r.last_success_at as Date).toISOString() : null,
    lastSuccessSeconds: r.last_success_seconds === null ? null : Number(r.last_success_seconds),
    lastSuccessDetails: r.last_success_details ?? null,
    failures: Number(r.failures),
    runs: Number(r.runs),
  }));
}

/** History older than `seconds` goes, except the newest row of each job and target (catch-up needs it). */
export async function deleteOldRuns(pool: pg.Pool, seconds: number): Promise<number> {
  const res = await pool.query(
    `delete from fapiao_guard.job_runs where status not in ('running', 'queued') and started_at < now() - make_interval(secs => $1)
       and id not in (select max(id) from fapiao_guard.job_runs group by job, target)`,
    [seconds],
  );
  return res.rowCount ?? 0;
}

function toRow(r: Record<string, unknown>): RunRow {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
  return {
    id: Number(r.id),
    job: r.job as string,
    target: r.target as string,
    fireTime: iso(r.fire_time)!,
    trigger: r.trigger as Trigger,
    host: r.host as string,
    pid: r.pid as number,
    status: r.status as RunStatus,
    attempt: Number(r.attempt ?? 1),
    maxAttempts: Number(r.max_attempts ?? 1),
    startedAt: iso(r.started_at)!,
    heartbeatAt: iso(r.heartbeat_at)!,
    finishedAt: iso(r.finished_at),
    isFailure: r.is_failure as boolean,
    error: (r.error as string | null) ?? null,
    summary: (r.summary as string | null) ?? null,
    details: (r.details as Record<string, unknown> | null) ?? null,
  };
}

export interface HostQueueStats {
  host: string;
  running: number;
  /** attempts after the first (a fire time redone because an attempt was lost) started on this host */
  retried: number;
  /** runs that failed, or were interrupted by a crash, on this host */
  failed: number;
  succeeded: number;
}

export interface QueueStats {
  /** fire times claimed and waiting for a free worker on any daemon */
  queued: number;
  hosts: HostQueueStats[];
}

/** Queued fire times, and per host what runs, was retried and failed (over the kept history). */
export async function queueStats(db: pg.Pool | pg.Client): Promise<QueueStats> {
  const queued = await db.query<{ n: string }>(
    `select count(*) as n from fapiao_guard.job_runs where status = 'queued'`,
  );
  const hosts = await db.query<{ host: string; running: string; retried: string; failed: string; succeeded: string }>(
    `select host, count(*) filter (where status = 'running') as running, count(*) filter (where attempt > 1) as retried,
       count(*) filter (where is_failure) as failed, count(*) filter (where status = 'succeeded') as succeeded
     from fapiao_guard.job_runs where status not in ('queued', 'skipped') group by host order by host`,
  );
  return {
    queued: Number(queued.rows[0]!.n),
    hosts: hosts.rows.map((r) => ({
      host: r.host,
      running: Number(r.running),
      retried: Number(r.retried),
      failed: Number(r.failed),
      succeeded: Number(r.succeeded),
    })),
  };
}
