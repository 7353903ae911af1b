// Job: back up one target. Checklist: take the backup; verify what was stored.
import { runBackup } from '../src/backup/backup.js';
import type { JobContext, JobResult } from '../src/daemon/job.js';
import { formatBytes } from '../src/core/progress.js';
import { verifyBackup } from '../src/drill/verify.js';

export async function run(ctx: JobContext<'target'>): Promise<JobResult> {
  const result = await runBackup(
    { config: ctx.config, repo: ctx.repo, logger: ctx.logger, signal: ctx.signal, progress: false },
    ctx.target,
  );
  const manifest = await ctx.repo.resolve(ctx.target.name, result.id);
  const verify = await verifyBackup(ctx.repo, manifest, { deep: false, signal: ctx.signal });
  const seconds = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000;
  return {
    ok: verify.ok,
    summary: verify.ok
      ? `backup ${result.id} of '${ctx.target.name}': ${formatBytes(result.storedBytes)} in ${seconds.toFixed(0)}s, verified`
      : `backup ${result.id} of '${ctx.target.name}' stored but FAILED verification: ${verify.checks.find((c) => !c.ok)?.problem ?? 'see verify'}`,
    details: { backupId: result.id, storedBytes: result.storedBytes, seconds, verified: verify.ok },
  };
}
