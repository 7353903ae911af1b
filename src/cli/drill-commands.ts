// drill and drills: prove that backups restore, and show the history of those proofs.
import type { Argv } from 'yargs';
import { loadIdentities } from '../core/encryption-keys.js';
import { formatSeconds } from '../core/config/duration.js';
import { defaultDrillConfig, parsePick } from '../drill/drill-config.js';
import { listDrills } from '../drill/drill-history.js';
import type { DrillReport } from '../drill/drill-report.js';
import { drillFailure, runDrill } from '../drill/drill.js';
import { UsageError } from '../core/errors.js';
import { withStateDb } from '../core/state/state-db.js';
import {
  type GlobalArgs,
  IDENTITY_OPTION,
  REPOSITORY_OPTION,
  commandContext,
  defineCommand,
  requireCount,
  selectTargets,
  singleTarget,
} from './context.js';
import { formatTime, printJson, printTable } from './output.js';

const DRILL_EPILOG = `What a drill does: picks a backup, creates a scratch database fg_drill_<target>_<drill-id> (marked with COMMENT ON DATABASE) on drill.scratchUrl (default: the target's server), streams the backup into pg_restore while checking the size, sha256 and age authentication of every object, compares row counts and checksums with the backup's details, runs drill.assertions (and pg_amcheck with drill.amcheck), then checks the RTO (drill.rtoObjective) and RPO (drill.rpoObjective).
The scratch database is dropped in every case (also on SIGINT/SIGTERM) unless kept; scratch databases of crashed drills are dropped by the next drill. The report goes to drills/<target>/<drill-id>.json in the repository, to an HTML file in drill.reportDir, and to the history ('fapiao-guard drills').
Exit codes: 0 the drill passed · 1 a check failed (the message names the first one) · 2 usage or configuration error · 3 the drill could not run (database, storage) or was interrupted.`;

export function registerDrillCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(drillCommand).command(drillsCommand);
}

const drillCommand = defineCommand({
  command: 'drill [backup]',
  describe: 'restore a backup into a scratch database and prove it: checksums, assertions, RTO and RPO',
  builder: (y) =>
    y
      .positional('backup', {
        type: 'string',
        describe: 'latest, random (among the last 7), random:N, or a backup id (prefix); default: drill.pick',
      })
      .option('keep', { type: 'boolean', describe: 'keep the scratch database afterwards (default: drill.keep)' })
      .option('keep-on-failure', {
        type: 'boolean',
        describe: 'keep the scratch database only when the drill fails (default: drill.keepOnFailure)',
      })
      .option('jobs', {
        type: 'number',
        describe: 'parallel pg_restore jobs (default: drill.jobs, else restore.jobs); > 1 spools the archive first',
      })
      .option('identity', IDENTITY_OPTION)
      .option('repository', REPOSITORY_OPTION)
      .example('$0 drill', 'drill the newest backup of every target')
      .example('$0 drill --repository offsite', 'prove the second copy restores too')
      .example('$0 drill random:14 --target invoices', 'one of the last 14 backups, so old ones get exercised too')
      .example(
        '$0 drill 20261128T020000Z-7f3a --keep-on-failure',
        'one backup; keep the database to investigate if it fails',
      )
      .example(
        '$0 drill --json | jq .verdict',
        'the report as JSON: drillId, backupId, verdict, checks, seconds, rpoSeconds',
      )
      .epilog(DRILL_EPILOG),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const settings = ctx.config.drill ?? defaultDrillConfig();
    const pick = args.backup === undefined ? settings.pick : parsePick(args.backup);
    if (!pick) throw new UsageError(`'${args.backup}' is not latest, random, random:N or a backup id`);
    if (args.jobs !== undefined) requireCount('--jobs', args.jobs);
    const targets =
      pick.kind === 'id' ? [singleTarget(ctx.config, args.target)] : selectTargets(ctx.config, args.target);
    const identities = await loadIdentities(ctx.config, args.identity);
    await ctx.repo.requireRepository(); // no repository: exit 3 naming it, before any scratch database
    const reports: DrillReport[] = [];
    for (const target of targets) {
      const report = await runDrill(
        { config: ctx.config, repo: ctx.repo, logger: ctx.logger, identities, signal: ctx.signal },
        target,
        {
          pick,
          ...(args.keep !== undefined ? { keep: args.keep } : {}),
          ...(args['keep-on-failure'] !== undefined ? { keepOnFailure: args['keep-on-failure'] } : {}),
          ...(args.jobs !== undefined ? { jobs: args.jobs } : {}),
        },
      );
      reports.push(report);
      if (!ctx.json) printReport(report, ctx.config.timezone);
    }
    if (ctx.json)
      printJson(targets.length === 1 && args.target ? reports[0] : reports.length === 1 ? reports[0] : reports);
    const failed = reports.find((r) => r.verdict === 'fail');
    if (failed) throw drillFailure(failed);
  },
});

const drillsCommand = defineCommand({
  command: 'drills',
  describe: 'drill history: when, which backup, verdict, RTO and RPO',
  builder: (y) =>
    y
      .option('limit', { type: 'number', default: 20, describe: 'the most recent N drills' })
      .example('$0 drills', 'the last 20 drills of every target')
      .example('$0 drills --target invoices --json', 'as JSON, for scripts and dashboards')
      .epilog(
        "Read from the state database (state.url). 'running' with no process behind it is shown as interrupted by the next drill on the same host.",
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    if (args.target) selectTargets(ctx.config, args.target);
    requireCount('--limit', args.limit);
    const rows = await withStateDb(ctx.config, (db) =>
      listDrills(db, { limit: args.limit, ...(args.target ? { target: args.target } : {}) }),
    );
    if (ctx.json) return printJson(rows);
    if (rows.length === 0) return void process.stdout.write("no drills yet (run 'fapiao-guard drill')\n");
    printTable(
      ['when', 'target', 'backup', 'verdict', 'RTO', 'RPO', 'drill', 'cause'],
      rows.map((r) => [
        formatTime(r.startedAt, ctx.config.timezone),
        r.target,
        r.backupId ?? '',
        r.status,
        r.rtoSeconds === null ? '' : formatSeconds(r.rtoSeconds),
        r.rpoSeconds === null ? '' : formatSeconds(r.rpoSeconds),
        r.drillId,
        (r.cause ?? '').length > 80 ? `${(r.cause ?? '').slice(0, 79)}…` : (r.cause ?? ''),
      ]),
    );
  },
});

function printReport(report: DrillReport, timeZone: string): void {
  printTable(
    ['check', 'expected', 'actual', 'result'],
    report.checks.map((c) => [c.name, short(c.expected), short(c.actual), c.ok ? 'ok' : 'FAILED']),
  );
  const s = report.seconds;
  process.stdout.write(
    `${report.verdict === 'pass' ? 'PASS' : 'FAIL'}: drill ${report.drillId} of ${report.target}, backup ${report.backupId} (picked ${report.pick}, finished ${formatTime(report.backupFinishedAt, timeZone)})\n` +
      `RTO ${formatSeconds(s.total)} (download ${formatSeconds(s.download)}, restore ${formatSeconds(s.restore)}, checks ${formatSeconds(s.checks)}) · RPO ${formatSeconds(report.rpoSeconds)}\n` +
      `scratch database ${report.scratch.database} ${report.scratch.kept ? 'KEPT (drop it when done)' : 'dropped'}\n` +
      (report.htmlReport ? `HTML report: ${report.htmlReport}\n` : ''),
  );
}

function short(value: string | number | null): string {
  if (value === null) return '—';
  const text = String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
