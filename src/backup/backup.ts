// `backup`: one consistent, encrypted, verifiable backup of one target (docs/ARCHITECTURE.md#data-flow).
// Checklist: snapshot → (dump ∥ details + invoice keys) → globals → details → confirm sizes → manifest last.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Config, TargetConfig } from '../core/config/config.js';
import { fingerprint } from '../core/crypto/index.js';
import { InterruptedError, OperationError, isFgError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { databaseOf, connect, libpqInvocation } from '../core/pg/connect.js';
import { type BackupDetails, measureDetails, prepareDetails } from '../core/pg/details.js';
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
import { ensureSpoolFolder, removeOrphanSpools, spoolEntryName } from '../core/spool-dir.js';
import { type DirectoryDumpResult, dumpDirectoryToStorage } from './directory-dump.js';
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
  /** parallel backups: the most the spool folder held at once */
  peakSpool?: { bytes: number; files: number };
}

export const DETAILS_NAME = 'details.json.age';
export const GLOBALS_NAME = 'globals.sql.age';

export async function runBackup(ctx: BackupContext, target: TargetConfig): Promise<BackupResult> {
  const run = await startRun(ctx, target);
  try {
    const snapshot = await exportSnapshot(run);
    // Before any object is written: wrong verifyTables stop here (nothing to clean up), and
    // sequences are read before pg_dump reads them (they only move forward in between).
    const prepared = await prepareDetails(run.source, target.verifyTables);
    const dumped = await dumpWhileMeasuring(run, snapshot, prepared);
    await run.source.query('commit');
    throwIfInterrupted(run.signal, `backup of '${target.name}'`);
    const objects: ManifestObject[] = [...dumped.dumpObjects, ...(dumped.keysObject ? [dumped.keysObject] : [])];
    if (target.globals)
      objects.push(
        await dumpGlobals(
          run.repo,
          run.pathOf(GLOBALS_NAME),
          run.dbnameArg,
          run.env,
          run.recipients,
          target.name,
          run.signal,
        ),
      );
    objects.push(await storeBoundDetails(run, snapshot, dumped.details, objects)); // the details last: they pin every other object
    await confirmStored(run, objects);
    throwIfInterrupted(run.signal, `backup of '${target.name}'`);
    return await commitManifest(run, buildManifest(run, snapshot, objects, dumped.details.tables.length), dumped.spool);
  } catch (err) {
    throw failure(run, err);
  } finally {
    run.signal.removeEventListener('abort', run.closeSource);
    await run.source.end().catch(() => undefined);
  }
}

/** The signature, then manifest.json: the commit marker, written last. */
async function commitManifest(
  run: Run,
  manifest: Manifest,
  spool: DirectoryDumpResult['peakSpool'] | undefined,
): Promise<BackupResult> {
  await signManifest(run.repo, manifest, run.config); // the signature first: manifest.json stays the commit marker
  await run.repo.writeManifest(manifest);
  const storedBytes = manifest.objects.reduce((s, o) => s + o.size, 0);
  run.log.info(
    {
      storedBytes,
      objects: manifest.objects.length,
      seconds: (Date.parse(manifest.finishedAt) - run.startedAt.getTime()) / 1000,
    },
    'backup complete',
  );
  const objects = manifest.objects.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
  return {
    id: run.id,
    target: run.target.name,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    storedBytes,
    objects,
    ...(spool ? { peakSpool: spool } : {}),
  };
}

/** Stop whatever still runs; one error saying what failed (the interruption, when there was one). */
function failure(run: Run, err: unknown): Error {
  const { ctx, target } = run;
  run.controller.abort(err);
  run.progress.done();
  // When the run was interrupted, that is the cause, whatever pg_dump said as it died.
  const cause =
    ctx.signal?.aborted && isFgError(ctx.signal.reason)
      ? new InterruptedError(`backup of '${target.name}' ${ctx.signal.reason.message}; no manifest written`)
      : err;
  run.log.error({ err: messageOf(cause) }, 'backup failed; no manifest was written, earlier backups are untouched');
  return isFgError(cause)
    ? cause
    : new OperationError(
        `backup of '${target.name}' (database '${databaseOf(target.url)}') failed: ${messageOf(cause)}`,
        { cause },
      );
}

