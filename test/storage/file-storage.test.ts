// FileStorage: the conformance suite on a temp directory, plus what only a file system can do
// wrong: temp files, fsync/rename, disk full.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, OperationError } from '../../src/core/errors.js';
import { FileStorage } from '../../src/core/storage/file-storage.js';
import { chunked, collect, failingAfter, storageConformance } from './conformance.js';

storageConformance('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fg-file-storage-'));
  return {
    storage: new FileStorage(pathToFileURL(dir).href),
    multipartBytes: 20 * 1024 * 1024,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

describe('FileStorage specifics', () => {
  let dir: string;
  let storage: FileStorage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fg-file-specific-'));
    storage = new FileStorage(pathToFileURL(dir).href);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('removes its temp file when the input fails', async () => {
    await expect(storage.save('t/x.bin', failingAfter(300_000, new Error('boom')))).rejects.toBeInstanceOf(
      OperationError,
    );
    expect(await allFiles(join(dir, 't'))).toEqual([]);
  });

  it('never lists temp files of saves in progress', async () => {
    await mkdir(join(dir, 'tmpl'), { recursive: true });
    await writeFile(join(dir, 'tmpl', '.dump.age.tmp-0123456789ab'), 'partial');
    await storage.save('tmpl/dump.age', Readable.from([Buffer.from('whole')]));
    expect(await collect(storage.list('tmpl/'))).toEqual([{ name: 'tmpl/dump.age', size: 5 }]);
  });

  it('accepts only absolute file URLs', () => {
    expect(() => new FileStorage('file://relative/path')).toThrow(ConfigError);
    expect(new FileStorage('file:///var/backups/').root).toBe('/var/backups');
  });
});

// A 1 MiB tmpfs is a real full disk. Mounting needs root and a sandbox that allows it.
const full = await mkdtemp(join(tmpdir(), 'fg-full-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full], { encoding: 'utf8' });
const mounted = mount.status === 0;
const cannotMount = `needs capability 'mount tmpfs': cannot mount a 1 MiB tmpfs (${(mount.stderr || mount.error?.message || '').trim()}); disk full without it: test/backup/disk-full.test.ts`;

describe('FileStorage on a full disk (1 MiB tmpfs)', () => {
  afterAll(async () => {
    spawnSync('umount', [full]);
    await rm(full, { recursive: true, force: true });
  });

  it('fails with a no-space OperationError naming the path, and leaves no temp file', async (ctx) => {
    if (!mounted) ctx.skip(cannotMount);
    const storage = new FileStorage(pathToFileURL(full).href);
    const err = await storage
      .save('backups/db/dump.age', chunked(randomBytes(2 * 1024 * 1024), 64 * 1024))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const { message, hint } = err as OperationError;
    expect(message).toBe(`cannot write '${full}/backups/db/dump.age': no space left on device (ENOSPC)`);
    expect(message).toContain(full);
    expect(hint).toContain('disk full');
    expect(await allFiles(full)).toEqual([]);
    // and the disk is usable again: nothing was leaked
    await storage.save('backups/db/small', Readable.from([Buffer.alloc(512 * 1024)]));
  });
});
