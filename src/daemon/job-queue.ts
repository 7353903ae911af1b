// The work queue shared by every daemon on one state database: graphile-worker, in the state schema
// (docs/JOBS.md says why this engine). A claimed fire time becomes one queue job, added inside the
// claim's transaction; each daemon's worker pool takes at most daemon.concurrency of them at a time,
// and a queue per (job, target) lets only one of its runs go at once across all hosts. The jobs of
// a daemon that died are released to the others (releaseWorkers) as soon as a sweep notices.
import { EventEmitter } from 'node:events';
import { Logger as QueueLogger, type Task, type WorkerEvents, run as runQueue, runMigrations } from 'graphile-worker';
import type pg from 'pg';
import type { JobName } from '../../jobs/index.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { STATE_SCHEMA } from '../core/state/migrate.js';
import type { Trigger } from './job-runs.js';

/** The one task the queue runs: a claimed fire time of a job. */
export const RUN_TASK = 'fapiao_guard_run';

/** What a queue job carries: the fire time it stands for (job_runs has the rest). */
export interface QueuedFireTime {
  job: JobName;
  target: string;
  fireTime: string;
  trigger: Trigger;
}

/**
 * The queue may try a job this many times beyond the job's own attempts: an attempt refused because
 * another run of the same job and target still holds the lock is retried by the queue, but it is not
 * an attempt at the work (job_runs counts those).
 */
const QUEUE_SLACK = 10;

/** Installs or upgrades graphile-worker's tables and functions in the state schema. */
export async function installQueue(pool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, schema: STATE_SCHEMA, logger: queueLogger(logger) });
}

/** Adds the queue job of a claimed fire time, in the caller's transaction (the claim's). */
export async function enqueue(client: pg.PoolClient, fire: QueuedFireTime, maxAttempts: number): Promise<void> {
  await client.query(
    `select ${STATE_SCHEMA}.add_job($1, $2::json, queue_name => $3, max_attempts => $4, job_key => $5)`,
    [
      RUN_TASK,
      JSON.stringify(fire),
      `${fire.job}/${fire.target}`,
      maxAttempts + QUEUE_SLACK,
      `${fire.job}/${fire.target}/${fire.fireTime}`,
    ],
  );
}

export interface WorkerPoolOptions {
  pool: pg.Pool;
  concurrency: number;
  logger: Logger;
  /** runs one fire time; throws to hand it back to the queue (retried later, by any daemon) */
  work: (fire: QueuedFireTime) => Promise<void>;
  /** the worker pool's id, as it is created: recorded so that other daemons can release its jobs */
  onWorker: (workerId: string) => void;
}

/** This daemon's queue workers, and the repair of what graphile-worker could not write down. */
export interface QueueWorkers {
  /** stops taking jobs and waits for the running ones */
  stop(): Promise<void>;
  /**
   * Finishes, in the queue table, the jobs whose task ended here but whose completion (or hand-back)
   * graphile-worker could not write because the state database was unreachable at that moment: such
   * a job stays locked by this pool, and so does its (job, target) queue, which would hold back every
   * later fire time of that target for graphile-worker's 4-hour lock expiry. Returns how many.
   */
  repairLostCompletions(pool: pg.Pool): Promise<number>;
}

/** A job whose task ended in this process: kept until the queue table shows graphile-worker recorded it. */
interface SettledJob {
  id: string;
  attempts: number;
  ok: boolean;
  message: string;
  at: number;
}

/** graphile-worker's own completion gets this long before a job still locked by us counts as lost. */
const COMPLETION_GRACE_MS = 5000;

