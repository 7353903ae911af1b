// Job: prune one target. Checklist: plan retention; log the plan; delete what it says (manifest first).
import type { Job } from '../src/daemon/job.js';
import { policyFor } from '../src/backup/retention-config.js';
import { executePrune, planPrune } from '../src/backup/prune.js';
import { formatBytes } from '../src/core/progress.js';

export const pruneJob: Job = {
  name: 'prune',
  async run(ctx) {
    const pruneCtx = { repo: ctx.repo, logger: ctx.logger, signal: ctx.signal, timeZone: ctx.config.timezone, objectLock: Boolean(ctx.config.repository.s3.objectLock) };
    const plan = await planPrune(pruneCtx, ctx.target.name, policyFor(ctx.config.retention, ctx.target.name));
    for (const b of plan.backups) ctx.logger.info({ backup: b.id, status: b.status, action: b.action, reasons: b.reasons }, 'prune plan');
    const result = await executePrune(pruneCtx, plan, false);
    const kept = result.backups.filter((b) => b.outcome === 'kept').length;
    const extra = [result.retained ? `${result.retained} retained by Object Lock` : '', result.failed ? `${result.failed} FAILED` : ''].filter(Boolean).join(', ');
    return {
      ok: result.failed === 0,
      summary: `prune of '${ctx.target.name}': ${result.deleted} deleted (${formatBytes(result.deletedBytes)}), ${kept} kept${extra ? `, ${extra}` : ''} (${plan.policy})`,
      details: { deleted: result.deleted, deletedBytes: result.deletedBytes, kept, retained: result.retained, failed: result.failed, abortedUploads: result.uploads.filter((u) => u.outcome === 'deleted').length },
    };
  },
};
