// init, keygen, backup, list: the commands that write or describe the repository.
import { access, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { runBackup, type BackupResult } from '../backup/backup.js';
import { formatIdentityFile, generateIdentity } from '../core/crypto/index.js';
import { ConfigError, UsageError, isFgError } from '../core/errors.js';
import { generateSigningKeyPair } from '../core/signing/signing-keys.js';
import { bucketCheckOf } from '../core/storage/incomplete-uploads.js';
import { formatBytes } from '../core/progress.js';
import {
  type GlobalArgs,
  REPOSITORY_OPTION,
  commandContext,
  defineCommand,
  refuseOption,
  selectTargets,
} from './context.js';
import { formatTime, printJson, printTable } from './output.js';

function keyExists(file: string): UsageError {
  return new UsageError(`'${file}' exists; refusing to overwrite a key`, {
    hint: 'choose another --out, or move the old key away first',
  });
}

/** keygen --signing: FILE (private, 0600) and FILE.pub; neither is overwritten. */
async function writeSigningKeyPair(out: string, json: boolean): Promise<void> {
  const pair = generateSigningKeyPair();
  const pub = `${out}.pub`;
  await mkdir(path.dirname(out), { recursive: true });
  for (const file of [out, pub]) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      throw keyExists(file);
  }
  await writeFile(pub, pair.publicPem, { mode: 0o644, flag: 'wx' });
  await writeFile(out, pair.privatePem, { mode: 0o600, flag: 'wx' });
  if (json) printJson({ keyFile: out, publicKeyFile: pub, keyId: pair.keyId, publicKey: pair.publicPem });
  else
    process.stdout.write(
      `signing key written to ${out} (mode 0600): set signing.keyFile to it\npublic key (key id ${pair.keyId}) written to ${pub}: give it to the auditor, set signing.publicKeyFile where manifests are verified\n${pair.publicPem}`,
    );
}

export function registerBackupCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(initCommand).command(keygenCommand).command(backupCommand).command(listCommand);
}

const initCommand = defineCommand({
  command: 'init',
  describe: 'create the repository (fapiao-guard.json) at repository.url, or the one --repository names',
  builder: (y) =>
    y
      .option('repository', REPOSITORY_OPTION)
      .example('$0 init --config /etc/fapiao-guard/fapiao-guard.yaml', 'create the repository named in the config')
      .example('$0 init --repository offsite', 'create a second repository (repositories[]) before the first copy'),
  handler: async (args) => {
    refuseOption(args, 'target', 'init', 'one repository holds the backups of every target');
    const ctx = await commandContext(args);
    // S3 Object Lock configured on a bucket that cannot hold it: say so before writing anything
    const problems = (await bucketCheckOf(ctx.repo.storage)?.checkBucket()) ?? [];
    if (problems.length > 0) {
      throw new ConfigError(
        `repository '${ctx.repo.storage.location}' does not match repository.s3 in the configuration`,
        problems,
        {
          hint: 'create the bucket with Object Lock enabled (e.g. aws s3api create-bucket --object-lock-enabled-for-bucket), or remove repository.s3.objectLock',
        },
      );
    }
    const { created } = await ctx.repo.init(ctx.config.encryption.recipients);
    if (ctx.json) printJson({ repository: ctx.repo.storage.location, created });
    else process.stdout.write(`${created ? 'created' : 'already initialised'}: ${ctx.repo.storage.location}\n`);
  },
});

