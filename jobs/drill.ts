// Job: drill one target. Checklist: restore the configured pick into a scratch database and
// prove it (src/drill/drill.ts does every phase); the verdict becomes the job's result.
import { runDrill } from '../src/drill/drill.js';
import { formatSeconds } from '../src/core/config/duration.js';
import type { JobContext, JobResult } from '../src/daemon/job.js';

export async function run(ctx: JobContext<'target'>): Promise<JobResult> {
  const report = await runDrill(
    { config: ctx.config, repo: ctx.repo, logger: ctx.logger, signal: ctx.signal, progress: false },
    ctx.target,
  );
  const pass = report.verdict === 'pass';
  return {
    ok: pass,
    summary: pass
      ? `drill of '${report.target}' passed: backup ${report.backupId} restored and proven in ${formatSeconds(report.seconds.total)} (RPO ${formatSeconds(report.rpoSeconds)})`
      : `drill of '${report.target}' FAILED for backup ${report.backupId}: ${report.cause ?? 'a check failed'}`,
    details: {
      drillId: report.drillId,
      backupId: report.backupId,
      verdict: report.verdict,
      rtoSeconds: report.seconds.total,
      rpoSeconds: report.rpoSeconds,
      failedChecks: report.checks.filter((c) => !c.ok).map((c) => c.name),
      ...(report.reportObject ? { reportObject: report.reportObject } : {}),
      ...(report.htmlReport ? { htmlReport: report.htmlReport } : {}),
    },
  };
}
