// verify --deep of a parallel (directory-format) backup: every file's object decrypted and
// decompressed to nowhere (its plaintext size against the manifest), and toc.dat listed by
// pg_restore, whose table data items must be exactly the data files the backup stored.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DATA_FILE, type DirectoryFile } from '../backup/directory-objects.js';
import type { Identity } from '../core/crypto/index.js';
import { IntegrityError } from '../core/errors.js';
import { PG_CLIENT_HINT, ZSTD_HINT, outputAfterExit, pipeInto, startTool } from '../core/pipeline/child-process.js';
import type { Manifest } from '../core/repository/manifest.js';
import { openDecrypted } from '../core/repository/read-encrypted.js';
import type { Repository } from '../core/repository/repository.js';
import { dumpFolderFiles } from './restore/directory-restore.js';

/** Pure: the dump ids of `pg_restore -l` lines that carry data (TABLE DATA, BLOBS, …: those with a file). */
export function tableDataItems(listing: string): Set<string> {
  const ids = new Set<string>();
  for (const line of listing.split('\n')) {
    const item = /^(\d+); \d+ \d+ TABLE DATA /.exec(line);
    if (item) ids.add(item[1]!);
  }
  return ids;
}

async function plaintextBytes(
  repo: Repository,
  manifest: Manifest,
  f: DirectoryFile,
  identities: readonly Identity[],
  signal?: AbortSignal,
): Promise<{ bytes: number; body?: Buffer }> {
  const objectPath = repo.objectPath(manifest.target, manifest.id, f.object.name);
  const plain = await openDecrypted(repo.storage, objectPath, f.object, identities, signal ? { signal } : {});
  let stream = plain;
  if (f.zstd) {
    const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], {
      stdin: 'pipe',
      ...(signal ? { signal } : {}),
      label: `zstd -d of '${objectPath}'`,
      installHint: ZSTD_HINT,
    });
    stream = outputAfterExit(zstd);
    pipeInto(plain, zstd).catch((err: unknown) => {
      zstd.kill();
      stream.destroy(err as Error);
    });
  }
  const keep = f.file === 'toc.dat';
  const chunks: Buffer[] = [];
  let bytes = 0;
  await pipeline(
    stream,
    new Writable({
      write: (chunk: Buffer, _e, cb) => {
        bytes += chunk.length;
        if (keep) chunks.push(chunk);
        cb();
      },
    }),
  );
  if (f.object.plainSize !== undefined && bytes !== f.object.plainSize)
    throw new IntegrityError(`'${objectPath}' decrypts to ${bytes} bytes, the manifest recorded ${f.object.plainSize}`);
  return keep ? { bytes, body: Buffer.concat(chunks) } : { bytes };
}

/** Every file read back; the TOC's data items against the stored data files. Returns a summary. */
export async function readWholeFolder(
  repo: Repository,
  manifest: Manifest,
  identities: readonly Identity[],
  signal?: AbortSignal,
): Promise<string> {
  const files = dumpFolderFiles(manifest);
  let bytes = 0;
  let toc: Buffer | undefined;
  for (const f of files) {
    const read = await plaintextBytes(repo, manifest, f, identities, signal);
    bytes += read.bytes;
    toc ??= read.body;
  }
  // toc.dat alone: names and definitions, no rows
  const folder = await mkdtemp(path.join(tmpdir(), 'fapiao-guard-toc-'));
  try {
    await writeFile(path.join(folder, 'toc.dat'), toc!, { mode: 0o600 });
    const list = startTool('pg_restore', ['--list', '--format=directory', folder], {
      env: { ...process.env, LC_ALL: 'C' },
      ...(signal ? { signal } : {}),
      label: 'pg_restore --list of toc.dat',
      installHint: PG_CLIENT_HINT,
    });
    const [listing] = await Promise.all([text(list.child.stdout!), list.exited]);
    const items = tableDataItems(listing);
    const stored = new Set(files.flatMap((f) => DATA_FILE.exec(f.file)?.[1] ?? []));
    const missing = [...items].filter((id) => !stored.has(id));
    const extra = [...stored].filter((id) => !items.has(id));
    if (missing.length > 0)
      throw new IntegrityError(
        `toc.dat lists table data item(s) ${missing.slice(0, 5).join(', ')} with no stored file`,
      );
    if (extra.length > 0)
      throw new IntegrityError(`stored data file(s) ${extra.slice(0, 5).join(', ')} are not in toc.dat`);
    return `${files.length} files, ${bytes} bytes read back; toc.dat lists ${items.size} table data items, each stored`;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
