// `demo`: README's first command. Runs the main job end to end on embedded defaults.
import path from 'node:path';
import type { Argv } from 'yargs';
import { type DemoResult, runDemo } from '../demo/demo.js';
import { CheckFailedError } from '../core/errors.js';
import { formatBytes } from '../core/progress.js';
import { type GlobalArgs, defineCommand, interruptSignal, loggerFor, refuseOption } from './context.js';
import { printJson } from './output.js';

export function registerDemoCommand(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(demoCommand);
}

const demoCommand = defineCommand({
  command: 'demo',
  describe: 'try it: sample invoices → encrypted backup → verify → restore → proof → drill → reconcile, all local',
  builder: (y) =>
    y
      .option('dir', {
        type: 'string',
        default: '.fapiao-guard-demo',
        describe: 'where the demo keeps its key, config and file:// repository',
      })
      .option('server', {
        type: 'string',
        default: process.env.FAPIAO_GUARD_DEMO_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        describe: 'PostgreSQL server for the demo databases (fapiao_demo_<id>, …_restore, …_state; <id> from --dir)',
      })
      .option('invoices', { type: 'number', default: 20000, describe: 'sample size' })
      .example('$0 demo', 'needs only a local PostgreSQL that lets postgres create databases'),
  handler: async (args) => {
    refuseOption(args, 'target', 'demo', "it makes its own sample target ('invoices')");
    // The demo is for people: its summary is the output, progress logs only when asked for.
    const logger = loggerFor({
      ...args,
      'log-level': args['log-level'] ?? process.env.FAPIAO_GUARD_LOG_LEVEL ?? 'warn',
    });
    const result = await runDemo({
      dir: args.dir,
      serverUrl: args.server,
      invoices: args.invoices,
      logger,
      signal: interruptSignal(logger),
    });
    if (args.json) printJson(result);
    else process.stdout.write(demoSummary(result, args.invoices).join('\n'));
    if (!result.verify.ok || !result.restore.ok || result.drill.verdict !== 'pass')
      throw new CheckFailedError('the demo backup did not verify or restore cleanly; see the output above');
  },
});

/** What the demo did, step by step, and the commands to look further (for people; --json has it all). */
function demoSummary(result: DemoResult, invoices: number): string[] {
  const rel = path.relative(process.cwd(), result.dir) || '.';
  const cfg = `--config ${rel}/fapiao-guard.yaml`;
  return [
    '',
    `fapiao-guard demo — everything below happened just now on this machine`,
    `  1. sample database   ${result.databases.source}: ${invoices} invoices with line items`,
    `  2. backup            ${result.backup.id}: ${formatBytes(result.backup.storedBytes)} encrypted (age) in ${rel}/repo`,
    `  3. verify --deep     ${result.verify.ok ? 'ok' : 'FAILED'}: ${result.verify.checks.length} checks (sizes, sha256, decryption, full pg_restore read)`,
    `  4. restore           into ${result.databases.restore} in ${result.restore.seconds.total.toFixed(1)}s`,
    `  5. proof             ${result.restore.checks.filter((c) => c.ok).length}/${result.restore.checks.length} row counts and checksums match the backup`,
    `  6. restore drill     ${result.drill.verdict.toUpperCase()}: ${result.drill.checks.length} checks, RTO ${result.drill.seconds.total.toFixed(1)}s, backup age ${result.drill.rpoSeconds.toFixed(0)}s`,
    `                      report: ${path.relative(process.cwd(), result.drill.htmlReport ?? '') || result.drill.htmlReport}`,
    `  7. reconcile         ${result.taxExport.rows} rows in a tax-platform export (${path.relative(process.cwd(), result.taxExport.file)}) with ${result.taxExport.planted.length} planted problems`,
    ...(result.deletedAfterBackup
      ? [
          `                      (1 of them deleted locally after backup ${result.deletedAfterBackup.backupId}: invoice ${result.deletedAfterBackup.key})`,
        ]
      : []),
    ...rowsLine(result),
    `                      found ${plantedFound(result)} of them against public.invoices: ${findingsLine(result.reconcile.report.summary.findings)}`,
    ...(result.reconcile.report.summary.inBackup > 0
      ? [
          `                      ${result.reconcile.report.summary.inBackup} missing invoice(s) still in a backup (cause in_backup): ${inBackupLine(result)}`,
        ]
      : []),
    `                      report: ${path.relative(process.cwd(), result.reconcile.files.html)} (also .csv for Excel, .json)`,
    '',
    'next steps:',
    `  npx fapiao-guard list ${cfg}`,
    `  npx fapiao-guard verify --all ${cfg}`,
    `  npx fapiao-guard drills ${cfg}`,
    `  npx fapiao-guard findings --open ${cfg}`,
    `  age -d -i ${rel}/age.key ${rel}/repo/backups/invoices/${result.backup.id}/dump.zst.age | zstd -d | pg_restore --list | head`,
    '',
  ];
}

/** The export's rows as reconcile counted them: read = accepted + rejected; accepted = distinct + duplicates. */
function rowsLine(result: DemoResult): string[] {
  const rows = result.reconcile.report.summary.rows?.upstream;
  if (!rows) return [];
  return [
    `                      reconcile read ${rows.read} rows = ${rows.accepted} accepted + ${rows.rejected} rejected; ${rows.distinct} distinct invoices + ${rows.duplicateRows} duplicate rows`,
  ];
}

/** `<key> in backup <id>` for each in_backup finding: where to restore it from. */
function inBackupLine(result: DemoResult): string {
  return result.reconcile.report.findings
    .filter((f) => f.cause === 'in_backup')
    .map((f) => `${f.key} in backup ${String(f.evidence.inBackup)}`)
    .join(', ');
}

function findingsLine(findings: Record<string, number>): string {
  const parts = Object.entries(findings)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  return parts.length > 0 ? parts.join(', ') : 'no differences';
}

/** How many planted problems the reconciliation reported under the key and kind they were planted as. */
function plantedFound(result: DemoResult): number {
  const { findings } = result.reconcile.report;
  const found = new Set(findings.map((f) => `${f.kind} ${f.key}`));
  // a damaged row has no trustworthy key: count those by kind
  const invalid = { planted: 0, found: findings.filter((f) => f.kind === 'invalid_input').length };
  let matched = 0;
  for (const p of result.taxExport.planted) {
    if (p.kind === 'invalid_input') invalid.planted += 1;
    else if (found.has(`${p.kind} ${p.key}`)) matched += 1;
  }
  return matched + Math.min(invalid.planted, invalid.found);
}
