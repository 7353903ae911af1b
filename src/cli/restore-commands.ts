// verify and restore: the commands that read backups back.
import type { Argv } from 'yargs';
import { pushAll } from '../core/arrays.js';
import { loadIdentities } from '../core/encryption-keys.js';
import { CheckFailedError, NotFoundError, UsageError } from '../core/errors.js';
import type { Manifest } from '../core/repository/manifest.js';
import { type RestoreResult, runRestore } from '../drill/restore/restore.js';
import { checkManifestSignature, manifestVerifyKey, withSignatureCheck } from '../core/signing/manifest-signature.js';
import { type VerifyReport, verifyBackup } from '../drill/verify.js';
import type { TargetConfig } from '../core/config/config.js';
import {
  type CommandContext,
  type GlobalArgs,
  IDENTITY_OPTION,
  REPOSITORY_OPTION,
  commandContext,
  defineCommand,
  requireCount,
  selectTargets,
  singleTarget,
} from './context.js';
import { printJson, printTable } from './output.js';

export function registerRestoreCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(verifyCommand).command(restoreCommand);
}

const BACKUP_DESCRIBE = 'backup id (or unique prefix), or latest';

const verifyCommand = defineCommand({
  command: 'verify [backup]',
  describe: 'check stored objects against their manifest (size, sha256); no key needed',
  builder: (y) =>
    y
      .positional('backup', { type: 'string', default: 'latest', describe: BACKUP_DESCRIBE })
      .option('all', { type: 'boolean', default: false, describe: 'verify every complete backup' })
      .option('deep', {
        type: 'boolean',
        default: false,
        describe: 'also decrypt (needs encryption.identityFile), list the archive with pg_restore and read the details',
      })
      .option('identity', {
        type: 'string',
        describe: 'identity file for --deep (overrides encryption.identityFile)',
      })
      .option('repository', REPOSITORY_OPTION)
      .example('$0 verify', 'the newest backup of each target')
      .example('$0 verify --all --repository offsite', 'every backup in the second repository')
      .example('$0 verify --all --json', 'every backup, as JSON; exit 1 if any object is damaged')
      .example('$0 verify 20261128T020000Z --deep', 'decrypt and read one backup')
      .epilog(
        'Exit codes: 0 every object matches its manifest · 1 an object is missing, truncated, altered or does not decrypt · 2 usage (unknown backup) · 3 storage unreachable.',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const identities = args.deep ? await loadIdentities(ctx.config, args.identity) : undefined;
    // a missing or uninitialised repository is "could not check" (exit 3), never an empty pass
    await ctx.repo.requireRepository();
    const signingKey = await manifestVerifyKey(ctx.config);
    const verifyOne = async (manifest: Manifest): Promise<VerifyReport> =>
      withSignatureCheck(
        await verifyBackup(ctx.repo, manifest, {
          deep: args.deep,
          signal: ctx.signal,
          ...(identities ? { identities } : {}),
        }),
        await checkManifestSignature(ctx.repo, manifest, signingKey),
      );
    const reports: VerifyReport[] = [];
    const nothing: string[] = [];
    for (const target of selectTargets(ctx.config, args.target)) {
      const found = args.all
        ? await verifyEvery(ctx, target, args.deep, verifyOne)
        : await verifyNamed(ctx, target, args.backup, verifyOne);
      if (found.length === 0) nothing.push(target.name);
      pushAll(reports, found);
    }
    if (ctx.json) printJson(reports);
    else printVerifyTable(reports);
    throwIfUnverified(ctx, reports, nothing);
  },
});

/** --all: every backup of the target that is not incomplete; one without a readable manifest fails. */
async function verifyEvery(
  ctx: CommandContext,
  target: TargetConfig,
  deep: boolean,
  verifyOne: (manifest: Manifest) => Promise<VerifyReport>,
): Promise<VerifyReport[]> {
  const reports: VerifyReport[] = [];
  const backups = (await ctx.repo.listBackups(target.name)).filter((b) => b.status !== 'incomplete');
  for (const b of backups) {
    if (b.manifest) reports.push(await verifyOne(b.manifest));
    else
      reports.push({
        backupId: b.id,
        target: b.target,
        deep,
        ok: false,
        checks: [{ name: 'manifest', ok: false, problem: b.problem ?? 'manifest unreadable' }],
      });
  }
  return reports;
}

/** The named backup (or the newest); none at all for `latest` is no report, an unknown id an error. */
async function verifyNamed(
  ctx: CommandContext,
  target: TargetConfig,
  backup: string,
  verifyOne: (manifest: Manifest) => Promise<VerifyReport>,
): Promise<VerifyReport[]> {
  let manifest;
  try {
    manifest = await ctx.repo.resolve(target.name, backup);
  } catch (err) {
    if (err instanceof NotFoundError && backup === 'latest') return [];
    throw err;
  }
  return [await verifyOne(manifest)];
}

function printVerifyTable(reports: readonly VerifyReport[]): void {
  printTable(
    ['target', 'backup', 'check', 'result'],
    reports.flatMap((r) =>
      r.checks.map((c) => [
        r.target,
        r.backupId,
        c.name,
        c.ok
          ? `ok${c.actual !== undefined && !/^[0-9a-f]{64}$/.test(String(c.actual)) ? ` (${c.actual})` : ''}`
          : `FAILED: ${c.problem ?? ''}`,
      ]),
    ),
  );
}