const keygenCommand = defineCommand({
  command: 'keygen',
  describe:
    'make an age key pair: the identity file (private, 0600) and its recipient (public); with --signing an Ed25519 signing key pair',
  builder: (y) =>
    y
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'where to write the identity file, or the private signing key with --signing (refuses to overwrite)',
      })
      .option('signing', {
        type: 'boolean',
        default: false,
        describe:
          'an Ed25519 signing key pair for evidence packs and manifests: FILE (private, 0600) and FILE.pub (public, for the auditor)',
      })
      .example(
        '$0 keygen --out /etc/fapiao-guard/age.key',
        'then put the printed age1… recipient in encryption.recipients',
      )
      .example(
        '$0 keygen --signing --out /etc/fapiao-guard/signing.key',
        'then set signing.keyFile; give signing.key.pub to the auditor',
      )
      .epilog(
        'Keep the identity file off the backup host if you can: backups need only the recipient. Lose it and the backups are unreadable: store a copy offline.',
      ),
  handler: async (args) => {
    refuseOption(args, 'target', 'keygen', 'the key pair serves every target (encryption.recipients)');
    const out = path.resolve(args.out);
    if (args.signing) return writeSigningKeyPair(out, Boolean(args.json));
    const { identity, recipient } = generateIdentity();
    await mkdir(path.dirname(out), { recursive: true });
    try {
      await writeFile(out, formatIdentityFile(identity), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw keyExists(out);
      throw err;
    }
    if (args.json) printJson({ identityFile: out, recipient });
    else
      process.stdout.write(
        `identity written to ${out} (mode 0600)\nrecipient (public key, for encryption.recipients): ${recipient}\n`,
      );
  },
});

const backupCommand = defineCommand({
  command: 'backup',
  describe: 'take an encrypted backup of each target (or --target) and store it',
  builder: (y) =>
    y
      .example('$0 backup', 'back up every configured target')
      .example('$0 backup --target invoices --json', 'one target; print the result as JSON')
      .epilog(
        'A backup is complete only once its manifest.json is written, last. A failed or interrupted backup leaves no manifest; earlier backups are untouched.\n' +
          'Exit codes: 0 every target backed up · 2 usage or configuration · 3 a target could not be backed up (the others still are; the error names it).',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const results: BackupResult[] = [];
    const failures: Array<{ target: string; error: unknown }> = [];
    // One target failing must not cost the others their backup: try all, report all.
    for (const target of selectTargets(ctx.config, args.target)) {
      if (ctx.signal.aborted) break;
      try {
        results.push(
          await runBackup({ config: ctx.config, repo: ctx.repo, logger: ctx.logger, signal: ctx.signal }, target),
        );
      } catch (error) {
        failures.push({ target: target.name, error });
      }
    }
    if (ctx.json) printJson(args.target ? (results[0] ?? null) : results);
    else if (results.length > 0)
      printTable(
        ['target', 'backup', 'stored', 'seconds'],
        results.map((r) => [
          r.target,
          r.id,
          formatBytes(r.storedBytes),
          ((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1),
        ]),
      );
    const first = failures[0]?.error;
    if (first !== undefined && results.length > 0 && isFgError(first)) {
      first.hint = `${failures.length} of ${failures.length + results.length} targets failed (${failures.map((f) => f.target).join(', ')}); the others were backed up`;
    }
    if (first !== undefined) throw first;
  },
});

const listCommand = defineCommand({
  command: 'list',
  describe: 'list backups in the repository, oldest first',
  builder: (y) =>
    y
      .option('repository', REPOSITORY_OPTION)
      .example('$0 list --json', 'id, target, startedAt, finishedAt, storedBytes, status')
      .example('$0 list --repository offsite', 'what the second copy holds'),
  handler: async (args) => {
    const ctx = await commandContext(args);
    if (args.target) selectTargets(ctx.config, args.target); // an unknown name is a usage error, not an empty list
    await ctx.repo.requireRepository(); // "no backups" only where there is a repository to have them
    const entries = await ctx.repo.listBackups(args.target);
    const rows = entries.map((e) => ({
      id: e.id,
      target: e.target,
      startedAt: e.manifest?.startedAt ?? null,
      finishedAt: e.manifest?.finishedAt ?? null,
      storedBytes: e.storedBytes,
      status: e.status,
      ...(e.problem ? { problem: e.problem } : {}),
    }));
    if (ctx.json) return printJson(rows);
    if (rows.length === 0) return void process.stdout.write(`no backups in ${ctx.repo.storage.location}\n`);
    printTable(
      ['target', 'backup', 'started', 'stored', 'status'],
      rows.map((r) => [
        r.target,
        r.id,
        r.startedAt ? formatTime(r.startedAt, ctx.config.timezone) : '-',
        formatBytes(r.storedBytes),
        r.status === 'complete'
          ? 'complete'
          : r.status === 'damaged'
            ? `DAMAGED (${r.problem})`
            : 'INCOMPLETE (no manifest)',
      ]),
    );
  },
});
