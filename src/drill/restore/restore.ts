// `restore <id|latest> --to URL`: streamed (or spooled for --jobs > 1) into pg_restore, a parallel
// backup table file by table file (directory-restore.ts), then the restored copy is counted and
// checksummed against the backup's details.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config, TargetConfig } from '../../core/config/config.js';
import type { Identity } from '../../core/crypto/index.js';
import { OperationError, isFgError, messageOf } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { libpqInvocation, withClient } from '../../core/pg/connect.js';
import type { DetailCheck } from '../../core/pg/details.js';
import { linkedController } from '../../core/pipeline/abort.js';
import { PG_CLIENT_HINT, feedTool, startTool } from '../../core/pipeline/child-process.js';
import { createProgress, progressText } from '../../core/progress.js';
import type { Manifest } from '../../core/repository/manifest.js';
import type { Repository } from '../../core/repository/repository.js';
import { maskUrl } from '../../core/storage/mask-url.js';
import { assertBound } from '../../backup/backup-identity.js';
import { checksAlongside } from './checks-alongside.js';
import { isDirectoryBackup } from '../../backup/directory-objects.js';
import { dumpFolderFiles, restoreFromObjects } from './directory-restore.js';
import { dumpObjectOf, openDumpArchive, spoolDumpArchive } from './dump-source.js';
import {
  type ArchiveToc,
  type RestoredTableRef,
  UNTRANSLATED,
  parseToc,
  tableDataTracker,
} from './restore-progress.js';
import { ensureSpoolFolder, removeOrphanSpools, spoolEntryName, spoolFileName } from '../../core/spool-dir.js';
import { guardRestoreTarget, readTargetFacts } from './target-guard.js';

export interface RestoreOptions {
  to: string;
  jobs: number;
  clean: boolean;
  noOwner?: boolean;
  /** skip the safety checks: only for drills into a database they created */
  trustedTarget?: boolean;
  /** told as soon as a table's data is in (from pg_restore --verbose), so checks can start early */
  onTableData?: (ref: RestoredTableRef) => void;
}

export interface RestoreContext {
  config: Config;
  repo: Repository;
  logger: Logger;
  identities: readonly Identity[];
  signal?: AbortSignal;
  progress?: boolean;
}

export interface RestoreResult {
  backupId: string;
  target: string;
  to: string;
  ok: boolean;
  checks: DetailCheck[];
  seconds: { restore: number; checks: number; total: number };
}