/** A failed check is exit 1 (the first one named); a target with nothing to verify is exit 2 after the others. */
function throwIfUnverified(ctx: CommandContext, reports: readonly VerifyReport[], nothing: readonly string[]): void {
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) {
    const first = failed[0]!.checks.find((c) => !c.ok)!;
    throw new CheckFailedError(
      first.problem ?? `${first.name} failed for '${failed[0]!.target}/${failed[0]!.backupId}'`,
      {
        hint: `${failed.length} of ${reports.length} backups failed verification; do not rely on them, take a new backup`,
      },
    );
  }
  if (nothing.length > 0) {
    throw new NotFoundError(
      `no backup to verify of target(s) ${nothing.map((n) => `'${n}'`).join(', ')} in '${ctx.repo.storage.location}'`,
      {
        hint: "an initialised but empty repository, or the wrong one: 'fapiao-guard list' shows what is there; 'fapiao-guard backup' makes one",
      },
    );
  }
}

const restoreCommand = defineCommand({
  command: 'restore <backup>',
  describe: 'restore a backup into a database, then prove row counts and checksums match',
  builder: (y) =>
    y
      .positional('backup', { type: 'string', demandOption: true, describe: BACKUP_DESCRIBE })
      .option('to', {
        type: 'string',
        demandOption: true,
        describe: 'postgres:// URL of the (empty) database to restore into',
      })
      .option('jobs', {
        type: 'number',
        describe: 'parallel pg_restore jobs; > 1 spools the archive to restore.spoolDir first',
      })
      .option('clean', {
        type: 'boolean',
        default: false,
        describe: 'drop objects before recreating them (allows a non-empty target)',
      })
      .option('no-owner', {
        type: 'boolean',
        default: false,
        describe: 'do not restore ownership and privileges (roles missing on the target server)',
      })
      .option('identity', IDENTITY_OPTION)
      .option('repository', REPOSITORY_OPTION)
      .example('$0 restore latest --to postgres://127.0.0.1/invoices_check', 'the newest backup, streamed')
      .example('$0 restore latest --repository offsite --to postgres://…', 'from the second copy (the primary lost)')
      .example('$0 restore 20261128T020000Z-7f3a --to postgres://… --jobs 4', 'spooled, parallel restore')
      .epilog(
        'Refuses the backup\'s own source database, and a non-empty target without --clean. Without this tool: see README "Restore by hand".\n' +
          'Exit codes: 0 restored and proven equal · 1 the backup is damaged or the restored data differs · 2 refused (target not empty, own source, unknown backup) · 3 could not complete (database, storage, pg_restore, interrupted).',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const target = singleTarget(ctx.config, args.target);
    checkRestoreTo(args.to, target.url);
    const jobs = args.jobs ?? ctx.config.restore.jobs;
    requireCount('--jobs', jobs, args.jobs);
    const identities = await loadIdentities(ctx.config, args.identity);
    const manifest = await ctx.repo.resolve(target.name, args.backup);
    const result = await runRestore(
      { config: ctx.config, repo: ctx.repo, logger: ctx.logger, identities, signal: ctx.signal },
      target,
      manifest,
      { to: args.to, jobs, clean: args.clean, noOwner: args['no-owner'] },
    );
    if (ctx.json) printJson(result);
    else printRestoreResult(result);
    if (!result.ok) {
      const bad = result.checks.filter((c) => !c.ok);
      throw new CheckFailedError(
        `restored data differs from backup '${result.backupId}': ${bad.map((c) => `${c.name} expected ${c.expected}, got ${c.actual}`).join('; ')}`,
      );
    }
  },
});

function printRestoreResult(result: RestoreResult): void {
  printTable(
    ['check', 'expected', 'actual', 'result'],
    result.checks.map((c) => [c.name, String(c.expected), String(c.actual), c.ok ? 'ok' : 'MISMATCH']),
  );
  process.stdout.write(
    `${result.ok ? 'restored and verified' : 'restored, but the data DIFFERS from the backup'}: ${result.target}/${result.backupId} → ${result.to} in ${result.seconds.total.toFixed(1)}s\n`,
  );
}

/**
 * `--to` must be a postgres:// URL. A bare name (`--to nc_shop_r2`) is refused rather than taken
 * as a database on the source's server: a restore should never land on a server the operator
 * did not spell out. The hint shows the URL it probably meant (the source's server, no password).
 */
export function checkRestoreTo(to: string, sourceUrl: string): void {
  if (/^postgres(ql)?:\/\//i.test(to)) return;
  let suggestion = 'postgres://HOST:PORT/NAME';
  if (/^[\p{L}_][\p{L}\p{N}_$-]*$/u.test(to)) {
    try {
      const url = new URL(sourceUrl);
      url.password = '';
      url.search = '';
      url.pathname = `/${encodeURIComponent(to)}`;
      suggestion = url.toString();
    } catch {
      // the source URL itself is unusual: keep the generic form
    }
  }
  throw new UsageError(
    `--to must be a postgres:// URL of the database to restore into, got '${to.length > 60 ? `${to.slice(0, 60)}…` : to}'`,
    {
      hint: `e.g. --to ${suggestion} (create the database first: createdb)`,
    },
  );
}
