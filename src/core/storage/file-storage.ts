// The file:// backend: a directory tree (local disk or NFS). An object appears only complete:
// written to a temp name, fsynced, renamed into place, and the directory fsynced.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ConfigError, isFgError } from '../errors.js';
import { errnoOf, fsError } from './fs-errors.js';
import { maskUrl } from './mask-url.js';
import type { Leftover, Leftovers } from './incomplete-uploads.js';
import type { LoadOptions, ObjectInfo, SaveOptions, Storage } from './storage.js';
import { abortReason, checkName, inputFailed, notFound } from './storage-errors.js';

/** `.<name>.tmp-<12 hex>`: what save writes before the rename; list never shows these. */
const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/;

export class FileStorage implements Storage, Leftovers {
  readonly location: string;
  /** absolute directory holding the repository */
  readonly root: string;

  constructor(url: string) {
    this.location = maskUrl(url);
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (err) {
      throw new ConfigError(`invalid repository url '${this.location}'`, [], {
        cause: err,
        hint: 'use an absolute file URL such as file:///var/backups/fapiao',
      });
    }
    if (!isAbsolute(root)) throw new ConfigError(`repository path in '${this.location}' is not absolute`);
    this.root = root.endsWith(sep) && root.length > 1 ? root.slice(0, -1) : root;
  }

