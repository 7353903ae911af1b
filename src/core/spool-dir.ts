// Where pg_restore --jobs reads the decrypted archive from, and where a parallel backup's
// pg_dump --format=directory writes: a folder of our own (`fapiao-guard-spool-<uid>`, mode 0700,
// refused when another user owns it or it is a link), with one file or folder per run named after
// its process. A run killed with -9 cannot delete its plaintext; the next restore, drill or
// parallel backup deletes every entry in the folder whose process is gone.
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processAlive } from './process-alive.js';
import { OperationError, messageOf } from './errors.js';
import type { Logger } from './logger.js';

const uid = (): number => process.getuid?.() ?? 0;

export function spoolFolder(base: string | undefined): string {
  return path.join(base ?? tmpdir(), `fapiao-guard-spool-${uid()}`);
}

/** The folder, created 0700 or checked to be ours and private. */
export async function ensureSpoolFolder(base: string | undefined): Promise<string> {
  const dir = spoolFolder(base);
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw new OperationError(`cannot create the spool folder '${dir}': ${messageOf(err)}`, {
      hint: 'set restore.spoolDir to a writable folder',
    });
  });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== uid() || (st.mode & 0o077) !== 0) {
    throw new OperationError(
      `spool folder '${dir}' is not a private folder of this user (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}${st.isSymbolicLink() ? ', a symbolic link' : ''}): the decrypted dump would be readable by others`,
      {
        hint: `remove it, or set restore.spoolDir to a folder only this user can read`,
      },
    );
  }
  return dir;
}

/** `<backup id>.<pid>.<random>.dump`: the pid tells whether its run is still alive. */
export function spoolFileName(backupId: string, random: string): string {
  return spoolEntryName(backupId, random, 'dump');
}

/** `<backup id>.<pid>.<random>.<kind>`: a file (`dump`) or a folder (`dir`, a directory-format dump). */
export function spoolEntryName(backupId: string, random: string, kind: 'dump' | 'dir'): string {
  return `${backupId}.${process.pid}.${random}.${kind}`;
}

/** Deletes spool files left by runs whose process is gone (kill -9, power loss). Returns their names. */
export async function removeOrphanSpools(base: string | undefined, logger?: Logger): Promise<string[]> {
  const dir = spoolFolder(base);
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(/\.(\d+)\.[0-9a-f]+\.(dump|dir)$/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await rm(path.join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  if (removed.length > 0)
    logger?.warn({ folder: dir, files: removed }, 'deleted decrypted dumps left by killed restores');
  return removed;
}
