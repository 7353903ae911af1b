// Job: prune one target. Checklist: plan retention; log (and show) the plan; delete what it says
// (manifest first). The `prune` command calls pruneTarget too, with --dry-run and its printer.
import type { JobContext, JobResult } from '../src/jobs/job.js';
import { policyFor } from '../src/prune/retention-config.js';
import { type PrunePlan, type PruneResult, executePrune, planPrune } from '../src/prune/prune.js';
import { formatBytes } from '../src/progress.js';

export interface PruneOptions {
  dryRun: boolean;
  /** sees the plan before anything is deleted (the CLI prints it) */
  onPlan?: (plan: PrunePlan) => void;
}

export async function pruneTarget(ctx: JobContext<'target'>, options: PruneOptions): Promise<PruneResult> {
  const pruneCtx = { repo: ctx.repo, logger: ctx.logger, signal: ctx.signal, timeZone: ctx.config.timezone, objectLock: Boolean(ctx.config.repository.s3.objectLock) };
  const plan = await planPrune(pruneCtx, ctx.target.name, policyFor(ctx.config.retention, ctx.target.name));
  // shown to a person when one watches (the CLI), else logged
  if (options.onPlan) options.onPlan(plan);
  else for (const b of plan.backups) ctx.logger.info({ backup: b.id, status: b.status, action: b.action, reasons: b.reasons }, 'prune plan');
  return executePrune(pruneCtx, plan, options.dryRun);
}

export async function run(ctx: JobContext<'target'>): Promise<JobResult> {
  const result = await pruneTarget(ctx, { dryRun: false });
  const kept = result.backups.filter((b) => b.outcome === 'kept').length;
  const extra = [result.retained ? `${result.retained} retained by Object Lock` : '', result.failed ? `${result.failed} FAILED` : ''].filter(Boolean).join(', ');
  return {
    ok: result.failed === 0,
    summary: `prune of '${ctx.target.name}': ${result.deleted} deleted (${formatBytes(result.deletedBytes)}), ${kept} kept${extra ? `, ${extra}` : ''} (${result.policy})`,
    details: { deleted: result.deleted, deletedBytes: result.deletedBytes, kept, retained: result.retained, failed: result.failed, abortedUploads: result.uploads.filter((u) => u.outcome === 'deleted').length },
  };
}