export async function runRestore(
  ctx: RestoreContext,
  target: TargetConfig,
  manifest: Manifest,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const log = ctx.logger.child({ target: target.name, backup: manifest.id, to: maskUrl(options.to) });
  const t0 = Date.now();
  if (!options.trustedTarget) {
    // The source as it is now (best effort: it may be down, which is when restores happen); the
    // guard then also catches a source whose manifest lacks the system identifier.
    const [facts, source] = await Promise.all([
      withClient(options.to, readTargetFacts),
      withClient(target.url, readTargetFacts).catch(() => undefined),
    ]);
    guardRestoreTarget(manifest, facts, options.to, options.clean, target.url, source);
  }
  log.info({ jobs: options.jobs }, 'restore started');
  const checking = checksAlongside(ctx.repo, manifest, ctx.identities, options.to, {
    concurrency: Math.max(2, options.jobs),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  try {
    // nothing is written before the backup is known to be itself (backup-identity.ts)
    assertBound(await checking.details, manifest);
    await restoreArchive(ctx, manifest, { ...options, onTableData: checking.onTableData });
  } catch (err) {
    await checking.cancel();
    throw err;
  }
  const restoreSeconds = (Date.now() - t0) / 1000;
  log.info(
    { seconds: restoreSeconds, tablesCheckedMeanwhile: checking.measuredEarly(), checksYielded: checking.yields() },
    'pg_restore finished',
  );

  const t1 = Date.now();
  const checks = await checking.finish();
  const ok = checks.every((c) => c.ok);
  const seconds = { restore: restoreSeconds, checks: (Date.now() - t1) / 1000, total: (Date.now() - t0) / 1000 };
  (ok ? log.info.bind(log) : log.error.bind(log))(
    { checks: checks.length, failed: checks.filter((c) => !c.ok).length, seconds: seconds.total },
    ok ? 'restore verified: row counts and checksums match the backup' : 'restored data differs from the backup',
  );
  return { backupId: manifest.id, target: manifest.target, to: maskUrl(options.to), ok, checks, seconds };
}

/** The archive's table of contents (`pg_restore -l`), to check pg_restore's progress lines against. */
async function listToc(archive: string, signal: AbortSignal): Promise<ArchiveToc> {
  const tool = startTool('pg_restore', ['-l', archive], {
    env: { ...process.env, ...UNTRANSLATED },
    signal,
    label: `pg_restore -l of '${archive}'`,
    installHint: PG_CLIENT_HINT,
  });
  const chunks: Buffer[] = [];
  tool.child.stdout!.on('data', (b: Buffer) => chunks.push(b));
  await tool.exited;
  return parseToc(Buffer.concat(chunks).toString('utf8'));
}

/** What both restore paths read the backup through: the linked abort, the progress line, the object source. */
function restoreSource(ctx: RestoreContext, manifest: Manifest, totalBytes: number) {
  const controller = linkedController(ctx.signal);
  const { signal } = controller;
  const started = Date.now();
  const progress = createProgress(
    `restore ${manifest.id}`,
    process.stderr,
    ctx.progress ?? Boolean(process.stderr.isTTY),
  );
  const source = {
    repo: ctx.repo,
    manifest,
    identities: ctx.identities,
    signal,
    onBytes: (n: number) => progress.update(progressText(n, totalBytes, started)),
  };
  return { controller, signal, progress, source };
}

/** Streams the archive into pg_restore, or spools it to a file first for parallel jobs. */
export async function restoreArchive(ctx: RestoreContext, manifest: Manifest, options: RestoreOptions): Promise<void> {
  if (isDirectoryBackup(manifest)) return restoreFolder(ctx, manifest, options);
  const { controller, signal, progress, source } = restoreSource(ctx, manifest, dumpObjectOf(manifest).size);
  const { dbnameArg, env } = libpqInvocation(options.to);
  const flags = [
    '--exit-on-error',
    ...(options.clean ? ['--clean', '--if-exists'] : []),
    ...(options.noOwner ? ['--no-owner', '--no-privileges'] : []),
  ];
  const label = `pg_restore into '${maskUrl(options.to)}'`;
  let tracker = options.onTableData && options.jobs <= 1 ? tableDataTracker(false, options.onTableData) : undefined;
  const tool = (args: string[], stdin: 'pipe' | 'ignore') =>
    tracker
      ? startTool('pg_restore', ['--verbose', ...args], {
          env: { ...env, ...UNTRANSLATED },
          signal,
          stdin,
          label,
          installHint: PG_CLIENT_HINT,
          onStderrLine: tracker.line,
        })
      : startTool('pg_restore', args, { env, signal, stdin, label, installHint: PG_CLIENT_HINT });
  try {
    await removeOrphanSpools(ctx.config.restore.spoolDir, ctx.logger);
    if (options.jobs <= 1) {
      await feedTool(await openDumpArchive(source), tool([...flags, dbnameArg], 'pipe'));
      tracker?.end();
      return;
    }
    // pg_restore -j needs a seekable file: spool the verified, decrypted archive first, in a
    // private folder where the next run finds it should this one be killed (src/core/spool-dir.ts)
    const spool = path.join(
      await ensureSpoolFolder(ctx.config.restore.spoolDir),
      spoolFileName(manifest.id, randomBytes(4).toString('hex')),
    );
    try {
      await spoolDumpArchive(source, spool).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || /no space left/i.test(messageOf(err))) {
          throw new OperationError(`no space left while spooling the archive to '${spool}'`, {
            hint: 'set restore.spoolDir to a larger disk, or restore with --jobs 1 (streamed)',
          });
        }
        throw err;
      });
      progress.done();
      if (options.onTableData) tracker = tableDataTracker(true, options.onTableData, await listToc(spool, signal));
      await tool([...flags, `--jobs=${options.jobs}`, dbnameArg, spool], 'ignore').exited;
      tracker?.end();
    } finally {
      await rm(spool, { force: true });
    }
  } catch (err) {
    controller.abort(err);
    throw isFgError(err)
      ? err
      : new OperationError(`restore of '${manifest.target}/${manifest.id}' failed: ${messageOf(err)}`, { cause: err });
  } finally {
    progress.done();
  }
}

/**
 * A parallel backup (one object per file of pg_dump's folder): restored section by section with
 * each table file decrypted just before pg_restore reads it (directory-restore.ts), in a private
 * spool folder deleted at the end.
 */
async function restoreFolder(ctx: RestoreContext, manifest: Manifest, options: RestoreOptions): Promise<void> {
  const total = dumpFolderFiles(manifest).reduce((s, f) => s + f.object.size, 0);
  const { controller, progress, source } = restoreSource(ctx, manifest, total);
  const { dbnameArg, env } = libpqInvocation(options.to);
  const flags = ['--exit-on-error', ...(options.noOwner ? ['--no-owner', '--no-privileges'] : [])];
  try {
    await removeOrphanSpools(ctx.config.restore.spoolDir, ctx.logger);
    const folder = path.join(
      await ensureSpoolFolder(ctx.config.restore.spoolDir),
      spoolEntryName(manifest.id, randomBytes(4).toString('hex'), 'dir'),
    );
    try {
      await restoreFromObjects(source, folder, {
        jobs: options.jobs,
        flags,
        clean: options.clean,
        dbnameArg,
        env,
        label: `pg_restore into '${maskUrl(options.to)}'`,
        ...(options.onTableData ? { onTableData: options.onTableData } : {}),
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  } catch (err) {
    controller.abort(err);
    throw isFgError(err)
      ? err
      : new OperationError(`restore of '${manifest.target}/${manifest.id}' failed: ${messageOf(err)}`, { cause: err });
  } finally {
    progress.done();
  }
}
