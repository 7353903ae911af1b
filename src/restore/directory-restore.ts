// Restoring a parallel (directory-format) backup straight from its objects. toc.dat and any
// large-object files are decrypted into a private folder; every table data file becomes a named
// pipe (FIFO). pg_restore --jobs=N --verbose announces each item it hands to a worker ("launching
// item <dumpId> …"); only then is `dir-<dumpId>.dat….age` read from storage, checked (size,
// sha256, age authentication), decompressed and written into its pipe while the worker reads it.
// So at most N table files are in flight, and no table's plaintext touches the disk.
// With --jobs 1 pg_restore names no items, so every file is decrypted into the folder first.
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { DATA_FILE, type DirectoryFile, directoryFiles } from '../backup/directory-objects.js';
import type { Identity } from '../crypto/index.js';
import { OperationError } from '../errors.js';
import { linkedController } from '../pipeline/abort.js';
import { PG_CLIENT_HINT, type Tool, ZSTD_HINT, pipeInto, startTool } from '../pipeline/child-process.js';
import type { Manifest } from '../repository/manifest.js';
import { openDecrypted } from '../repository/read-encrypted.js';
import type { Repository } from '../repository/repository.js';

export interface DirectorySource {
  repo: Repository;
  manifest: Manifest;
  identities: readonly Identity[];
  signal: AbortSignal;
  /** stored bytes read so far, over all objects */
  onBytes?: (bytes: number) => void;
}

/** The manifest's files of the dump folder; refuses a manifest that does not describe one. */
export function dumpFolderFiles(manifest: Manifest): DirectoryFile[] {
  const files = directoryFiles(manifest);
  if (typeof files === 'string') {
    throw new OperationError(`manifest of '${manifest.target}/${manifest.id}' does not describe a directory dump: ${files}`, { hint: 'a newer fapiao-guard wrote it, or the manifest is damaged: upgrade, or restore another backup' });
  }
  return files;
}

/** Stored bytes read so far over every object, for one progress line. */
function byteCounter(source: DirectorySource): (object: string) => ((n: number) => void) | undefined {
  if (!source.onBytes) return () => undefined;
  const seen = new Map<string, number>();
  let total = 0;
  return (object) => (n) => {
    total += n - (seen.get(object) ?? 0);
    seen.set(object, n);
    source.onBytes!(total);
  };
}

/**
 * Decrypt (and decompress) one object into `target`, a new regular file or a FIFO: zstd writes into
 * it itself, the plaintext never passes through this process. A FIFO is opened read-write, which
 * on Linux never blocks, so the writer does not wait for pg_restore to open its end.
 */
