// reconcile and findings: compare upstream invoices with the local table, and list what was found.
import type { Argv } from 'yargs';
import type { Config } from '../core/config/config.js';
import { CheckFailedError, UsageError, oneLine } from '../core/errors.js';
import { userInfo } from 'node:os';
import type pg from 'pg';
import { ackLine } from '../reconcile/findings/acknowledgement-text.js';
import {
  type FindingFilter,
  type StoredFinding,
  acknowledgeFinding,
  listFindings,
  listScopes,
} from '../reconcile/findings/findings-store.js';
import { shownCause } from '../reconcile/engine/backup-lookup.js';
import { clip, keyOrOrigin, renderReconcileText } from '../reconcile/report/report-terminal.js';
import { FINDING_KINDS } from '../reconcile/model/types.js';
import { localTableTarget } from '../reconcile/reconcile-config.js';
import { runReconcile } from '../reconcile/run-reconcile.js';
import { withStateDb } from '../core/state/state-db.js';
import { type GlobalArgs, commandContext, defineCommand, requireDay } from './context.js';
import { formatTime, printJson, printTable } from './output.js';

export function registerReconcileCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(reconcileCommand).command(findingsCommand);
}

const RECONCILE_EPILOG =
  'Findings: missing (upstream only), extra (local only), amount_mismatch (价税合计), tax_mismatch (金额/税额/税率), party_mismatch (销方/购方识别号), ' +
  'status_mismatch, date_mismatch, time_mismatch (same day; informational unless in failOn), duplicate, duplicate_line (an export line repeated), ' +
  'red_letter (a red-letter invoice paired with the one it offsets; informational), red_letter_unpaired, invalid_input; ' +
  'fields one side does not read are not compared, and the report lists them; ' +
  'causes pending_sync (issued within reconcile.syncLag: not counted as failing), probable_typo (a missing and an extra one typing error apart, same amount and day) ' +
  'and in_backup (a missing invoice that the named backup still holds: it reached the local database and was lost after; needs encryption.identityFile). ' +
  'Exit 0 when no finding of a reconcile.failOn kind, 1 when there are some, 2 for configuration errors (a file that is not an export), 3 when a side could not be read. ' +
  'Findings persist in the state DB: list them with `fapiao-guard findings --open`.';

const reconcileCommand = defineCommand({
  command: 'reconcile',
  describe:
    'compare upstream invoices (tax platform export, database or API) with the local table and explain every difference',
  builder: (y) =>
    y
      .option('from', {
        type: 'string',
        describe: 'first day of the window (YYYY-MM-DD in config timezone); default: reconcile.window',
      })
      .option('to', { type: 'string', describe: 'last day of the window, inclusive' })
      .option('report-dir', {
        type: 'string',
        describe: 'where to write reconcile-<run>.json/.csv/.html (default reconcile.reportDir)',
      })
      .example('$0 reconcile', 'the configured window (default: the last 35 days, today included)')
      .example('$0 reconcile --from 2026-11-01 --to 2026-11-30 --json', 'one month; print the JSON report on stdout')
      .example(
        '$0 reconcile --report-dir /srv/audit/reconcile',
        'keep the JSON, CSV (Excel) and HTML reports for the auditors',
      )
      .epilog(RECONCILE_EPILOG),
  handler: async (args) => {
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
    else process.stdout.write(renderReconcileText(report, result.files));
    if (s.upstreamShrank)
      throw new CheckFailedError(s.upstreamShrank.message, {
        hint: `check the upstream export or API (damaged or partial?); see '${result.files.html}'`,
      });
    if (!result.ok) {
      throw new CheckFailedError(
        `${s.failing} reconciliation finding(s) of kinds in reconcile.failOn for ${report.run.window.from}..${report.run.window.to}`,
        { hint: `see '${result.files.html}'` },
      );
    }
  },
});

const findingsAckCommand = defineCommand({
  command: 'ack <finding>',
  describe:
    'acknowledge a finding: record who accepted or explained it and why; it stays listed but no longer fails reconcile or status',
  builder: (a) =>
    a
      .positional('finding', {
        type: 'string',
        demandOption: true,
        describe: "the finding's id from 'findings' (or a prefix of 4+ digits), or its invoice key",
      })
      .option('reason', {
        type: 'string',
        demandOption: true,
        describe: 'why it is accepted (shown in every report)',
      })
      .option('by', { type: 'string', describe: 'who accepts it (default: the login name)' })
      .option('scope', {
        type: 'string',
        describe: 'only findings of this scope (when a key is in more than one)',
      })
      .example(
        '$0 findings ack 3fa9c2d1 --reason "红冲 confirmed by the tax office, ticket 4411" --by li.wei',
        'accept one finding',
      )
      .epilog(
        'If a later run sees the finding changed (another amount, status, day or party), the acknowledgement ends and the finding fails again, marked reopened. Exit 0 recorded · 2 no such open finding, or ambiguous.',
      ),
  handler: async (a) => {
    const ctx = await commandContext(a);
    refuseOtherTarget(ctx.config, a.target);
    // one line each: they are printed in terminals, CSV cells and HTML
    const reason = oneLine(String(a.reason)).replace(/[\u0000-\u001f\u007f]/g, ' ');
    if (!reason) throw new UsageError('--reason is empty: say why the finding is accepted');
    if (reason.length > 2000)
      throw new UsageError(
        `--reason is ${reason.length} characters; keep it under 2000 and point to a ticket or document for more`,
      );
    const by = oneLine(a.by ?? loginName()).replace(/[\u0000-\u001f\u007f]/g, ' ');
    if (!by) throw new UsageError('--by is empty: name who accepts the finding');
    const f = await withStateDb(ctx.config, (client) =>
      acknowledgeFinding(client, String(a.finding), { reason, by, ...(a.scope ? { scope: a.scope } : {}) }),
    );
    if (ctx.json) return printJson(f);
    process.stdout.write(
      `${f.id} ${f.kind} ${keyOrOrigin(f.details)}: ${ackLine(f, ctx.config.timezone)}\nscope: ${f.scope}\n`,
    );
  },
});