/** One run's fixed facts and resources: ids, logger, abort controller, the source connection. */
interface Run {
  ctx: BackupContext;
  target: TargetConfig;
  repo: Repository;
  config: Config;
  id: string;
  startedAt: Date;
  log: Logger;
  controller: AbortController;
  signal: AbortSignal;
  recipients: ReturnType<typeof loadRecipients>;
  pathOf: (name: string) => string;
  dbnameArg: string;
  env: NodeJS.ProcessEnv;
  pgDumpVersion: string;
  source: Awaited<ReturnType<typeof connect>>;
  closeSource: () => void;
  progress: ReturnType<typeof createProgress>;
}

interface Snapshot {
  snapshot: string;
  version: string;
  database: string;
  /** an upper bound of the dump: lets S3 pick a part size that fits */
  sizeHint: number;
  systemIdentifier?: string;
}

async function startRun(ctx: BackupContext, target: TargetConfig): Promise<Run> {
  const { repo, config } = ctx;
  await repo.requireInitialised();
  const recipients = loadRecipients(config);
  const startedAt = (ctx.now ?? (() => new Date()))();
  const id = makeBackupId(startedAt);
  const log = ctx.logger.child({ target: target.name, backup: id });
  const controller = linkedController(ctx.signal);
  const { dbnameArg, env } = libpqInvocation(target.url);
  log.info({ repository: repo.storage.location, ...(target.jobs > 1 ? { jobs: target.jobs } : {}) }, 'backup started');
  const [pgDumpVersion, source] = await Promise.all([
    toolVersion('pg_dump'),
    connect(target.url, 'fapiao-guard backup'),
  ]);
  const progress = createProgress(
    `backup ${target.name}`,
    process.stderr,
    ctx.progress ?? Boolean(process.stderr.isTTY),
  );
  // On abort, close the source connection: a long checksum query must not delay the exit.
  const closeSource = (): void => void source.end().catch(() => undefined);
  controller.signal.addEventListener('abort', closeSource, { once: true });
  const pathOf = (name: string): string => repo.objectPath(target.name, id, name);
  return {
    ctx,
    target,
    repo,
    config,
    id,
    startedAt,
    log,
    controller,
    signal: controller.signal,
    recipients,
    pathOf,
    dbnameArg,
    env,
    pgDumpVersion,
    source,
    closeSource,
    progress,
  };
}

async function exportSnapshot(run: Run): Promise<Snapshot> {
  const systemIdentifier = await run.source
    .query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
    .then(
      (r) => r.rows[0]?.id,
      () => undefined,
    ); // needs pg_monitor or superuser; only used to refuse restoring onto the source
  await run.source.query('begin isolation level repeatable read, read only');
  const { rows } = await run.source.query<{ snapshot: string; version: string; database: string; size: string }>(
    `select pg_export_snapshot() as snapshot, current_setting('server_version') as version, current_database() as database,
            pg_database_size(current_database())::text as size`,
  );
  const { snapshot, version, database } = rows[0]!;
  run.log.info({ snapshot, database, serverVersion: version }, 'snapshot exported');
  return {
    snapshot,
    version,
    database,
    sizeHint: Number(rows[0]!.size),
    ...(systemIdentifier ? { systemIdentifier } : {}),
  };
}

