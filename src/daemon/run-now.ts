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
import { claimRun, markStaleRuns } from './job-runs.js';
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
      const fireTime = new Date();
      const claim = await claimRun(pool, {
        job: spec.name,
        target,
        fireTime,
        trigger: 'manual',
        host: hostname(),
        pid: process.pid,
        maxAttempts: 1,
      });
      if (claim.kind === 'overlap') {
        throw new OperationError(
          `${spec.name} of '${target}' is already running (run #${claim.holder.id} on host ${claim.holder.host}, pid ${claim.holder.pid}, since ${formatTime(claim.holder.startedAt, ctx.config.timezone)})`,
          { hint: "wait for it, or see 'fapiao-guard jobs'" },
        );
      }
      if (claim.kind !== 'claimed') throw new OperationError(`could not claim a run of ${spec.name} for '${target}'`);
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