const findingsCommand = defineCommand({
  command: 'findings',
  describe:
    'list reconciliation findings recorded in the state DB (open and resolved), filtered; `findings ack` accepts one',
  builder: (y) =>
    y
      .command(findingsAckCommand)
      .option('open', { type: 'boolean', default: false, describe: 'only findings not yet resolved' })
      .option('kind', {
        type: 'string',
        array: true,
        choices: [...FINDING_KINDS],
        describe: 'only these kinds (repeat the flag for more)',
      })
      .option('from', {
        type: 'string',
        describe: 'only findings of this day or later (YYYY-MM-DD, the invoice day)',
      })
      .option('to', { type: 'string', describe: 'only findings of this day or earlier' })
      .option('seller', {
        type: 'string',
        describe: 'only findings about this seller tax ID (销方识别号), either side',
      })
      .option('scope', { type: 'string', describe: "only this scope (the 'scope:' line above each table)" })
      .example('$0 findings --open', 'what still needs attention, with first and last seen')
      .example(
        '$0 findings --kind missing --kind amount_mismatch --from 2026-11-01 --to 2026-11-30',
        'one month, two kinds',
      )
      .example('$0 findings --json', 'every finding with its id, history, acknowledgement and evidence')
      .epilog(
        'A finding is resolved when a later run covering its day no longer sees it; a pending_sync finding still missing after the sync lag is escalated to missing. ' +
          'Findings are kept per scope (the local table and the upstream, by location): two configurations sharing a state database list separately.',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    refuseOtherTarget(ctx.config, args.target);
    if (args.from !== undefined) requireDay('--from', args.from);
    if (args.to !== undefined) requireDay('--to', args.to);
    const filter: FindingFilter = {
      open: Boolean(args.open),
      ...(args.kind?.length ? { kinds: args.kind } : {}),
      ...(args.from ? { from: args.from } : {}),
      ...(args.to ? { to: args.to } : {}),
      ...(args.seller ? { seller: args.seller.trim() } : {}),
      ...(args.scope ? { scope: args.scope } : {}),
    };
    const rows = await withStateDb(ctx.config, async (client) => {
      if (filter.scope !== undefined) await requireScope(client, filter.scope);
      return listFindings(client, filter);
    });
    if (ctx.json) return printJson(rows);
    if (rows.length === 0)
      return void process.stdout.write(args.open ? 'no open findings\n' : 'no findings recorded\n');
    printFindingTables(rows, ctx.config.timezone);
  },
});

/** --scope names a scope that has findings recorded; else a usage error listing the known ones. */
async function requireScope(client: pg.Client, scope: string): Promise<void> {
  const scopes = await listScopes(client);
  if (!scopes.includes(scope))
    throw new UsageError(`no findings recorded for scope '${scope}'`, {
      hint: scopes.length ? `known scopes: ${scopes.map((x) => `'${x}'`).join(', ')}` : 'run reconcile first',
    });
}

/** One table per scope, under its 'scope:' line. */
function printFindingTables(rows: readonly StoredFinding[], tz: string): void {
  const scopes = [...new Set(rows.map((r) => r.scope))];
  for (const [i, scope] of scopes.entries()) {
    process.stdout.write(`${i > 0 ? '\n' : ''}scope: ${scope}\n`);
    printTable(
      ['id', 'kind', 'cause', 'key', 'day', 'first seen', 'last seen', 'state'],
      rows
        .filter((r) => r.scope === scope)
        .map((r) => [
          r.id,
          r.kind,
          r.cause ?? shownCause(r.details) ?? '',
          keyOrOrigin(r.details),
          r.day ?? '',
          formatTime(r.firstSeen, tz),
          formatTime(r.lastSeen, tz),
          findingState(r, tz),
        ]),
    );
  }
}

/** The state column of `findings`: resolved, acknowledged (by whom, why) or open. */
function findingState(r: StoredFinding, tz: string): string {
  if (r.resolvedAt) return `resolved ${formatTime(r.resolvedAt, tz)}`;
  if (r.acknowledgement) return clip(`acknowledged by ${r.acknowledgement.by}: ${r.acknowledgement.reason}`);
  return r.escalatedAt ? 'open (escalated)' : 'open';
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

/** Reconciliation is of one local table: --target may name its target, nothing else. */
function refuseOtherTarget(config: Config, target: string | undefined): void {
  if (target === undefined) return;
  const local = config.reconcile
    ? localTableTarget(
        config.reconcile,
        config.targets.map((t) => t.name),
      )?.target
    : undefined;
  if (target === local) return;
  throw new UsageError(
    local
      ? `reconcile compares the table of target '${local}' (reconcile.local); --target '${target}' names another`
      : `reconcile compares the table in reconcile.local, not a target; drop --target '${target}'`,
  );
}
