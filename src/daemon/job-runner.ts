// Runs one claimed fire time of a job: heartbeat while it runs, abort when the daemon stops or the
// lease is lost, record the outcome, notify. The same path for the daemon's queue workers and for
// `run <job>` and `prune` (src/daemon/run-now.ts).
import { hostname } from 'node:os';
import type pg from 'pg';
import type { JobName } from '../../jobs/index.js';
import type { Config } from '../core/config/config.js';
import { InterruptedError, isFgError, messageOf } from '../core/errors.js';
import { type AnyJob, type JobResult, type RunScope, historyTarget, runJob } from './job.js';
import type { Logger } from '../core/logger.js';
import { NotifyDispatcher } from './notify/dispatcher.js';
import { type RunFacts, buildMessage, eventsFor } from './notify/message.js';
import type { Repository } from '../core/repository/repository.js';
import { type Finish, type Trigger, finishRun, heartbeat, previousWasFailure } from './job-runs.js';

export interface RunnerDeps {
  config: Config;
  logger: Logger;
  repo: Repository;
  pool: pg.Pool;
  notifier: NotifyDispatcher;
  /** seconds between heartbeats */
  heartbeat: number;
  /** seconds: past this without a successful heartbeat we no longer hold the lock and stop */
  staleAfter: number;
}

export interface RunOutcome {
  runId: number;
  attempt: number;
  job: string;
  target: string;
  status: Finish['status'];
  summary: string | null;
  error: string | null;
  seconds: number;
  details: Record<string, unknown> | null;
}

/** Raised into the job's signal when the daemon shuts down: the run ends as `interrupted`, not a failure. */
export class ShutdownError extends InterruptedError {}

/** A job to run for a scope: what a claim names. */
export interface RunSpec {
  name: JobName;
  job: AnyJob;
  scope: RunScope;
}

export interface ClaimedRun {
  runId: number;
  fireTime: Date;
  trigger: Trigger;
  attempt?: number;
  maxAttempts?: number;
}

export async function runClaimed(
  deps: RunnerDeps,
  spec: RunSpec,
  claim: ClaimedRun,
  stop: AbortSignal,
): Promise<RunOutcome> {
  const { runId } = claim;
  const target = historyTarget(spec.scope);
  const attempt = claim.attempt ?? 1;
  const log = deps.logger.child({
    job: spec.name,
    target,
    run: runId,
    trigger: claim.trigger,
    ...(attempt > 1 ? { attempt } : {}),
  });
  const controller = new AbortController();
  const onStop = () => controller.abort(stop.reason);
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  const beat = startHeartbeat(deps, runId, controller, log);

  const started = performance.now();
  log.info({ fireTime: claim.fireTime.toISOString() }, 'job started');
  let finish: Finish;
  try {
    finish = await runToFinish(deps, spec, log, controller.signal);
  } finally {
    clearInterval(beat);
    stop.removeEventListener('abort', onStop);
  }
  const seconds = (performance.now() - started) / 1000;
  const recorded = await retry(() => finishRun(deps.pool, runId, finish), 3).catch((err: unknown) => {
    log.error({ err: messageOf(err) }, 'could not record the run; the next daemon marks it interrupted');
    return false;
  });
  log[finish.status === 'succeeded' ? 'info' : 'warn'](
    { status: finish.status, seconds: round(seconds), error: finish.error ?? undefined, recorded },
    `job ${finish.status}`,
  );
  const fireTime = claim.fireTime.toISOString();
  await notifyOutcome(deps, { runId, job: spec.name, target, fireTime, ...finish, seconds });
  return {
    runId,
    attempt,
    job: spec.name,
    target,
    status: finish.status,
    summary: finish.summary,
    error: finish.error,
    seconds,
    details: finish.details,
  };
}

/**
 * Beats every `deps.heartbeat` seconds; aborts the run when another daemon has marked it
 * interrupted, or when the state database has been out of reach for longer than `deps.staleAfter`.
 */
function startHeartbeat(deps: RunnerDeps, runId: number, controller: AbortController, log: Logger): NodeJS.Timeout {
  let lastBeat = Date.now();
  const beat = setInterval(() => {
    heartbeat(deps.pool, runId).then(
      (mine) => {
        lastBeat = Date.now();
        if (!mine)
          controller.abort(
            new InterruptedError(
              `run #${runId} was marked interrupted by another daemon (its heartbeat was late); stopping`,
            ),
          );
      },
      (err: unknown) => {
        log.warn({ err: messageOf(err) }, 'heartbeat failed');
        if (Date.now() - lastBeat > deps.staleAfter * 1000)
          controller.abort(
            new InterruptedError(
              `run #${runId} lost the state database for over ${deps.staleAfter}s; stopping so that another daemon can take over`,
            ),
          );
      },
    );
  }, deps.heartbeat * 1000);
  beat.unref();
  return beat;
}

/** Runs the job; how it ended (an abort's reason says whether it was interrupted or stopped). */
async function runToFinish(deps: RunnerDeps, spec: RunSpec, log: Logger, signal: AbortSignal): Promise<Finish> {
  try {
    const result: JobResult = await runJob(
      spec.job,
      { config: deps.config, logger: log, repo: deps.repo, signal },
      spec.scope,
    );
    return {
      status: result.ok ? 'succeeded' : 'failed',
      isFailure: !result.ok,
      error: result.ok ? null : result.summary,
      summary: result.summary,
      details: result.details,
    };
  } catch (err) {
    const reason = signal.reason as unknown;
    if (signal.aborted) {
      const cause = isFgError(reason) ? reason.message : messageOf(err);
      return {
        status: 'interrupted',
        isFailure: !(reason instanceof ShutdownError),
        error: cause,
        summary: null,
        details: null,
      };
    }
    return { status: 'failed', isFailure: true, error: messageOf(err), summary: null, details: null };
  }
}

/** Events for a finished run, sent in the background (the dispatcher never throws). */
export async function notifyOutcome(
  deps: Pick<RunnerDeps, 'pool' | 'notifier' | 'config' | 'logger'>,
  run: Finish & { runId: number; job: string; target: string; fireTime: string; seconds: number; host?: string },
): Promise<void> {
  if (run.status === 'interrupted' && !run.isFailure) return; // a clean shutdown is not news
  const previous =
    run.status === 'succeeded'
      ? await previousWasFailure(deps.pool, run.runId, run.job, run.target).catch(() => false)
      : false;
  const facts: RunFacts = {
    runId: run.runId,
    job: run.job,
    target: run.target,
    status: run.status,
    isFailure: run.isFailure,
    summary: run.summary,
    error: run.error,
    fireTime: run.fireTime,
    finishedAt: new Date().toISOString(),
    host: run.host ?? hostname(),
    durationSeconds: run.seconds,
    findings: findingsIn(run.details),
  };
  const events = eventsFor(facts, previous);
  if (events.length > 0) void deps.notifier.notify(events, (event) => buildMessage(event, facts, deps.config.timezone));
}

/** Findings a reconcile run reported: its details carry `findings` as counts by kind. */
export function findingsIn(details: Record<string, unknown> | null): number {
  const f = details?.findings ?? details?.failing;
  if (typeof f === 'number') return f;
  if (f && typeof f === 'object')
    return Object.values(f).reduce<number>((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
  return 0;
}

async function retry<T>(fn: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
