// Shared helpers for the age tests: run bytes through our Transforms, and through the real CLI.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecryptStream,
  createEncryptStream,
  type Identity,
  type Recipient,
} from '../../src/core/crypto/index.js';

/** Pushes `input` through `stream` in the given slices (whole by default) and collects the output. */
function split(input: Buffer, sliceSizes: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const size of sliceSizes) {
    if (at >= input.length) break;
    pieces.push(input.subarray(at, at + size));
    at += size;
  }
  if (at < input.length) pieces.push(input.subarray(at));
  return pieces;
}

/** Pushes `input` through `stream` in the given slices (whole by default) and collects the output. */
export async function through(stream: Transform, input: Buffer, sliceSizes: readonly number[] = []): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(split(input, sliceSizes)), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

export const encrypt = (data: Buffer, recipients: Recipient[], slices?: number[]) =>
  through(createEncryptStream(recipients), data, slices);

export const decrypt = (data: Buffer, identities: Identity[], slices?: number[]) =>
  through(createDecryptStream(identities, { name: 'test.age' }), data, slices);

/** Decrypts (optionally in slices) and returns how many bytes were emitted before the error, and the error. */
export async function decryptFailure(
  data: Buffer,
  identities: Identity[],
  slices: readonly number[] = [],
): Promise<{ emitted: number; error: unknown }> {
  const stream = createDecryptStream(identities, { name: 'test.age' });
  let emitted = 0;
  try {
    await pipeline(Readable.from(split(data, slices)), stream, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) emitted += chunk.length;
    });
  } catch (error) {
    return { emitted, error };
  }
  throw new Error('decryption unexpectedly succeeded');
}

export function run(cmd: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  // A process that exits before reading all its input (age -d stops at the first bad chunk) makes
  // writing the input fail with EPIPE, reported in `error` by Node 24 (not by Node 20) next to the
  // exit status. The status says what the process decided, so a present non-zero status wins.
  const exited =
    result.status !== null ? `exited ${result.status}` : result.signal ? `killed by ${result.signal}` : undefined;
  if (result.status !== 0 && exited) throw new Error(`${cmd} ${args.join(' ')} ${exited}: ${result.stderr.toString()}`);
  if (result.error) throw result.error; // not started, timed out, or exit 0 without reading its input
  return result.stdout;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-age-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function writeFile(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
