// evidence and evidence verify: a sealed pack of a period for auditors, and its check.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { type EvidenceResult, buildEvidencePack } from '../evidence/build-pack.js';
import { type PackVerifyReport, verifyEvidencePack } from '../evidence/verify-pack.js';
import { CheckFailedError, ConfigError, UsageError } from '../core/errors.js';
import { formatBytes } from '../core/progress.js';
import { loadSigningKey, loadVerifyKey } from '../core/signing/signing-keys.js';
import { withStateDb } from '../core/state/state-db.js';
import { type GlobalArgs, commandContext, defineCommand, refuseOption, requireDay } from './context.js';
import { printJson, printTable } from './output.js';
import { DEFAULT_REPORT_DIR } from '../core/config/report-dir.js';

export function registerEvidenceCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(evidenceCommand);
}

const evidenceVerifyCommand = defineCommand({
  command: 'verify <pack>',
  describe:
    'check an evidence pack: every file against index.json, index.json against its signature (needs only the pack and the public key)',
  builder: (v) =>
    v
      .positional('pack', {
        type: 'string',
        demandOption: true,
        describe: 'the .zip written by fapiao-guard evidence',
      })
      .option('key', {
        type: 'string',
        demandOption: true,
        describe: "the public signing key (the .pub file from 'keygen --signing')",
      })
      .example('$0 evidence verify pack.zip --key signing.key.pub', 'exit 0 when intact')
      .epilog(
        'Exit codes: 0 intact · 1 a file is altered, missing or added, the signature does not match, or an entry name is unsafe (the message names it) · 2 usage (no such file, not a public key).',
      ),
  handler: async (v) => {
    refuseOption(v, 'target', 'evidence verify', 'a pack covers every target');
    const key = await loadVerifyKey(String(v.key));
    const file = path.resolve(String(v.pack));
    const exists = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) throw new UsageError(`no evidence pack '${file}'`);
    const report = await verifyEvidencePack(file, key);
    if (v.json) printJson(report);
    else if (report.ok)
      process.stdout.write(
        `intact: ${report.files} file(s) match index.json, signed by key ${report.keyId}; period ${report.period?.from}..${report.period?.to} (${report.period?.timezone}), made ${report.generatedAt}\n`,
      );
    else
      printTable(
        ['entry', 'problem'],
        report.problems.map((p) => [p.name, p.problem]),
      );
    if (!report.ok) throw packFailure(file, report);
  },
});

function packFailure(file: string, report: PackVerifyReport): CheckFailedError {
  const first = report.problems[0]!;
  return new CheckFailedError(
    `evidence pack '${file}' fails verification: '${first.name}' ${first.problem}`,
    report.problems.length > 1
      ? {
          hint: `${report.problems.length} problems: ${report.problems
            .map((p) => p.name)
            .slice(0, 8)
            .join(', ')}`,
        }
      : {},
  );
}

const evidenceCommand = defineCommand({
  command: 'evidence',
  describe:
    'write a signed evidence pack (zip) of a period for auditors: reconcile reports, findings with acknowledgements, drill reports, backup manifests, status',
  builder: (y) =>
    y
      .command(evidenceVerifyCommand)
      .option('from', { type: 'string', describe: 'first day of the period (YYYY-MM-DD in config timezone)' })
      .option('to', { type: 'string', describe: 'last day of the period, inclusive' })
      .option('out', { type: 'string', describe: 'the .zip to write (refuses to overwrite)' })
      .option('report-dir', {
        type: 'string',
        describe: 'where reconcile wrote its reports (default reconcile.reportDir)',
      })
      .example(
        '$0 evidence --from 2026-11-01 --to 2026-11-30 --out fapiao-2026-11.zip',
        'November, signed with signing.keyFile',
      )
      .epilog(
        'The pack holds reconcile/ (the JSON, CSV and HTML reports of the runs started in the period), findings/ (the ledger of the period with every acknowledgement, JSON and CSV), ' +
          'drills/ (drill reports), backups/ (manifests of the backups started in the period, with their signatures), status.json, and index.json (sha256 and size of each file) with index.json.sig (Ed25519, signing.keyFile). ' +
          'The same inputs give the same bytes. Exit codes: 0 written · 2 usage or no signing key · 3 state database or repository unreachable.',
      ),
  handler: async (args) => {
    refuseOption(args, 'target', 'evidence', 'a pack covers every target');
    const { from, to } = period(args.from, args.to);
    if (!args.out) throw new UsageError('evidence needs --out FILE.zip');
    const ctx = await commandContext(args);
    const keyFile = ctx.config.signing?.keyFile;
    if (!keyFile)
      throw new ConfigError('an evidence pack is signed, and signing.keyFile is not configured', [], {
        hint: "make a key with 'fapiao-guard keygen --signing --out FILE' and set signing.keyFile",
      });
    const signingKey = await loadSigningKey(keyFile);
    const reportDir = path.resolve(args['report-dir'] ?? ctx.config.reconcile?.reportDir ?? DEFAULT_REPORT_DIR);
    const started = Date.now();
    const out = path.resolve(args.out);
    const result = await withStateDb(ctx.config, (db) =>
      buildEvidencePack({ config: ctx.config, repo: ctx.repo, db, from, to, out, reportDir, signingKey }),
    );
    const seconds = (Date.now() - started) / 1000;
    if (ctx.json) return printJson(packJson(result, seconds));
    process.stdout.write(
      `evidence pack written to ${result.file}: ${result.index.files.length} file(s), ${formatBytes(result.bytes)}, signed by key ${result.index.keyId} (${seconds.toFixed(1)} s)\n`,
    );
    for (const note of result.index.notes) process.stdout.write(`note: ${note}\n`);
    process.stdout.write(`check it with: fapiao-guard evidence verify ${result.file} --key <the .pub file>\n`);
  },
});

/** --from and --to: both given, dates, in order. */
function period(from: string | undefined, to: string | undefined): { from: string; to: string } {
  for (const [flag, v] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (v === undefined)
      throw new UsageError(`evidence needs ${flag}`, {
        hint: "e.g. 'fapiao-guard evidence --from 2026-11-01 --to 2026-11-30 --out pack.zip'",
      });
    requireDay(flag, v);
  }
  if (from! > to!) throw new UsageError(`the period starts (${from}) after it ends (${to})`);
  return { from: from!, to: to! };
}

function packJson(result: EvidenceResult, seconds: number): Record<string, unknown> {
  return {
    file: result.file,
    bytes: result.bytes,
    seconds,
    keyId: result.index.keyId,
    files: result.index.files.length,
    notes: result.index.notes,
  };
}
