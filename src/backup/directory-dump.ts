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
import { PG_CLIENT_HINT, type Tool, ZSTD_HINT, outputAfterExit, startTool } from '../core/pipeline/child-process.js';
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

/** Runs one parallel dump into storage; see DirectoryDump for the steps. */
export async function dumpDirectoryToStorage(options: DirectoryDumpOptions): Promise<DirectoryDumpResult> {
  return new DirectoryDump(options).run();
}

/**
 * One parallel dump. `run` starts pg_dump, whose "finished item" lines queue files (`#enqueueItem`);
 * `#pump` hands queued files to free upload slots (`#storeFile`) and stops or continues pg_dump's
 * leader; once pg_dump has exited, the files no line announced are queued and the uploads awaited.
 * On a failure pg_dump is stopped and every upload settled before the first cause is thrown; the
 * spool folder is removed in every case.
 */
class DirectoryDump {
  readonly #queue: string[] = []; // finished files waiting for an upload slot
  readonly #taken = new Set<string>();
  readonly #uploads: Array<Promise<ManifestObject>> = [];
  #running = 0;
  #paused = false;
  #plainTotal = 0;
  #storedTotal = 0;
  readonly #peakSpool = { bytes: 0, files: 0 };
  #wake: (() => void) | undefined; // the end phase waits for free slots
  #failure: unknown;
  #stoppedByUs = false;
  #dump!: Tool;

  constructor(private readonly options: DirectoryDumpOptions) {}

