// run <job>: one job now, through the same path as the daemon (claim, lock, history, notifications).
import { JOBS, JOB_NAMES, type JobName } from '../../jobs/index.js';
import { runNow } from '../daemon/run-now.js';
import type { RunOutcome } from '../daemon/job-runner.js';
import { CheckFailedError, InterruptedError, OperationError } from '../core/errors.js';
import { scopesFor } from '../daemon/job.js';
import { createNotifier } from '../daemon/notify/channels.js';
import { NotifyDispatcher } from '../daemon/notify/dispatcher.js';
import { type CommandContext, commandContext, defineCommand, selectTargets } from './context.js';
import { printJson } from './output.js';

export const runCommand = defineCommand({
  command: 'run <job>',
  describe: 'run one job now, through the same path as the daemon (lock, history, notifications)',
  builder: (y) =>
    y
      .positional('job', {
        type: 'string',
        choices: JOB_NAMES as string[],
        demandOption: true,
        describe: 'backup, drill, reconcile, prune or copy',
      })
      .example(
        '$0 run backup --target invoices',
        'a backup now; skipped with exit 3 if one is already running anywhere',
      )
      .example('$0 run prune --json', 'apply retention to every target; outcome as JSON')
      .epilog(
        "Recorded in the job history ('fapiao-guard jobs') with trigger 'manual'. Exit codes: 0 succeeded · 1 the job ran and found a problem (failed drill, findings) · 3 it could not complete, was interrupted, or another run of it holds the lock.",
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const name = args.job as JobName;
    const job = JOBS[name];
    const targets = job.scope === 'target' ? selectTargets(ctx.config, args.target) : [];
    const outcomes = await runNow(
      { ...ctx, notifier: notifierFor(ctx) },
      scopesFor(job, targets).map((scope) => ({ name, job, scope })),
    );
    if (ctx.json) printJson(outcomes);
    else
      for (const o of outcomes)
        process.stdout.write(
          `${o.status}: ${o.summary ?? o.error ?? ''} (run #${o.runId}, ${o.seconds.toFixed(1)}s)\n`,
        );
    throwIfNotSucceeded(name, outcomes);
  },
});

/** Where a manual run's outcome alerts go: config `notify`, as the daemon sends them. */
export function notifierFor(ctx: CommandContext): NotifyDispatcher {
  return new NotifyDispatcher((ctx.config.notify ?? []).map(createNotifier), ctx.logger);
}

/** The first run that did not succeed, as the error that gives its exit code (1 found a problem, 3 could not complete). */
function throwIfNotSucceeded(name: JobName, outcomes: readonly RunOutcome[]): void {
  const bad = outcomes.find((o) => o.status !== 'succeeded');
  if (bad?.status === 'interrupted') throw new InterruptedError(`${name} of '${bad.target}' interrupted: ${bad.error}`);
  // a job that returned ok: false ran and found a problem (details present); one that threw could not complete
  if (bad && bad.details) throw new CheckFailedError(`${name} of '${bad.target}' failed: ${bad.error}`);
  if (bad) throw new OperationError(`${name} of '${bad.target}' failed: ${bad.error}`);
}
