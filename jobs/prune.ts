// Job: prune one target in every repository. Checklist per repository: plan its retention; log
// (or show) the plan; delete what it says (manifest first). The `prune` command runs the same job
// with --repository and its printer (pruneJobWith), claimed like `run prune`; --dry-run calls
// pruneTarget directly.
import type { JobContext, JobDefinition, JobResult } from '../src/daemon/job.js';
import { repositoriesToPrune } from '../src/backup/prune-repositories.js';
import { type PrunePlan, type PruneResult, executePrune, planPrune } from '../src/backup/prune.js';
import { formatBytes } from '../src/core/progress.js';

export interface PruneOptions {
  dryRun: boolean;
  /** only this repository (default: every configured one, each with its own retention) */
  repository?: string;
  /** the repository `ctx.repo` is, so it is not opened twice (default: the primary) */
  opened?: string;
  /** sees each plan before anything is deleted (the CLI prints it); without it the plan is logged */
  onPlan?: (plan: PrunePlan, repository: { name: string; location: string }) => void;
}

export type RepositoryPruneResult = PruneResult & { repository: string };

export async function pruneTarget(ctx: JobContext<'target'>, options: PruneOptions): Promise<RepositoryPruneResult[]> {
  const opened = { name: options.opened ?? ctx.config.repositories?.[0]?.name ?? 'primary', repo: ctx.repo };
  const { logger, signal } = ctx;
  const repositories = await repositoriesToPrune(ctx.config, options.repository, { logger, signal, opened });
  const results: RepositoryPruneResult[] = [];
  for (const { settings, ctx: pruneCtx, policyFor } of repositories) {
    const plan = await planPrune(pruneCtx, ctx.target.name, policyFor(ctx.target.name));
    if (options.onPlan) options.onPlan(plan, { name: settings.name, location: pruneCtx.repo.storage.location });
    else {
      for (const { id: backup, status, action, reasons } of plan.backups) {
        logger.info({ repository: settings.name, backup, status, action, reasons }, 'prune plan');
      }
    }
    results.push({ ...(await executePrune(pruneCtx, plan, options.dryRun)), repository: settings.name });
  }
  return results;
}

export async function run(ctx: JobContext<'target'>): Promise<JobResult> {
  return pruneJobResult(ctx.target.name, await pruneTarget(ctx, { dryRun: false }));
}

/**
 * The prune job with the `prune` command's options (--repository, its plan printer): the same work,
 * summary and details as the scheduled job; `seen` gets each target's results (the command prints
 * them). Run through runNow (src/daemon/run-now.ts), which attempts a manual run once.
 */
export function pruneJobWith(
  options: PruneOptions,
  seen: (results: RepositoryPruneResult[]) => void,
): JobDefinition<'target'> {
  return {
    scope: 'target',
    retry: { attempts: 1 },
    run: async (ctx) => {
      const results = await pruneTarget(ctx, options);
      seen(results);
      return pruneJobResult(ctx.target.name, results);
    },
  };
}

/** A prune's summary line and details, for job history and notifications. */
function pruneJobResult(target: string, pruned: readonly RepositoryPruneResult[]): JobResult {
  const results = pruned.map((r) => ({
    ...r,
    kept: r.backups.filter((b) => b.outcome === 'kept').length,
  }));
  type Counted = 'deleted' | 'deletedBytes' | 'retained' | 'failed' | 'kept';
  const sum = (key: Counted) => results.reduce((n, r) => n + r[key], 0);
  const retained = sum('retained') ? `${sum('retained')} retained by Object Lock` : '';
  const extra = [retained, sum('failed') ? `${sum('failed')} FAILED` : ''].filter(Boolean).join(', ');
  const policies = results.map((r) => r.policy).join('; ');
  const where = results.length > 1 ? ` in ${results.map((r) => `'${r.repository}'`).join(', ')}` : '';
  return {
    ok: sum('failed') === 0,
    summary:
      `prune of '${target}'${where}: ${sum('deleted')} deleted (${formatBytes(sum('deletedBytes'))}), ` +
      `${sum('kept')} kept${extra ? `, ${extra}` : ''} (${policies})`,
    details: {
      deleted: sum('deleted'),
      deletedBytes: sum('deletedBytes'),
      kept: sum('kept'),
      retained: sum('retained'),
      failed: sum('failed'),
      abortedUploads: results.reduce((n, r) => n + r.uploads.filter((u) => u.outcome === 'deleted').length, 0),
      ...(results.length > 1
        ? {
            repositories: results.map((r) => ({
              name: r.repository,
              deleted: r.deleted,
              kept: r.kept,
              failed: r.failed,
            })),
          }
        : {}),
    },
  };
}
