// prune: apply the retention policy. A prune that deletes is a manual run of the prune job, claimed
// like `run prune` (job history, one prune of a target at a time, alerts); --dry-run only reads.
import { type PruneOptions, type RepositoryPruneResult, pruneJobWith, pruneTarget } from '../../jobs/prune.js';
import type { PrunePlan, PruneResult } from '../backup/prune.js';
import type { TargetConfig } from '../core/config/config.js';
import { OperationError } from '../core/errors.js';
import { formatBytes } from '../core/progress.js';
import type { JobDefinition } from '../daemon/job.js';
import { runNow } from '../daemon/run-now.js';
import { type CommandContext, REPOSITORY_OPTION, commandContext, defineCommand, selectTargets } from './context.js';
import { formatTime, printJson, printTable } from './output.js';
import { notifierFor } from './run-command.js';

export const pruneCommand = defineCommand({
  command: 'prune',
  describe: 'apply the retention policy: delete old backups, incomplete backups and abandoned uploads',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan, delete nothing' })
      .option('repository', {
        ...REPOSITORY_OPTION,
        describe: 'only this repository (default: every configured repository, each with its own retention)',
      })
      .example('$0 prune --dry-run', 'what would go, and why each backup stays')
      .example(
        '$0 prune --repository offsite',
        "apply the second repository's retention (repositories[].retention) to it",
      )
      .example('$0 prune --target invoices --json', 'apply it to one target; the plan and outcome as JSON')
      .epilog(
        "Per target: keepLast keeps the newest N complete backups; daily/weekly/monthly/yearly keep the newest backup of each of the newest N days/ISO weeks/months/years that have one (in 'timezone'). The newest complete backup is never deleted. Each repository is pruned with its own policy: repositories[].retention, else retention. Incomplete backups and multipart uploads older than retention.incompleteAfter (24h) are deleted. Without retention counts every complete backup is kept. The plan is printed before anything is deleted; a complete backup loses its manifest first. Objects under S3 Object Lock retention are reported as retained (not an error). Exit 3 when a deletion failed.",
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const dryRun = args['dry-run'];
    const several = ctx.config.repositories.length > 1 && args.repository === undefined;
    const results: Array<PruneResult & { repository?: string }> = [];
    const onPlan = (plan: PrunePlan, repository: { name: string; location: string }) => {
      if (ctx.json) return;
      if (several) process.stdout.write(`repository '${repository.name}' (${repository.location}):\n`);
      printPlan(plan, ctx.config.timezone, dryRun);
    };
    const seen = (pruned: readonly RepositoryPruneResult[]) => {
      for (const { repository, ...result } of pruned) {
        results.push(several || args.repository !== undefined ? { repository, ...result } : result);
        if (!ctx.json) printPruneOutcome(result);
      }
    };
    const options: PruneOptions = { dryRun, repository: args.repository, opened: ctx.repository.name, onPlan };
    const targets = selectTargets(ctx.config, args.target);
    // a dry run deletes nothing: it needs no claim, and may show the plan while a prune runs
    if (dryRun) for (const target of targets) seen(await pruneTarget({ ...ctx, target }, options));
    else await pruneClaimed(ctx, targets, pruneJobWith(options, seen));
    if (ctx.json) printJson(results);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    if (failed > 0)
      throw new OperationError(`prune could not delete ${failed} item(s); see the list above`, {
        hint: 'check storage permissions; the next prune retries',
      });
  },
});

/**
 * Each target's prune as a manual run of the prune job (src/daemon/run-now.ts), one after another:
 * claimed in job_runs (refused while a prune of the target runs anywhere), heartbeats, history,
 * alerts. An error the job threw is rethrown as it was (its message and exit code) once the run is
 * recorded, and stops the targets after it, as before the claim.
 */
async function pruneClaimed(
  ctx: CommandContext,
  targets: readonly TargetConfig[],
  job: JobDefinition<'target'>,
): Promise<void> {
  let thrown: { error: unknown } | undefined;
  const keepingErrors: JobDefinition<'target'> = {
    ...job,
    run: (jobCtx) =>
      job.run(jobCtx).catch((error: unknown) => {
        thrown = { error };
        throw error;
      }),
  };
  const runCtx = { ...ctx, notifier: notifierFor(ctx) };
  for (const target of targets) {
    ctx.signal.throwIfAborted();
    await runNow(runCtx, [{ name: 'prune', job: keepingErrors, scope: { kind: 'target', target } }]);
    if (thrown) throw thrown.error;
  }
}

function printPlan(plan: PrunePlan, tz: string, dryRun: boolean): void {
  process.stdout.write(`${dryRun ? 'plan (dry run)' : 'plan'} for '${plan.target}' (${plan.policy}):\n`);
  printTable(
    ['backup', 'started', 'status', 'size', 'action', 'why'],
    plan.backups.map((b) => [
      b.id,
      formatTime(b.startedAt, tz),
      b.status,
      formatBytes(b.storedBytes),
      b.action,
      b.reasons.join('; '),
    ]),
  );
  for (const u of plan.uploads)
    process.stdout.write(`upload ${u.name} (${u.uploadId.slice(0, 12)}…): ${u.action} — ${u.reason}\n`);
  for (const l of plan.leftovers) process.stdout.write(`${l.kind} ${l.name}: ${l.action} — ${l.reason}\n`);
}

function printPruneOutcome(r: PruneResult): void {
  const notes = [...r.backups, ...r.uploads, ...r.leftovers]
    .filter((x) => x.outcome === 'retained' || x.outcome === 'failed')
    .map((x) => `  ${'id' in x ? x.id : x.name}: ${x.outcome}${x.note ? ` (${x.note})` : ''}`);
  const would = [...r.backups, ...r.uploads, ...r.leftovers].filter((x) => x.outcome === 'would delete').length;
  process.stdout.write(
    r.dryRun
      ? `dry run: would delete ${would} item(s) of '${r.target}'; nothing deleted\n`
      : `'${r.target}': deleted ${r.deleted} backup(s) (${formatBytes(r.deletedBytes)})${r.leftovers.some((l) => l.outcome === 'deleted') ? `, ${r.leftovers.filter((l) => l.outcome === 'deleted').length} leftover(s)` : ''}${r.retained ? `, ${r.retained} retained by Object Lock` : ''}${r.failed ? `, ${r.failed} FAILED` : ''}\n${notes.join('\n')}${notes.length ? '\n' : ''}`,
  );
}
