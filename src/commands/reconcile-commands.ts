// reconcile and findings: compare upstream invoices with the local table, and list what was found.
import type { Argv } from 'yargs';
import type { Config } from '../config/config.js';
import { CheckFailedError, UsageError } from '../errors.js';
import { listFindings } from '../reconcile/findings-store.js';
import { localTableTarget } from '../reconcile/reconcile-config.js';
import { runReconcile } from '../reconcile/run-reconcile.js';
import { formatFen } from '../reconcile/validators.js';
import { withStateDb } from '../state/state-db.js';
import { type GlobalArgs, commandContext } from './context.js';
import { formatTime, printJson, printTable } from './output.js';

export function registerReconcileCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli
    .command(
      'reconcile',
      'compare upstream invoices (tax platform export, database or API) with the local table and explain every difference',
      (y) =>
        y
          .option('from', { type: 'string', describe: 'first day of the window (YYYY-MM-DD in config timezone); default: reconcile.window' })
          .option('to', { type: 'string', describe: 'last day of the window, inclusive' })
          .option('report-dir', { type: 'string', describe: 'where to write reconcile-<run>.json/.csv/.html (default reconcile.reportDir)' })
          .example('$0 reconcile', 'the configured window (default: the last 35 days, today included)')
          .example('$0 reconcile --from 2026-11-01 --to 2026-11-30 --json', 'one month; print the JSON report on stdout')
          .example('$0 reconcile --report-dir /srv/audit/reconcile', 'keep the JSON, CSV (Excel) and HTML reports for the auditors')
          .epilog(
            'Findings: missing (upstream only), extra (local only), amount_mismatch, status_mismatch, date_mismatch, duplicate, invalid_input; ' +
              'causes pending_sync (issued within reconcile.syncLag: not counted as failing), probable_typo (a missing and an extra one typing error apart, same amount and day) ' +
              'and in_backup (a missing invoice that the named backup still holds: it reached the local database and was lost after; needs encryption.identityFile). ' +
              'Exit 0 when no finding of a reconcile.failOn kind, 1 when there are some, 2 for configuration errors (a file that is not an export), 3 when a side could not be read. ' +
              'Findings persist in the state DB: list them with `fapiao-guard findings --open`.',
          ),
      async (args) => {
        const ctx = await commandContext(args);
        refuseOtherTarget(ctx.config, args.target);
        const result = await runReconcile({
          config: ctx.config,
          logger: ctx.logger,
          signal: ctx.signal,
          ...(args.from ? { from: args.from } : {}),
          ...(args.to ? { to: args.to } : {}),
          ...(args['report-dir'] ? { reportDir: args['report-dir'] } : {}),
        });
        const { report } = result;
        const s = report.summary;
        if (ctx.json) process.stdout.write(result.jsonText);
        else {
          process.stdout.write(`window ${report.run.window.from}..${report.run.window.to} (${report.run.window.timezone})\n`);
          printTable(
            ['side', 'invoices', 'total'],
            [
              [`upstream (${report.run.upstream.kind})`, String(s.upstream.count), s.upstream.total],
              ['local', String(s.local.count), s.local.total],
            ],
          );
          const kinds = Object.entries(s.findings).filter(([, n]) => n > 0);
          process.stdout.write(`\nfindings: ${kinds.length === 0 ? 'none' : kinds.map(([k, n]) => `${k} ${n}`).join(', ')}${s.pendingSync ? ` (pending sync ${s.pendingSync})` : ''}${s.probableTypos ? ` (probable typos ${s.probableTypos})` : ''}${s.inBackup ? ` (still in a backup ${s.inBackup})` : ''}\n`);
          if (report.findings.length > 0) {
            printTable(
              ['kind', 'cause', 'key', 'day', 'upstream', 'local'],
              report.findings.slice(0, 50).map((f) => [f.kind, f.cause ?? '', keyOrOrigin(f), f.day ?? '', f.kind === 'invalid_input' ? clip(String(f.evidence.reason ?? '')) : f.upstream ? `${formatFen(f.upstream.totalFen)} ${f.upstream.status}` : '-', f.local ? `${formatFen(f.local.totalFen)} ${f.local.status}` : '-']),
            );
            if (report.findings.length > 50) process.stdout.write(`… ${report.findings.length - 50} more in the reports\n`);
          }
          process.stdout.write(`\nreports: ${result.files.html}\n         ${result.files.csv}\n         ${result.files.json}\n`);
        }
        if (s.upstreamShrank) throw new CheckFailedError(s.upstreamShrank.message, { hint: `check the upstream export or API (damaged or partial?); see '${result.files.html}'` });
        if (!result.ok) {
          throw new CheckFailedError(`${s.failing} reconciliation finding(s) of kinds in reconcile.failOn for ${report.run.window.from}..${report.run.window.to}`, { hint: `see '${result.files.html}'` });
        }
      },
    )
    .command(
      'findings',
      'list reconciliation findings recorded in the state DB (open and resolved)',
      (y) =>
        y
          .option('open', { type: 'boolean', default: false, describe: 'only findings not yet resolved' })
          .example('$0 findings --open', 'what still needs attention, with first and last seen')
          .example('$0 findings --json', 'every finding with its history and evidence')
          .epilog('A finding is resolved when a later run covering its day no longer sees it; a pending_sync finding still missing after the sync lag is escalated to missing.'),
      async (args) => {
        const ctx = await commandContext(args);
        refuseOtherTarget(ctx.config, args.target);
        const rows = await withStateDb(ctx.config, (client) => listFindings(client, { open: Boolean(args.open) }));
        if (ctx.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write(args.open ? 'no open findings\n' : 'no findings recorded\n');
        const tz = ctx.config.timezone;
        printTable(
          ['kind', 'cause', 'key', 'day', 'first seen', 'last seen', 'state'],
          rows.map((r) => [r.kind, r.cause ?? '', keyOrOrigin(r.details), r.day ?? '', formatTime(r.firstSeen, tz), formatTime(r.lastSeen, tz), r.resolvedAt ? `resolved ${formatTime(r.resolvedAt, tz)}` : r.escalatedAt ? 'open (escalated)' : 'open']),
        );
      },
    );
}

/** A damaged upstream row has no trustworthy key: show where it is (file:line) instead. */
function keyOrOrigin(f: { key: string; evidence: Record<string, unknown> }): string {
  return f.key || String(f.evidence.origin ?? '');
}

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Reconciliation is of one local table: --target may name its target, nothing else. */
function refuseOtherTarget(config: Config, target: string | undefined): void {
  if (target === undefined) return;
  const local = config.reconcile ? localTableTarget(config.reconcile, config.targets.map((t) => t.name))?.target : undefined;
  if (target === local) return;
  throw new UsageError(
    local
      ? `reconcile compares the table of target '${local}' (reconcile.local); --target '${target}' names another`
      : `reconcile compares the table in reconcile.local, not a target; drop --target '${target}'`,
  );
}
