// `run <job>` and `prune`: claim a manual fire time per scope and run it in this process through the
// daemon's own runner (lock, history, heartbeats, notifications), one after another. A manual run is
// attempted once: the person who started it sees the outcome and decides.
import { hostname } from 'node:os';
import pg from 'pg';
import type { Config } from '../core/config/config.js';
import { OperationError } from '../core/errors.js';
import { formatTime } from '../core/format.js';
import { historyTarget } from './job.js';
import type { Logger } from '../core/logger.js';
import { processAlive } from '../core/process-alive.js';
import type { NotifyDispatcher } from './notify/dispatcher.js';
import type { Repository } from '../core/repository/repository.js';
import { openStateDb, stateUrl } from '../core/state/state-db.js';
import { defaultDaemonConfig } from './daemon-config.js';
import { type Claim, claimRun, markStaleRuns } from './job-runs.js';
import { type RunOutcome, type RunSpec, ShutdownError, runClaimed } from './job-runner.js';

export interface RunNowContext {
  config: Config;
  logger: Logger;
  repo: Repository;
  notifier: NotifyDispatcher;
  /** the CLI's SIGINT/SIGTERM signal: Ctrl-C on a manual run is a decision, not a failure (no alert) */
  signal: AbortSignal;
}

export async function runNow(ctx: RunNowContext, specs: readonly RunSpec[]): Promise<RunOutcome[]> {
  await (await openStateDb(ctx.config)).end();
  const pool = new pg.Pool({ connectionString: stateUrl(ctx.config), max: 2, application_name: 'fapiao-guard run' });
  pool.on('error', () => undefined);
  const settings = ctx.config.daemon ?? defaultDaemonConfig();
  const stop = new AbortController();
  const onAbort = () =>
    stop.abort(new ShutdownError(String((ctx.signal.reason as Error | undefined)?.message ?? 'interrupted')));
  // a signal that came while the state database was opened fires no more 'abort' events
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  const deps = {
    config: ctx.config,
    logger: ctx.logger,
    repo: ctx.repo,
    pool,
    notifier: ctx.notifier,
    heartbeat: settings.heartbeat,
    staleAfter: settings.staleAfter,
  };
  const outcomes: RunOutcome[] = [];
  try {
    await markStaleRuns(pool, settings.staleAfter, hostname(), processAlive);
    for (const spec of specs) {
      const target = historyTarget(spec.scope);
      const { fireTime, claim } = await claimManual(pool, spec.name, target);
      if (claim.kind === 'overlap') {
        throw new OperationError(
          `${spec.name} of '${target}' is already running (run #${claim.holder.id} on host ${claim.holder.host}, pid ${claim.holder.pid}, since ${formatTime(claim.holder.startedAt, ctx.config.timezone)})`,
          { hint: "wait for it, or see 'fapiao-guard jobs'" },
        );
      }
      outcomes.push(await runClaimed(deps, spec, { runId: claim.runId, fireTime, trigger: 'manual' }, stop.signal));
      if (stop.signal.aborted) break;
    }
    await ctx.notifier.drain(30_000);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await pool.end().catch(() => undefined);
  }
  return outcomes;
}

/**
 * A manual run's fire time is the moment it was asked for, a label rather than a schedule slot: two
 * manual runs started in the same millisecond (or a clock set back) are still two runs. So where
 * another run already has the instant, the claim moves on by a millisecond instead of refusing
 * (job_runs is unique on job, target and fire time; a scheduled fire time is the one deduplicated).
 */
async function claimManual(
  pool: pg.Pool,
  job: RunSpec['name'],
  target: string,
): Promise<{ fireTime: Date; claim: Exclude<Claim, { kind: 'taken' }> }> {
  for (let fireTime = new Date(); ; fireTime = new Date(fireTime.getTime() + 1)) {
    const claim = await claimRun(pool, {
      job,
      target,
      fireTime,
      trigger: 'manual',
      host: hostname(),
      pid: process.pid,
      maxAttempts: 1,
    });
    if (claim.kind !== 'taken') return { fireTime, claim };
  }
}