async function writeFile(source: DirectorySource, entry: DirectoryFile, target: string, fifo: boolean, counted: ((n: number) => void) | undefined): Promise<void> {
  const { repo, manifest, signal } = source;
  const objectPath = repo.objectPath(manifest.target, manifest.id, entry.object.name);
  const handle = await open(target, fifo ? constants.O_RDWR : 'wx', 0o600);
  let tool: Tool | undefined;
  try {
    const plain = await openDecrypted(repo.storage, objectPath, entry.object, source.identities, { signal, ...(counted ? { onBytes: counted } : {}) });
    if (!entry.zstd && !fifo) {
      await pipelineAsync(plain, createWriteStream('', { fd: handle.fd, autoClose: false, emitClose: false }), { signal });
      return;
    }
    // for a FIFO the writing is left to a process (blocking writes would hold a libuv thread each)
    const [command, args] = entry.zstd ? ['zstd', ['-d', '-q', '-c', '-']] : ['cat', []];
    tool = startTool(command as string, args as string[], { stdin: 'pipe', stdoutFd: handle.fd, signal, label: `${entry.zstd ? 'zstd -d' : 'cat'} of '${objectPath}'`, installHint: ZSTD_HINT });
    await handle.close(); // the child has its own copy: pg_restore sees the end when the child exits
    await Promise.all([pipeInto(plain, tool), tool.exited]);
  } catch (err) {
    tool?.kill();
    throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export interface FolderPlan {
  /** files decrypted before pg_restore starts */
  upfront: DirectoryFile[];
  /** table data files pg_restore reads through a FIFO, by item id */
  piped: Map<string, DirectoryFile>;
}

/** Pure: which files go through pipes (data files, only when pg_restore runs parallel and names its items). */
export function planFolder(files: readonly DirectoryFile[], parallel: boolean): FolderPlan {
  const upfront: DirectoryFile[] = [];
  const piped = new Map<string, DirectoryFile>();
  for (const f of files) {
    const data = DATA_FILE.exec(f.file);
    if (parallel && data) piped.set(data[1]!, f);
    else upfront.push(f);
  }
  return { upfront, piped };
}

const LAUNCH = /^pg_restore: (?:launching item|processing missed item|processing item) (\d+) /;

export interface FolderRestore {
  /** feed pg_restore's stderr lines here: starts the pipe of each item it launches */
  line(text: string): void;
  /** after pg_restore exited (either way): waits for the pipes, fails on any that failed or was left unread */
  finish(restored: boolean): Promise<void>;
}

/**
 * Prepare `folder` (new, private) for `pg_restore --format=directory`: the upfront files decrypted,
 * a FIFO per piped data file. Returns the hook that feeds each pipe when pg_restore asks for it.
 */
export async function prepareFolder(outer: DirectorySource, folder: string, plan: FolderPlan, onError: (err: unknown) => void): Promise<FolderRestore> {
  await mkdir(folder, { mode: 0o700 });
  const feeds = linkedController(outer.signal); // stops the pipes' writers once pg_restore is gone
  const source = { ...outer, signal: feeds.signal };
  const counter = byteCounter(source);
  const fifos = [...plan.piped.values()].map((f) => path.join(folder, f.file));
  for (let i = 0; i < fifos.length; i += 500) {
    await startTool('mkfifo', ['-m', '600', ...fifos.slice(i, i + 500)], { signal: source.signal, label: 'mkfifo' }).exited;
  }
  for (const f of plan.upfront) await writeFile(source, f, path.join(folder, f.file), false, counter(f.object.name));
  const feeding = new Map<string, Promise<void>>();
  let firstError: unknown;
  return {
    line(text) {
      const id = LAUNCH.exec(text)?.[1];
      const entry = id === undefined ? undefined : plan.piped.get(id);
      if (!entry || feeding.has(id!)) return;
      const p = writeFile(source, entry, path.join(folder, entry.file), true, counter(entry.object.name));
      p.catch((err: unknown) => {
        if (feeds.signal.aborted) return; // stopped by us: not a cause
        firstError ??= err;
        onError(err);
      });
      feeding.set(id!, p);
    },
    async finish(restored) {
      // After a clean exit pg_restore read every pipe to its end, so their writers have exited (a
      // FIFO ends only when they do): only settling is left. After a failure, nobody reads them.
      const pending = [...feeding.values()];
      let timer: NodeJS.Timeout | undefined;
      const settled = restored ? await Promise.race([Promise.allSettled(pending).then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000)))]) : false;
      clearTimeout(timer);
      const cause = firstError;
      if (!settled) feeds.abort(new OperationError('pg_restore ended'));
      await Promise.allSettled(pending);
      if (cause !== undefined) throw cause;
      if (!settled && restored) throw new OperationError(`pg_restore ended without reading every table file of '${source.manifest.target}/${source.manifest.id}'`);
      if (restored) {
        const unread = [...plan.piped.keys()].filter((id) => !feeding.has(id));
        if (unread.length > 0) throw new OperationError(`pg_restore ended without asking for ${unread.length} table file(s) of '${source.manifest.target}/${source.manifest.id}' (items ${unread.slice(0, 5).join(', ')}…)`);
      }
    },
  };
}

/** `pg_restore --format=directory` over a prepared folder; stderr lines go to `onLine` (verbose). */
export function startFolderRestore(folder: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; signal: AbortSignal; label: string; onLine: (line: string) => boolean }): Tool {
  return startTool('pg_restore', ['--verbose', '--format=directory', ...args, folder], {
    env: { ...options.env, LC_ALL: 'C' },
    signal: options.signal,
    label: options.label,
    installHint: PG_CLIENT_HINT,
    onStderrLine: options.onLine,
  });
}