/** Starts this daemon's workers; `stop()` on the result stops taking jobs and waits for the running ones. */
export async function startWorkers(o: WorkerPoolOptions): Promise<QueueWorkers> {
  const events: WorkerEvents = new EventEmitter();
  let poolId: string | undefined;
  // jobs are locked in the name of the pool (graphile-worker's getJobs), not of its single workers
  events.on('pool:create', ({ workerPool }) => {
    poolId = workerPool.id;
    o.onWorker(workerPool.id);
  });
  const settled = new Map<string, SettledJob>();
  const task: Task = async (payload, helpers) => {
    const { id, attempts } = helpers.job;
    try {
      await o.work(payload as QueuedFireTime);
      settled.set(id, { id, attempts, ok: true, message: '', at: Date.now() });
    } catch (err) {
      settled.set(id, { id, attempts, ok: false, message: messageOf(err), at: Date.now() });
      throw err;
    }
  };
  // graphile-worker 0.17 does not await the write that completes (or hands back) a finished job
  // (node_modules/graphile-worker/dist/worker.js, `completeJob(job)`), and a connection error there
  // is not one it retries: with the state database gone at that moment, the rejection is unhandled
  // and would end the daemon. Those are logged here and repaired by repairLostCompletions; any other
  // unhandled rejection still ends the process, as without this listener.
  const lostWrite = (reason: unknown): void => {
    if (!isQueueBookkeeping(reason)) throw reason;
    o.logger.warn(
      { err: messageOf(reason) },
      'queue: a finished job could not be recorded (state database unreachable); repaired once it answers',
    );
  };
  process.on('unhandledRejection', lostWrite);
  const runner = await runQueue({
    pgPool: o.pool,
    schema: STATE_SCHEMA,
    concurrency: o.concurrency,
    noHandleSignals: true,
    // new jobs arrive by LISTEN/NOTIFY at once; polling only finds retries and released jobs
    pollInterval: 1000,
    taskList: { [RUN_TASK]: task },
    logger: queueLogger(o.logger),
    events,
  }).catch((err: unknown) => {
    process.off('unhandledRejection', lostWrite);
    throw err;
  });
  // the pool ends with an error when the state database goes away for good: logged, never unhandled
  runner.promise.catch((err: unknown) =>
    o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'queue workers stopped with an error'),
  );
  return {
    stop: () => runner.stop().finally(() => process.off('unhandledRejection', lostWrite)),
    repairLostCompletions: async (pool) => (poolId ? repairSettled(pool, poolId, settled) : 0),
  };
}

/** A rejection from graphile-worker's write of a finished job (its completeJobs / failJobs). */
function isQueueBookkeeping(reason: unknown): boolean {
  return (
    reason instanceof Error &&
    /graphile-worker[\\/]dist[\\/]sql[\\/](completeJobs|failJobs)\.js/.test(reason.stack ?? '')
  );
}

async function repairSettled(pool: pg.Pool, poolId: string, settled: Map<string, SettledJob>): Promise<number> {
  if (settled.size === 0) return 0;
  const { rows } = await pool.query<{ id: string; attempts: number; locked_by: string | null }>(
    `select id::text, attempts, locked_by from ${STATE_SCHEMA}._private_jobs where id = any($1::bigint[])`,
    [[...settled.keys()]],
  );
  const inTable = new Map(rows.map((r) => [r.id, r]));
  let repaired = 0;
  for (const job of [...settled.values()]) {
    const row = inTable.get(job.id);
    // gone (completed), handed back (unlocked) or taken again (a later attempt): recorded, nothing lost
    if (!row || row.attempts !== job.attempts || row.locked_by !== poolId) {
      settled.delete(job.id);
      continue;
    }
    if (Date.now() - job.at < COMPLETION_GRACE_MS) continue;
    // the statements of graphile-worker 0.17's completeJobs / failJobs (node_modules/graphile-worker/dist/sql/),
    // for one job and only while this pool still holds it
    await pool.query(
      job.ok
        ? `with j as (delete from ${STATE_SCHEMA}._private_jobs where id = $1::bigint and locked_by = $2 returning job_queue_id)
           update ${STATE_SCHEMA}._private_job_queues q set locked_by = null, locked_at = null
           from j where q.id = j.job_queue_id and q.locked_by = $2`
        : `with j as (update ${STATE_SCHEMA}._private_jobs set last_error = $3, locked_by = null, locked_at = null,
             run_at = greatest(now(), run_at) + (exp(least(attempts, 10)) * interval '1 second')
             where id = $1::bigint and locked_by = $2 returning job_queue_id)
           update ${STATE_SCHEMA}._private_job_queues q set locked_by = null, locked_at = null
           from j where q.id = j.job_queue_id and q.locked_by = $2`,
      job.ok ? [job.id, poolId] : [job.id, poolId, job.message],
    );
    settled.delete(job.id);
    repaired++;
  }
  return repaired;
}

/** Releases the queue jobs (and per-target queues) held by the workers of a daemon that died. */
export async function releaseWorkers(pool: pg.Pool, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pool.query(`select ${STATE_SCHEMA}.force_unlock_workers($1::text[])`, [workerIds]);
}

/** graphile-worker's log lines into ours: its errors are our warnings (a job's failure is logged by the runner). */
function queueLogger(logger: Logger): QueueLogger {
  const log = logger.child({ component: 'queue' });
  return new QueueLogger(() => (level, message, meta) => {
    const fields = queueFields(meta);
    if (level === 'error' || level === 'warning') log.warn(fields, message);
    else log.debug(fields, message);
  });
}

/**
 * graphile-worker's log fields, made loggable: an error becomes its message (pg hangs the whole client,
 * connection parameters and all, on its errors), a job its id; other objects are left out.
 */
function queueFields(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value instanceof Error) fields[key] = messageOf(value);
    else if (value === null || typeof value !== 'object') fields[key] = value;
    else if (key === 'job' && 'id' in value) fields.jobId = (value as { id: unknown }).id;
  }
  return fields;
}
