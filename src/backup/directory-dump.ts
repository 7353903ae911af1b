// The dump side of a parallel backup (`targets[].jobs` > 1): `pg_dump --format=directory --jobs=N`
// in the exported snapshot writes one file per table into a private spool folder; each file is
// compressed, encrypted and stored as its own object as soon as pg_dump reports it finished
// (`--verbose`: "finished item <dumpId> …", the file being `<dumpId>.dat`), then deleted. toc.dat
// and large-object files go last, after pg_dump exits. Disk use is bounded by files in flight: when
// all N upload slots are busy and a finished file waits, the pg_dump leader is stopped (SIGSTOP) so
// it hands out no new table, and continued once the waiting files have a slot. That leaves N files
// being uploaded, N being written and what waits: the finished files pg_dump reported before the
// stop reached it (its lines are read in the same tick, so this is what it finishes in the time
// this process takes to read one line: none when tables take longer than that, a few when tiny
// partitions race a loaded machine). Each file is its table's size uncompressed.
import { createReadStream, existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import type { Compression } from '../core/config/config.js';
import { createEncryptStream, type Recipient } from '../core/crypto/index.js';
import { OperationError } from '../core/errors.js';
import { PG_CLIENT_HINT, ZSTD_HINT, outputAfterExit, startTool } from '../core/pipeline/child-process.js';
import { DigestStream } from '../core/pipeline/digest.js';
import type { ManifestObject } from '../core/repository/manifest.js';
import type { Storage } from '../core/storage/storage.js';
import { directoryObjectName, directoryLayers } from './directory-objects.js';

export interface DirectoryDumpOptions {
  storage: Storage;
  /** full storage name of an object of this backup, by its manifest name */
  pathOf(name: string): string;
  /** the folder pg_dump creates and writes into (must not exist; its parent private) */
  folder: string;
  jobs: number;
  snapshot: string;
  dbnameArg: string;
  env: NodeJS.ProcessEnv;
  extraArgs: readonly string[];
  compression: Compression;
  recipients: readonly Recipient[];
  targetName: string;
  signal: AbortSignal;
  onProgress?: (plainBytes: number, storedBytes: number) => void;
}

export interface DirectoryDumpResult {
  objects: ManifestObject[];
  /** the most bytes and files in the spool folder at once (sampled on every event and every 200 ms) */
  peakSpool: { bytes: number; files: number };
}

const FINISHED = /^pg_dump: finished item (\d+) /;
const CHATTER = /^pg_dump: (?!error: |warning: |detail: |hint: )/;

export async function dumpDirectoryToStorage(options: DirectoryDumpOptions): Promise<DirectoryDumpResult> {
  const { compression, signal, jobs, folder } = options;
  const queue: string[] = []; // finished files waiting for an upload slot
  const taken = new Set<string>();
  const uploads: Array<Promise<ManifestObject>> = [];
  let running = 0;
  let paused = false;
  let plainTotal = 0;
  let storedTotal = 0;
  const peakSpool = { bytes: 0, files: 0 };
  let wake: (() => void) | undefined; // the end phase waits for free slots
  let failure: unknown;

  const pgCompress = compression.kind === 'pg_dump' ? compression.level : 0;
  const dump = startTool(
    'pg_dump',
    [
      '--format=directory',
      `--jobs=${jobs}`,
      `--compress=${pgCompress}`,
      `--snapshot=${options.snapshot}`,
      '--no-sync',
      '--verbose',
      `--file=${folder}`,
      ...options.extraArgs,
      options.dbnameArg,
    ],
    {
      env: { ...options.env, LC_ALL: 'C' },
      signal,
      label: `pg_dump --jobs=${jobs} of '${options.targetName}'`,
      installHint: PG_CLIENT_HINT,
      onStderrLine: (line) => {
        const finished = FINISHED.exec(line);
        if (finished) enqueueItem(finished[1]!);
        return CHATTER.test(line);
      },
    },
  );
  const pid = dump.child.pid;
  const signalLeader = (sig: NodeJS.Signals): void => {
    if (pid !== undefined && dump.child.exitCode === null && dump.child.signalCode === null) process.kill(pid, sig);
  };
  // a stopped pg_dump would never act on SIGTERM: continue it whenever it is being stopped
  const resume = (): void => {
    if (paused) signalLeader('SIGCONT');
    paused = false;
  };
  signal.addEventListener('abort', resume, { once: true });
  let stoppedByUs = false;
  const stop = (): void => {
    stoppedByUs ||= dump.child.exitCode === null;
    resume();
    dump.kill();
    resume();
  };
  const sampler = setInterval(() => void sampleSpool(), 200);

  async function sampleSpool(): Promise<void> {
    const names = await readdir(folder).catch(() => [] as string[]);
    let bytes = 0;
    for (const name of names) bytes += (await stat(path.join(folder, name)).catch(() => undefined))?.size ?? 0;
    peakSpool.bytes = Math.max(peakSpool.bytes, bytes);
    peakSpool.files = Math.max(peakSpool.files, names.length);
  }

  // Synchronous, straight from the line handler: the stop decision must not wait for the event
  // loop while pg_dump's leader goes on handing out tables.
  function enqueueItem(dumpId: string): void {
    // <dumpId>.dat, or .dat.gz when pg_dump compressed it; no file: the item had none (large objects)
    for (const name of [`${dumpId}.dat`, `${dumpId}.dat.gz`])
      if (!taken.has(name) && existsSync(path.join(folder, name))) enqueue(name);
  }

  function enqueue(file: string): void {
    if (taken.has(file)) return;
    taken.add(file);
    queue.push(file);
    void sampleSpool();
    pump();
  }

  function pump(): void {
    while (running < jobs && queue.length > 0 && failure === undefined) {
      const file = queue.shift()!;
      running += 1;
      const upload = storeFile(file).finally(() => {
        running -= 1;
        pump();
        wake?.();
      });
      upload.catch((err: unknown) => {
        failure ??= err;
        stop(); // pg_dump goes on no further than the first failed object
      });
      uploads.push(upload);
    }
    // every slot busy and a file waiting: pg_dump hands out no more tables until a slot takes it
    if (!paused && queue.length > 0 && failure === undefined) {
      paused = true;
      signalLeader('SIGSTOP');
    } else if (paused && queue.length === 0) resume();
  }

  async function storeFile(file: string): Promise<ManifestObject> {
    const full = path.join(folder, file);
    const plainSize = (await stat(full)).size;
    const zstd = compression.kind === 'zstd';
    let source: Readable;
    if (zstd) {
      const tool = startTool('zstd', ['-q', `-${compression.level}`, '-c', full], {
        signal,
        label: `zstd of '${file}'`,
        installHint: ZSTD_HINT,
      });
      source = outputAfterExit(tool);
    } else source = createReadStream(full);
    const name = directoryObjectName(file, compression);
    const stored = new DigestStream();
    let counted = 0;
    stored.onBytes = (n) => {
      storedTotal += n - counted;
      counted = n;
      options.onProgress?.(plainTotal, storedTotal);
    };
    pipeline(source, createEncryptStream(options.recipients), stored, (err) => {
      if (err) stored.destroy(err);
    });
    const info = await options.storage.save(options.pathOf(name), stored, {
      signal,
      contentType: 'application/octet-stream',
      sizeHint: plainSize + 4096,
    });
    const digest = stored.result();
    if (info.size !== digest.size)
      throw new OperationError(`stored size of '${options.pathOf(name)}' is ${info.size}, wrote ${digest.size}`);
    await rm(full, { force: true }); // the plaintext goes as soon as its object is stored
    plainTotal += plainSize;
    return { name, layers: directoryLayers(compression), size: digest.size, sha256: digest.sha256, plainSize };
  }

  try {
    await dump.exited;
    // what no "finished item" line announced: toc.dat, large objects (blobs.toc, blob_<oid>.dat)
    const rest = (await readdir(folder)).filter((f) => !taken.has(f)).sort();
    for (const file of rest) enqueue(file);
    while (running > 0 || queue.length > 0) {
      if (failure !== undefined) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const settled = await Promise.allSettled(uploads);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failure !== undefined || failed) throw failure ?? (failed as PromiseRejectedResult).reason;
    return { objects: settled.map((s) => (s as PromiseFulfilledResult<ManifestObject>).value), peakSpool };
  } catch (err) {
    // pg_dump's own failure is the cause when it came first; otherwise stop it and report ours
    const failedFirst = !stoppedByUs && !signal.aborted && dump.child.exitCode !== null && dump.child.exitCode !== 0;
    stop();
    const dumpError = await dump.exited.then(
      () => undefined,
      (e: unknown) => e,
    );
    await Promise.allSettled(uploads);
    throw failedFirst && dumpError ? dumpError : (failure ?? err);
  } finally {
    clearInterval(sampler);
    signal.removeEventListener('abort', resume);
    await rm(folder, { recursive: true, force: true });
  }
}
