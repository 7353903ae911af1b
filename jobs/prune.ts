// Job: prune one target in every repository. Checklist per repository: plan its retention; log the
// plan; delete what it says (manifest first).
import type { Job } from '../src/daemon/job.js';
import { repositoriesToPrune } from '../src/backup/prune-repositories.js';
import { executePrune, planPrune, type PruneResult } from '../src/backup/prune.js';
import { formatBytes } from '../src/core/progress.js';

export const pruneJob: Job = {
  name: 'prune',
  async run(ctx) {
    const primary = ctx.config.repositories?.[0]?.name ?? 'primary';
    const opened = { name: primary, repo: ctx.repo };
    const { logger, signal } = ctx;
    const repositories = await repositoriesToPrune(ctx.config, undefined, { logger, signal, opened });
    const results: Array<PruneResult & { repository: string; kept: number }> = [];
    for (const { settings, ctx: pruneCtx, policyFor } of repositories) {
      const plan = await planPrune(pruneCtx, ctx.target.name, policyFor(ctx.target.name));
      for (const b of plan.backups) {
        const { id: backup, status, action, reasons } = b;
        ctx.logger.info({ repository: settings.name, backup, status, action, reasons }, 'prune plan');
      }
      const result = await executePrune(pruneCtx, plan, false);
      const kept = result.backups.filter((b) => b.outcome === 'kept').length;
      results.push({ ...result, repository: settings.name, kept });
    }
    type Counted = 'deleted' | 'deletedBytes' | 'retained' | 'failed' | 'kept';
    const sum = (key: Counted) => results.reduce((n, r) => n + r[key], 0);
    const retained = sum('retained') ? `${sum('retained')} retained by Object Lock` : '';
    const extra = [retained, sum('failed') ? `${sum('failed')} FAILED` : ''].filter(Boolean).join(', ');
    const policies = results.map((r) => r.policy).join('; ');
    const where = results.length > 1 ? ` in ${results.map((r) => `'${r.repository}'`).join(', ')}` : '';
    return {
      ok: sum('failed') === 0,
      summary:
        `prune of '${ctx.target.name}'${where}: ${sum('deleted')} deleted (${formatBytes(sum('deletedBytes'))}), ` +
        `${sum('kept')} kept${extra ? `, ${extra}` : ''} (${policies})`,
      details: {
        deleted: sum('deleted'),
        deletedBytes: sum('deletedBytes'),
        kept: sum('kept'),
        retained: sum('retained'),
        failed: sum('failed'),
        abortedUploads: results.reduce((n, r) => n + r.uploads.filter((u) => u.outcome === 'deleted').length, 0),
        ...(results.length > 1 ? { repositories: results.map(perRepository) } : {}),
      },
    };
  },
};

function perRepository(r: PruneResult & { repository: string; kept: number }) {
  return { name: r.repository, deleted: r.deleted, kept: r.kept, failed: r.failed };
}