  async run(): Promise<DirectoryDumpResult> {
    const { signal, folder } = this.options;
    this.#dump = this.#startPgDump();
    signal.addEventListener('abort', this.#resume, { once: true });
    const sampler = setInterval(() => void this.#sampleSpool(), 200);
    try {
      await this.#dump.exited;
      await this.#enqueueUnannounced();
      await this.#slotsDrained();
      return await this.#result();
    } catch (err) {
      throw await this.#stopAfterFailure(err);
    } finally {
      clearInterval(sampler);
      signal.removeEventListener('abort', this.#resume);
      await rm(folder, { recursive: true, force: true });
    }
  }

  // --- run's steps

  #startPgDump(): Tool {
    const { compression, jobs, folder } = this.options;
    const pgCompress = compression.kind === 'pg_dump' ? compression.level : 0;
    return startTool(
      'pg_dump',
      [
        '--format=directory',
        `--jobs=${jobs}`,
        `--compress=${pgCompress}`,
        `--snapshot=${this.options.snapshot}`,
        '--no-sync',
        '--verbose',
        `--file=${folder}`,
        ...this.options.extraArgs,
        this.options.dbnameArg,
      ],
      {
        env: { ...this.options.env, LC_ALL: 'C' },
        signal: this.options.signal,
        label: `pg_dump --jobs=${jobs} of '${this.options.targetName}'`,
        installHint: PG_CLIENT_HINT,
        onStderrLine: (line) => {
          const finished = FINISHED.exec(line);
          if (finished) this.#enqueueItem(finished[1]!);
          return CHATTER.test(line);
        },
      },
    );
  }

  /** What no "finished item" line announced: toc.dat, large objects (blobs.toc, blob_<oid>.dat). */
  async #enqueueUnannounced(): Promise<void> {
    const rest = (await readdir(this.options.folder)).filter((f) => !this.#taken.has(f)).sort();
    for (const file of rest) this.#enqueue(file);
  }

  /** Until every queued file has been handed out and every slot is free, or an upload failed. */
  async #slotsDrained(): Promise<void> {
    while (this.#running > 0 || this.#queue.length > 0) {
      if (this.#failure !== undefined) break;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async #result(): Promise<DirectoryDumpResult> {
    const settled = await Promise.allSettled(this.#uploads);
    const failed = settled.find((s) => s.status === 'rejected');
    if (this.#failure !== undefined || failed) throw this.#failure ?? (failed as PromiseRejectedResult).reason;
    const objects = settled.map((s) => (s as PromiseFulfilledResult<ManifestObject>).value);
    return { objects, peakSpool: this.#peakSpool };
  }

  /** Stops pg_dump, lets every upload settle, and returns the error to report. */
  async #stopAfterFailure(err: unknown): Promise<unknown> {
    const dump = this.#dump;
    // pg_dump's own failure is the cause when it came first; otherwise stop it and report ours
    const failedFirst =
      !this.#stoppedByUs && !this.options.signal.aborted && dump.child.exitCode !== null && dump.child.exitCode !== 0;
    this.#stop();
    const dumpError = await dump.exited.then(
      () => undefined,
      (e: unknown) => e,
    );
    await Promise.allSettled(this.#uploads);
    return failedFirst && dumpError ? dumpError : (this.#failure ?? err);
  }

  // --- pg_dump's leader: stopped while finished files wait, continued when they have a slot

  #signalLeader(sig: NodeJS.Signals): void {
    const child = this.#dump.child;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, sig);
  }

  // a stopped pg_dump would never act on SIGTERM: continue it whenever it is being stopped
  readonly #resume = (): void => {
    if (this.#paused) this.#signalLeader('SIGCONT');
    this.#paused = false;
  };

  #stop(): void {
    this.#stoppedByUs ||= this.#dump.child.exitCode === null;
    this.#resume();
    this.#dump.kill();
    this.#resume();
  }

  // --- the queue and the upload slots

  async #sampleSpool(): Promise<void> {
    const { folder } = this.options;
    const names = await readdir(folder).catch(() => [] as string[]);
    let bytes = 0;
    for (const name of names) bytes += (await stat(path.join(folder, name)).catch(() => undefined))?.size ?? 0;
    this.#peakSpool.bytes = Math.max(this.#peakSpool.bytes, bytes);
    this.#peakSpool.files = Math.max(this.#peakSpool.files, names.length);
  }

  // Synchronous, straight from the line handler: the stop decision must not wait for the event
  // loop while pg_dump's leader goes on handing out tables.
  #enqueueItem(dumpId: string): void {
    // <dumpId>.dat, or .dat.gz when pg_dump compressed it; no file: the item had none (large objects)
    for (const name of [`${dumpId}.dat`, `${dumpId}.dat.gz`])
      if (!this.#taken.has(name) && existsSync(path.join(this.options.folder, name))) this.#enqueue(name);
  }

  #enqueue(file: string): void {
    if (this.#taken.has(file)) return;
    this.#taken.add(file);
    this.#queue.push(file);
    void this.#sampleSpool();
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.options.jobs && this.#queue.length > 0 && this.#failure === undefined) {
      const file = this.#queue.shift()!;
      this.#running += 1;
      const upload = this.#storeFile(file).finally(() => {
        this.#running -= 1;
        this.#pump();
        this.#wake?.();
      });
      upload.catch((err: unknown) => {
        this.#failure ??= err;
        this.#stop(); // pg_dump goes on no further than the first failed object
      });
      this.#uploads.push(upload);
    }
    // every slot busy and a file waiting: pg_dump hands out no more tables until a slot takes it
    if (!this.#paused && this.#queue.length > 0 && this.#failure === undefined) {
      this.#paused = true;
      this.#signalLeader('SIGSTOP');
    } else if (this.#paused && this.#queue.length === 0) this.#resume();
  }

  // --- one file: compressed, encrypted, stored, then deleted

  async #storeFile(file: string): Promise<ManifestObject> {
    const { compression, storage } = this.options;
    const full = path.join(this.options.folder, file);
    const plainSize = (await stat(full)).size;
    const source = this.#compressed(file, full);
    const name = directoryObjectName(file, compression);
    const stored = new DigestStream();
    let counted = 0;
    stored.onBytes = (n) => {
      this.#storedTotal += n - counted;
      counted = n;
      this.options.onProgress?.(this.#plainTotal, this.#storedTotal);
    };
    pipeline(source, createEncryptStream(this.options.recipients), stored, (err) => {
      if (err) stored.destroy(err);
    });
    const info = await storage.save(this.options.pathOf(name), stored, {
      signal: this.options.signal,
      contentType: 'application/octet-stream',
      sizeHint: plainSize + 4096,
    });
    const digest = stored.result();
    if (info.size !== digest.size)
      throw new OperationError(`stored size of '${this.options.pathOf(name)}' is ${info.size}, wrote ${digest.size}`);
    await rm(full, { force: true }); // the plaintext goes as soon as its object is stored
    this.#plainTotal += plainSize;
    return { name, layers: directoryLayers(compression), size: digest.size, sha256: digest.sha256, plainSize };
  }

  /** The file as zstd compresses it (compression zstd), else as it is. */
  #compressed(file: string, full: string): Readable {
    const { compression } = this.options;
    if (compression.kind !== 'zstd') return createReadStream(full);
    const tool = startTool('zstd', ['-q', `-${compression.level}`, '-c', full], {
      signal: this.options.signal,
      label: `zstd of '${file}'`,
      installHint: ZSTD_HINT,
    });
    return outputAfterExit(tool);
  }
}