/** pg_dump (one stream, or a directory with `jobs`) while the details and key index are read in the same snapshot. */
async function dumpWhileMeasuring(run: Run, snap: Snapshot, prepared: Awaited<ReturnType<typeof prepareDetails>>) {
  const { config, target, signal, log, progress } = run;
  const compression = config.backup.compression;
  const started = Date.now();
  const onProgress = (plain: number, stored: number): void =>
    progress.update(
      `${plain > 0 ? `dumped ${formatBytes(plain)} → ` : ''}stored ${formatBytes(stored)} (${formatBytes(stored / Math.max((Date.now() - started) / 1000, 0.001))}/s)`,
    );
  const common = {
    storage: run.repo.storage,
    snapshot: snap.snapshot,
    dbnameArg: run.dbnameArg,
    env: run.env,
    extraArgs: target.pgDumpArgs,
    compression,
    recipients: run.recipients,
    targetName: target.name,
    signal,
    onProgress,
  };
  const dumping: Promise<Pick<DirectoryDumpResult, 'objects'> & Partial<DirectoryDumpResult>> =
    target.jobs > 1
      ? ensureSpoolFolder(config.restore.spoolDir).then(async (dir) => {
          await removeOrphanSpools(config.restore.spoolDir, log);
          return dumpDirectoryToStorage({
            ...common,
            pathOf: run.pathOf,
            jobs: target.jobs,
            folder: path.join(dir, spoolEntryName(run.id, randomBytes(4).toString('hex'), 'dir')),
          });
        })
      : dumpToStorage({
          ...common,
          objectPath: run.pathOf(dumpObjectName(compression)),
          objectName: dumpObjectName(compression),
          sizeHint: snap.sizeHint,
        }).then((o) => ({ objects: [o] }));
  const keySide = keyIndexTable(config, target);
  const keyOptions: KeyExportOptions = {
    storage: run.repo.storage,
    path: run.pathOf(INVOICE_KEYS_NAME),
    recipients: run.recipients,
    signal,
    logger: log,
    snapshot: snap.snapshot,
    dbnameArg: run.dbnameArg,
    env: run.env,
  };
  const [dumped, [details, keysObject]] = await allOrAbort(run.controller, [
    dumping,
    // Details, then the key index, on the snapshot's own connection while pg_dump runs. A second
    // connection in the same snapshot (set transaction snapshot) running both at once measured
    // no faster on 2M invoices: the cores are already busy with pg_dump, zstd and age.
    measureDetails(run.source, prepared).then(
      async (d) => [d, keySide ? await exportInvoiceKeys(run.source, keySide, keyOptions) : undefined] as const,
    ),
  ] as const);
  progress.done();
  const bytes = dumped.objects.reduce((s, o) => s + o.size, 0);
  const plainBytes = dumped.objects.reduce((s, o) => s + (o.plainSize ?? 0), 0);
  log.info(
    {
      bytes,
      plainBytes,
      objects: dumped.objects.length,
      seconds: (Date.now() - started) / 1000,
      ...(dumped.peakSpool ? { peakSpool: dumped.peakSpool } : {}),
    },
    'dump stored',
  );
  return { dumpObjects: dumped.objects, details, keysObject, spool: dumped.peakSpool };
}

/** The details, encrypted, carrying (authenticated) the backup's identity and every other object's sha256. */
async function storeBoundDetails(
  run: Run,
  snap: Snapshot,
  details: BackupDetails,
  objects: ManifestObject[],
): Promise<ManifestObject> {
  const identity: BackupIdentity = {
    backupId: run.id,
    target: run.target.name,
    database: snap.database,
    snapshot: snap.snapshot,
    startedAt: run.startedAt.toISOString(),
    ...(snap.systemIdentifier ? { systemIdentifier: snap.systemIdentifier } : {}),
    objects: objects.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
  };
  return saveEncryptedText(
    run.repo.storage,
    run.pathOf(DETAILS_NAME),
    DETAILS_NAME,
    ['json'],
    JSON.stringify(bindDetails(details, identity)),
    run.recipients,
    run.signal,
  );
}

/**
 * Commit protocol: every object is confirmed in storage before the manifest makes the backup real.
 * With S3 Object Lock the retention the server reports is recorded per object (S3Storage.save
 * already verified or applied it); an object without one fails the backup.
 */
async function confirmStored(run: Run, objects: ManifestObject[]): Promise<void> {
  const { repo, pathOf } = run;
  const objectLock = run.config.repository.s3.objectLock;
  for (const object of objects) {
    const stat = await repo.storage.stat(pathOf(object.name));
    if (!stat || stat.size !== object.size) {
      throw new OperationError(
        `'${pathOf(object.name)}' reads back as ${stat ? `${stat.size} bytes` : 'missing'}, expected ${object.size} bytes`,
      );
    }
    if (objectLock && repo.storage.location.startsWith('s3://')) {
      if (!stat.retention)
        throw new OperationError(
          `'${pathOf(object.name)}' in ${repo.storage.location} reads back without Object Lock retention (${objectLock.mode}, ${objectLock.days} days configured)`,
        );
      const { mode, retainUntil, versionId } = stat.retention;
      object.retention = { mode, retainUntil, ...(versionId ? { versionId } : {}) };
    }
  }
}

function buildManifest(run: Run, snap: Snapshot, objects: ManifestObject[], tables: number): Manifest {
  const compression = run.config.backup.compression;
  const parallel = run.target.jobs > 1;
  return {
    format: 1,
    id: run.id,
    target: run.target.name,
    database: snap.database,
    server: { version: snap.version, ...(snap.systemIdentifier ? { systemIdentifier: snap.systemIdentifier } : {}) },
    pgDump: {
      version: run.pgDumpVersion,
      format: parallel ? 'directory' : 'custom',
      compression: `${compression.kind}:${compression.level}`,
      ...(parallel ? { jobs: run.target.jobs } : {}),
    },
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    snapshot: snap.snapshot,
    objects,
    recipients: run.config.encryption.recipients.map(fingerprint),
    tables,
    tool: { name: 'fapiao-guard', version: TOOL_VERSION },
  };
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
