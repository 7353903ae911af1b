// status: is anything stale or failing? newest backup vs RPO, last drill and RTO, findings, last runs.
import { CheckFailedError } from '../core/errors.js';
import { withStateDb } from '../core/state/state-db.js';
import { collectStatus } from '../daemon/status/status.js';
import { renderStatusText } from '../daemon/status/status-render.js';
import { commandContext, defineCommand, selectTargets } from './context.js';
import { printJson } from './output.js';

export const statusCommand = defineCommand({
  command: 'status',
  describe: 'is anything stale or failing? newest backup vs RPO, last drill and RTO, findings, last runs',
  builder: (y) =>
    y
      .example('$0 status', 'a table; exit 1 with the problems listed when something is stale or failing')
      .example('$0 status --json | jq .problems', 'for scripts and monitoring systems')
      .epilog(
        'Exit codes: 0 nothing stale or failing · 1 at least one problem (newest backup older than drill.rpoObjective, last drill failed, last run of a job failed, a scheduled job missed two fire times) · 3 the repository or state database could not be read.',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const config = args.target ? { ...ctx.config, targets: selectTargets(ctx.config, args.target) } : ctx.config;
    await ctx.repo.requireRepository(); // no repository: exit 3, not "no backup yet"
    const report = await withStateDb(config, (db) => collectStatus(config, ctx.repo, db));
    const { jobRuns: _raw, ...visible } = report;
    if (ctx.json) printJson(visible);
    else process.stdout.write(renderStatusText(report));
    if (!report.ok) throw new CheckFailedError(`${report.problems.length} problem(s): ${report.problems[0]}`);
  },
});
