// The dump side of a backup: pg_dump (custom format, in the exported snapshot) → optional zstd
// → age → sha256/size → storage, streamed end to end with memory independent of size.
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Compression } from '../core/config/config.js';
import { createEncryptStream, type Recipient } from '../core/crypto/index.js';
import { PG_CLIENT_HINT, type Tool, ZSTD_HINT, outputAfterExit, startTool } from '../core/pipeline/child-process.js';
import { CountingStream, DigestStream } from '../core/pipeline/digest.js';
import { OperationError } from '../core/errors.js';
import type { ManifestObject } from '../core/repository/manifest.js';
import type { Storage } from '../core/storage/storage.js';

export interface DumpOptions {
  storage: Storage;
  /** full storage name of the dump object */
  objectPath: string;
  /** name recorded in the manifest */
  objectName: string;
  snapshot: string;
  dbnameArg: string;
  env: NodeJS.ProcessEnv;
  extraArgs: readonly string[];
  compression: Compression;
  recipients: readonly Recipient[];
  targetName: string;
  signal: AbortSignal;
  /** estimated upper bound of the stored size */
  sizeHint?: number;
  onProgress?: (plainBytes: number, storedBytes: number) => void;
}

export function dumpObjectName(compression: Compression): string {
  return compression.kind === 'zstd' ? 'dump.zst.age' : 'dump.age';
}

export function dumpLayers(compression: Compression): string[] {
  return compression.kind === 'zstd' ? ['pg_dump:custom', 'zstd', 'age'] : ['pg_dump:custom', 'age'];
}

export async function dumpToStorage(options: DumpOptions): Promise<ManifestObject> {
  const { compression, signal } = options;
  const pgCompress = compression.kind === 'pg_dump' ? compression.level : 0;
  const dump = startTool(
    'pg_dump',
    [
      '--format=custom',
      `--compress=${pgCompress}`,
      `--snapshot=${options.snapshot}`,
      '--no-sync',
      ...options.extraArgs,
      options.dbnameArg,
    ],
    { env: options.env, signal, label: `pg_dump of '${options.targetName}'`, installHint: PG_CLIENT_HINT },
  );
  const plain = new CountingStream();
  let compressed: Readable;
  let zstd: Tool | undefined;
  if (compression.kind === 'zstd') {
    // pg_dump writes straight into zstd through an OS pipe: the uncompressed dump (often 5-10x
    // the stored size) never passes through this process, which keeps memory and CPU low. zstd -vv
    // reports the uncompressed size on stderr.
    zstd = startTool('zstd', ['-vv', `-${compression.level}`, '-c', '-'], {
      stdinFrom: dump.child.stdout!,
      signal,
      label: 'zstd',
      installHint: ZSTD_HINT,
    });
    dump.child.stdout!.destroy(); // our copy of the read end: zstd has its own
    compressed = outputAfterExit(zstd, [dump]);
  } else {
    compressed = plain;
    pipeline(outputAfterExit(dump), plain, () => undefined);
  }
  const stored = new DigestStream();
  if (options.onProgress) stored.onBytes = (n) => options.onProgress!(plain.bytes, n);
  pipeline(compressed, createEncryptStream(options.recipients), stored, (err) => {
    if (err) stored.destroy(err);
  });
  try {
    const info = await options.storage.save(options.objectPath, stored, {
      signal,
      contentType: 'application/octet-stream',
      ...(options.sizeHint ? { sizeHint: options.sizeHint } : {}),
    });
    await dump.exited; // already settled: the stream only ended after a clean exit
    const digest = stored.result();
    if (info.size !== digest.size) {
      throw new OperationError(`stored size of '${options.objectPath}' is ${info.size}, wrote ${digest.size}`);
    }
    const plainSize = zstd ? zstdInputBytes(zstd.stderrTail()) : plain.bytes;
    return {
      name: options.objectName,
      layers: dumpLayers(compression),
      size: digest.size,
      sha256: digest.sha256,
      ...(plainSize !== undefined ? { plainSize } : {}),
    };
  } catch (err) {
    // If pg_dump had already failed on its own, its message is the cause; if we are the ones
    // stopping it (storage failed, interrupted), the original error is.
    const failedFirst = dump.child.exitCode !== null && dump.child.exitCode !== 0;
    dump.kill();
    const dumpError = await dump.exited.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw failedFirst && dumpError ? dumpError : err;
  }
}

/** The input size from zstd -vv's summary line (`… (868245525 B => 142865406 B, …)`); undefined if absent. */
export function zstdInputBytes(stderr: string): number | undefined {
  const matches = [...stderr.matchAll(/\(\s*(\d+) B =>\s*\d+ B/g)]; // zstd pads small numbers
  const last = matches.at(-1);
  return last ? Number(last[1]) : undefined;
}
