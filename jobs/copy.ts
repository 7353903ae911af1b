// Job: copy one target's new backups from the primary to every other repository (3-2-1).
// Checklist: open the route; per destination copy what the plan says (src/backup/copy/copy.ts).
import { copyTarget, openCopyRoute } from '../src/backup/copy/copy.js';
import type { JobContext, JobResult } from '../src/daemon/job.js';
import { formatBytes } from '../src/core/progress.js';

export async function run(ctx: JobContext<'target'>): Promise<JobResult> {
  const route = await openCopyRoute(ctx.config, undefined, [], ctx.logger);
  const results = [];
  const options = { logger: ctx.logger, signal: ctx.signal };
  for (const to of route.to) results.push(await copyTarget(ctx.config, route.from, to, ctx.target.name, options));
  const parts = results.map((r) => `${r.copied.length} backup(s) (${formatBytes(r.bytes)}) to '${r.to}'`);
  return {
    ok: true,
    summary: `copy of '${ctx.target.name}' from '${route.from.config.name}': ${parts.join(', ')}`,
    details: {
      from: route.from.config.name,
      copies: results.map((r) => {
        const backups = r.copied.map((c) => c.id);
        return { to: r.to, backups, bytes: r.bytes, seconds: r.seconds };
      }),
    },
  };
}
