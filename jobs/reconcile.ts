// Job: reconcile upstream invoices against the local table. Checklist: run the comparison
// (which records findings and writes the reports); summarise for history and notifications.
import type { JobContext, JobResult } from '../src/daemon/job.js';
import { runReconcile } from '../src/reconcile/run-reconcile.js';

export async function run(ctx: JobContext<'once'>): Promise<JobResult> {
  const { report, files, ok } = await runReconcile({ config: ctx.config, logger: ctx.logger, signal: ctx.signal });
  const s = report.summary;
  const kinds = Object.entries(s.findings)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  const window = `${report.run.window.from}..${report.run.window.to}`;
  return {
    ok,
    summary: ok
      ? `reconcile ${window}: clean (${s.upstream.count} upstream, ${s.local.count} local${s.pendingSync ? `, ${s.pendingSync} pending sync` : ''})`
      : s.upstreamShrank
        ? `reconcile ${window}: ${s.upstreamShrank.message}; report ${files.html}`
        : `reconcile ${window}: ${s.failing} finding(s) need attention (${kinds.join(', ')}); report ${files.html}`,
    details: {
      runId: report.run.id,
      window: report.run.window,
      failing: s.failing,
      findings: s.findings,
      pendingSync: s.pendingSync,
      html: files.html,
      sha256: report.sha256,
    },
  };
}