  async save(name: string, body: Readable, options: SaveOptions = {}): Promise<ObjectInfo> {
    const path = this.pathOf(checkName(name));
    const dir = dirname(path);
    const temp = join(dir, `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
    const { signal } = options;
    let inputError: unknown;
    body.once('error', (err) => (inputError ??= err));
    let handle: FileHandle | undefined;
    let verb = 'create';
    try {
      signal?.throwIfAborted();
      await mkdirSynced(dir);
      handle = await open(temp, 'wx');
      verb = 'write';
      // Plain writes on the handle: a FileHandle write stream keeps a reference that makes
      // handle.close() wait forever when the stream is not auto-closed.
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset)).bytesWritten;
      }
      signal?.throwIfAborted();
      await handle.sync();
      const { size } = await handle.stat();
      await handle.close();
      handle = undefined;
      signal?.throwIfAborted();
      verb = 'rename';
      await rename(temp, path);
      verb = 'sync';
      await syncDir(dir);
      return { name, size };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      if (signal?.aborted) throw abortReason(signal);
      if (inputError !== undefined && (err === inputError || !errnoOf(err))) throw inputFailed(name, inputError);
      throw isFgError(err) ? err : fsError(err, verb, path);
    }
  }

  async load(name: string, options: LoadOptions = {}): Promise<Readable> {
    const path = this.pathOf(checkName(name));
    options.signal?.throwIfAborted();
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) throw notFound(name, this.location, err);
      throw fsError(err, 'read', path);
    }
    const info = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw fsError(err, 'read', path);
    });
    if (!info.isFile()) {
      await handle.close();
      throw notFound(name, this.location);
    }
    const stream = handle.createReadStream();
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(checkName(name));
    try {
      const info = await stat(path);
      return info.isFile() ? { name, size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw fsError(err, 'stat', path);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkName(prefix, { prefix: true });
    // Walk only the deepest directory the prefix names, then filter by the rest of the prefix.
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
    const found: ObjectInfo[] = [];
    await this.walk(base, found);
    const matching = found.filter((o) => o.name.startsWith(prefix));
    // S3 lists in UTF-8 byte order; compare the same way so both backends agree.
    matching.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    yield* matching;
  }

  async remove(name: string): Promise<void> {
    const path = this.pathOf(checkName(name));
    try {
      await unlink(path);
      await syncDir(dirname(path));
    } catch (err) {
      if (isMissing(err)) return;
      throw fsError(err, 'remove', path);
    }
    await this.removeIfEmpty(dirname(path));
  }

  /** Temp files and empty folders under `prefix` (a folder path ending in '/'), deepest first. */
  async listLeftovers(prefix: string): Promise<Leftover[]> {
    checkName(prefix, { prefix: true });
    const base = prefix.replace(/\/$/, '');
    const found: Leftover[] = [];
    const visit = async (relative: string): Promise<number> => {
      const dir = this.pathOf(relative);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return 1; // gone meanwhile: not ours to report
        throw fsError(err, 'list', dir);
      }
      for (const entry of entries) {
        const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) {
          if ((await visit(name)) === 0) {
            const info = await stat(this.pathOf(name)).catch(() => undefined);
            if (info) found.push({ name, kind: 'empty folder', size: 0, modified: info.mtime });
          }
        } else if (TEMP_NAME.test(entry.name)) {
          const info = await stat(this.pathOf(name)).catch(() => undefined);
          if (info) found.push({ name, kind: 'temp file', size: info.size, modified: info.mtime });
        }
      }
      return entries.length;
    };
    await visit(base);
    return found;
  }

  async removeLeftover(leftover: Pick<Leftover, 'name' | 'kind'>): Promise<void> {
    const name = leftover.name;
    const segments = name.split('/');
    if (
      segments.some((s) => s === '' || s === '.' || s === '..') ||
      (leftover.kind === 'temp file' && !TEMP_NAME.test(segments.at(-1)!))
    ) {
      throw new ConfigError(`'${name}' is not a leftover of this repository`);
    }
    const path = join(this.root, ...segments); // spread-ok: path segments
    if (leftover.kind === 'empty folder') {
      try {
        await rmdir(path);
      } catch (err) {
        // ENOTEMPTY: a writer started using it meanwhile, so it is no leftover any more
        if (isMissing(err) || errnoOf(err) === 'ENOTEMPTY' || errnoOf(err) === 'EEXIST') return;
        throw fsError(err, 'remove', path);
      }
    } else {
      try {
        await unlink(path);
      } catch (err) {
        if (!isMissing(err)) throw fsError(err, 'remove', path);
      }
    }
    await this.removeIfEmpty(dirname(path));
  }

  /**
   * A backup folder emptied by prune (or by a failed save) goes too, so nothing lists or keeps an
   * empty folder. Only that one folder, never the repository root: a concurrent save recreates
   * what it needs (mkdirParents), and a folder in use is not empty.
   */
  private async removeIfEmpty(dir: string): Promise<void> {
    if (dir === this.root || !dir.startsWith(`${this.root}${sep}`)) return;
    await rmdir(dir).catch(() => undefined);
  }

  private pathOf(name: string): string {
    return name === '' ? this.root : join(this.root, ...name.split('/')); // spread-ok: the segments of one object name
  }

  private async walk(relative: string, into: ObjectInfo[]): Promise<void> {
    const dir = this.pathOf(relative);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw fsError(err, 'list', dir);
    }
    const nameOf = (entry: string) => (relative === '' ? entry : `${relative}/${entry}`);
    await Promise.all(
      entries.map(async (entry) => {
        if (TEMP_NAME.test(entry.name)) return;
        if (entry.isDirectory()) return this.walk(nameOf(entry.name), into);
        if (!entry.isFile() && !entry.isSymbolicLink()) return;
        const path = join(dir, entry.name);
        try {
          const info = await stat(path);
          if (info.isFile()) into.push({ name: nameOf(entry.name), size: info.size });
        } catch (err) {
          if (!isMissing(err)) throw fsError(err, 'stat', path); // removed while we listed: skip
        }
      }),
    );
  }
}

function isMissing(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** mkdir -p, then fsync the parent of every directory created so the new entries survive a crash. */
async function mkdirSynced(dir: string): Promise<void> {
  const first = await mkdirParents(dir);
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === first || d === dirname(d)) break;
  }
}

/**
 * mkdir -p by hand, one level at a time, returning the first directory created. Node's
 * `mkdir(…, { recursive: true })` never returns where a parent exists but refuses new entries with
 * ENOENT (anything under /proc): it spins at full CPU. Here a second ENOENT is the OS's answer.
 */
async function mkdirParents(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir);
    return dir;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return undefined;
      throw Object.assign(new Error(`'${dir}' exists and is not a directory`), { code: 'ENOTDIR' });
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  const first = await mkdirParents(dirname(dir));
  try {
    await mkdir(dir);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
  }
  return first ?? dir;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems cannot fsync a directory; the rename is as durable as they allow.
    if (errnoOf(err) !== 'EINVAL' && errnoOf(err) !== 'ENOTSUP') throw err;
  } finally {
    await handle.close();
  }
}
