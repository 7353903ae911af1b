// The work queue shared by every daemon on one state database: graphile-worker, in the state schema
// (docs/JOBS.md says why this engine). A claimed fire time becomes one queue job, added inside the
// claim's transaction; each daemon's worker pool takes at most daemon.concurrency of them at a time,
// and a queue per (job, target) lets only one of its runs go at once across all hosts. The jobs of
// a daemon that died are released to the others (releaseWorkers) as soon as a sweep notices.
import { EventEmitter } from 'node:events';
import {
  Logger as QueueLogger,
  type Runner,
  type Task,
  type WorkerEvents,
  run as runQueue,
  runMigrations,
} from 'graphile-worker';
import type pg from 'pg';
import type { JobName } from '../../jobs/index.js';
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

/** Starts this daemon's workers; `stop()` on the result stops taking jobs and waits for the running ones. */
export async function startWorkers(o: WorkerPoolOptions): Promise<Runner> {
  const events: WorkerEvents = new EventEmitter();
  // jobs are locked in the name of the pool (graphile-worker's getJobs), not of its single workers
  events.on('pool:create', ({ workerPool }) => o.onWorker(workerPool.id));
  const task: Task = async (payload) => o.work(payload as QueuedFireTime);
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
  });
  // the pool ends with an error when the state database goes away for good: logged, never unhandled
  runner.promise.catch((err: unknown) =>
    o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'queue workers stopped with an error'),
  );
  return runner;
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
    const fields = { ...(meta ?? {}) };
    if (level === 'error' || level === 'warning') log.warn(fields, message);
    else log.debug(fields, message);
  });
}
