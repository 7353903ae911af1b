// `backup`: one consistent, encrypted, verifiable backup of one target (docs/ARCHITECTURE.md#data-flow).
// Checklist: snapshot → (dump ∥ details + invoice keys) → globals → confirm sizes → manifest last.
import { Readable } from 'node:stream';
import type { Config, TargetConfig } from '../core/config/config.js';
import { fingerprint } from '../core/crypto/index.js';
import { InterruptedError, OperationError, isFgError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { databaseOf, connect, libpqInvocation } from '../core/pg/connect.js';
import { measureDetails, prepareDetails } from '../core/pg/details.js';
import { toolVersion } from '../core/pg/pg-version.js';
import { allOrAbort, linkedController, throwIfInterrupted } from '../core/pipeline/abort.js';
import { PG_CLIENT_HINT, startTool, outputAfterExit } from '../core/pipeline/child-process.js';
import { createProgress, formatBytes } from '../core/progress.js';
import { makeBackupId } from '../core/run-id.js';
import type { Manifest, ManifestObject } from '../core/repository/manifest.js';
import { signManifest } from '../core/signing/manifest-signature.js';
import type { Repository } from '../core/repository/repository.js';
import { TOOL_VERSION } from '../core/version.js';
import { type BackupIdentity, bindDetails } from './backup-identity.js';
import { dumpObjectName, dumpToStorage } from './dump-pipeline.js';
import { saveEncrypted, saveEncryptedText } from './encrypted-object.js';
import { loadRecipients } from '../core/encryption-keys.js';
import { INVOICE_KEYS_NAME, type KeyExportOptions, exportInvoiceKeys, keyIndexTable } from './invoice-keys.js';

export interface BackupContext {
  config: Config;
  repo: Repository;
  logger: Logger;
  signal?: AbortSignal;
  /** show a progress line on a terminal */
  progress?: boolean;
  now?: () => Date;
}

export interface BackupResult {
  id: string;
  target: string;
  startedAt: string;
  finishedAt: string;
  storedBytes: number;
  objects: Array<{ name: string; size: number; sha256: string }>;
}

export const DETAILS_NAME = 'details.json.age';
export const GLOBALS_NAME = 'globals.sql.age';

export async function runBackup(ctx: BackupContext, target: TargetConfig): Promise<BackupResult> {
  const { repo, config } = ctx;
  await repo.requireInitialised();
  const recipients = loadRecipients(config);
  const startedAt = (ctx.now ?? (() => new Date()))();
  const id = makeBackupId(startedAt);
  const log = ctx.logger.child({ target: target.name, backup: id });
  const controller = linkedController(ctx.signal);
  const { signal } = controller;
  const pathOf = (name: string) => repo.objectPath(target.name, id, name);
  const { dbnameArg, env } = libpqInvocation(target.url);

  log.info({ repository: repo.storage.location }, 'backup started');
  const [pgDumpVersion, source] = await Promise.all([toolVersion('pg_dump'), connect(target.url, 'fapiao-guard backup')]);
  const progress = createProgress(`backup ${target.name}`, process.stderr, ctx.progress ?? Boolean(process.stderr.isTTY));
  // On abort, close the source connection: a long checksum query must not delay the exit.
  const closeSource = (): void => void source.end().catch(() => undefined);
  signal.addEventListener('abort', closeSource, { once: true });
  try {
    const systemIdentifier = await source
      .query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
      .then((r) => r.rows[0]?.id, () => undefined); // needs pg_monitor or superuser; only used to refuse restoring onto the source
    await source.query('begin isolation level repeatable read, read only');
    const { rows } = await source.query<{ snapshot: string; version: string; database: string; size: string }>(
      `select pg_export_snapshot() as snapshot, current_setting('server_version') as version, current_database() as database,
              pg_database_size(current_database())::text as size`,
    );
    const { snapshot, version, database } = rows[0]!;
    const sizeHint = Number(rows[0]!.size); // an upper bound of the dump: lets S3 pick a part size that fits
    log.info({ snapshot, database, serverVersion: version }, 'snapshot exported');
    // Before any object is written: wrong verifyTables stop here (nothing to clean up), and
    // sequences are read before pg_dump reads them (they only move forward in between).
    const prepared = await prepareDetails(source, target.verifyTables);

    const compression = config.backup.compression;
    const dumpName = dumpObjectName(compression);
    const started = Date.now();
    const keySide = keyIndexTable(config, target);
    const keyOptions: KeyExportOptions = { storage: repo.storage, path: pathOf(INVOICE_KEYS_NAME), recipients, signal, logger: log, snapshot, dbnameArg, env };
    const [dumpObject, [details, keysObject]] = await allOrAbort(controller, [
      dumpToStorage({
        storage: repo.storage,
        objectPath: pathOf(dumpName),
        objectName: dumpName,
        snapshot,
        dbnameArg,
        env,
        extraArgs: target.pgDumpArgs,
        compression,
        recipients,
        targetName: target.name,
        signal,
        sizeHint,
        onProgress: (plain, stored) => progress.update(`${plain > 0 ? `dumped ${formatBytes(plain)} → ` : ''}stored ${formatBytes(stored)} (${formatBytes(stored / Math.max((Date.now() - started) / 1000, 0.001))}/s)`),
      }),
      // Details, then the key index, on the snapshot's own connection while pg_dump runs. A second
      // connection in the same snapshot (set transaction snapshot) running both at once measured
      // no faster on 2M invoices: the cores are already busy with pg_dump, zstd and age.
      measureDetails(source, prepared).then(async (d) => [d, keySide ? await exportInvoiceKeys(source, keySide, keyOptions) : undefined] as const),
    ] as const);
    progress.done();
    await source.query('commit');
    log.info({ bytes: dumpObject.size, plainBytes: dumpObject.plainSize, seconds: (Date.now() - started) / 1000 }, 'dump stored');
    throwIfInterrupted(signal, `backup of '${target.name}'`);

    const objects: ManifestObject[] = [dumpObject, ...(keysObject ? [keysObject] : [])];
    if (target.globals) objects.push(await dumpGlobals(repo, pathOf(GLOBALS_NAME), dbnameArg, env, recipients, target.name, signal));
    // the details last: inside them (authenticated) the backup's identity and every other object's sha256
    const identity: BackupIdentity = {
      backupId: id,
      target: target.name,
      database,
      snapshot,
      startedAt: startedAt.toISOString(),
      ...(systemIdentifier ? { systemIdentifier } : {}),
      objects: objects.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    };
    objects.push(await saveEncryptedText(repo.storage, pathOf(DETAILS_NAME), DETAILS_NAME, ['json'], JSON.stringify(bindDetails(details, identity)), recipients, signal));

    // Commit protocol: every object is confirmed in storage before the manifest makes the backup real.
    // With S3 Object Lock the retention the server reports is recorded per object (S3Storage.save
    // already verified or applied it); an object without one fails the backup.
    const objectLock = config.repository.s3.objectLock;
    for (const object of objects) {
      const stat = await repo.storage.stat(pathOf(object.name));
      if (!stat || stat.size !== object.size) {
        throw new OperationError(`'${pathOf(object.name)}' reads back as ${stat ? `${stat.size} bytes` : 'missing'}, expected ${object.size} bytes`);
      }
      if (objectLock && repo.storage.location.startsWith('s3://')) {
        if (!stat.retention) throw new OperationError(`'${pathOf(object.name)}' in ${repo.storage.location} reads back without Object Lock retention (${objectLock.mode}, ${objectLock.days} days configured)`);
        const { mode, retainUntil, versionId } = stat.retention;
        object.retention = { mode, retainUntil, ...(versionId ? { versionId } : {}) };
      }
    }
    throwIfInterrupted(signal, `backup of '${target.name}'`);
    const finishedAt = new Date();
    const manifest: Manifest = {
      format: 1,
      id,
      target: target.name,
      database,
      server: { version, ...(systemIdentifier ? { systemIdentifier } : {}) },
      pgDump: { version: pgDumpVersion, format: 'custom', compression: `${compression.kind}:${compression.level}` },
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      snapshot,
      objects,
      recipients: config.encryption.recipients.map(fingerprint),
      tables: details.tables.length,
      tool: { name: 'fapiao-guard', version: TOOL_VERSION },
    };
    await signManifest(repo, manifest, config); // the signature first: manifest.json stays the commit marker
    await repo.writeManifest(manifest);
    log.info({ storedBytes: objects.reduce((s, o) => s + o.size, 0), seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000 }, 'backup complete');
    return {
      id,
      target: target.name,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
      storedBytes: objects.reduce((s, o) => s + o.size, 0),
      objects: objects.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    };
  } catch (err) {
    controller.abort(err);
    progress.done();
    // When the run was interrupted, that is the cause, whatever pg_dump said as it died.
    const cause = ctx.signal?.aborted && isFgError(ctx.signal.reason) ? new InterruptedError(`backup of '${target.name}' ${ctx.signal.reason.message}; no manifest written`) : err;
    log.error({ err: messageOf(cause) }, 'backup failed; no manifest was written, earlier backups are untouched');
    throw isFgError(cause) ? cause : new OperationError(`backup of '${target.name}' (database '${databaseOf(target.url)}') failed: ${messageOf(cause)}`, { cause });
  } finally {
    signal.removeEventListener('abort', closeSource);
    await source.end().catch(() => undefined);
  }
}

async function dumpGlobals(
  repo: Repository,
  path: string,
  dbnameArg: string,
  env: NodeJS.ProcessEnv,
  recipients: Parameters<typeof saveEncrypted>[5],
  targetName: string,
  signal: AbortSignal,
): Promise<ManifestObject> {
  const tool = startTool('pg_dumpall', ['--globals-only', '--no-role-passwords', dbnameArg], {
    env,
    signal,
    label: `pg_dumpall --globals-only of '${targetName}'`,
    installHint: PG_CLIENT_HINT,
  });
  const out: Readable = outputAfterExit(tool);
  return saveEncrypted(repo.storage, path, GLOBALS_NAME, ['sql'], out, recipients, signal);
}
