// Throughput of our age streams against the stock `age` CLI on the same data, in one run.
// Usage: npm run build && node scripts/bench/age.mjs   (AGE_BENCH_MB=512 by default)
// Each side's decryption reads the *other* side's ciphertext, so the run also proves interop at size.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  parseIdentity,
  parseRecipient,
} from '../../dist/src/core/crypto/index.js';

const MB = 1024 * 1024;
const totalMb = Number(process.env.AGE_BENCH_MB ?? 512);
const total = totalMb * MB;
const block = randomBytes(8 * MB); // repeated: content does not matter to a cipher, allocation does
const SLICE = 64 * 1024; // what a pipe from pg_dump delivers per read

function* plaintext() {
  for (let at = 0; at < total; at += SLICE) {
    const off = at % block.length;
    yield block.subarray(off, off + Math.min(SLICE, total - at));
  }
}

/** A sink that keeps what it receives (for the other side to decrypt). */
function collector() {
  const parts = [];
  const sink = new Writable({
    highWaterMark: 1 * MB,
    writev(chunks, cb) {
      for (const { chunk } of chunks) parts.push(chunk);
      cb();
    },
  });
  return { sink, parts };
}

/** A sink that checks the plaintext equals the generated data, byte for byte. */
function verifier() {
  let at = 0;
  const sink = new Writable({
    highWaterMark: 1 * MB,
    write(chunk, _enc, cb) {
      for (let i = 0; i < chunk.length;) {
        const off = (at + i) % block.length;
        const n = Math.min(chunk.length - i, block.length - off);
        if (!chunk.subarray(i, i + n).equals(block.subarray(off, off + n)))
          return cb(new Error(`plaintext differs near byte ${at + i}`));
        i += n;
      }
      at += chunk.length;
      cb();
    },
    final(cb) {
      cb(at === total ? null : new Error(`plaintext is ${at} bytes, expected ${total}`));
    },
  });
  return sink;
}

async function timed(label, fn) {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = totalMb / seconds;
  console.log(`${label.padEnd(22)} ${seconds.toFixed(2).padStart(6)} s  ${rate.toFixed(0).padStart(6)} MB/s`);
  return rate;
}

/** Runs the CLI with `input` piped to stdin and stdout into `sink`. */
async function cli(args, input, sink) {
  const child = spawn('age', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`age ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
  await Promise.all([pipeline(input, child.stdin), pipeline(child.stdout, sink), exited]);
}

const { identity, recipient } = generateIdentity();
const dir = mkdtempSync(join(tmpdir(), 'fg-age-bench-'));
const keyFile = join(dir, 'key.txt');
writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });

try {
  console.log(`age bench: ${totalMb} MiB of pseudo-random data in ${SLICE / 1024} KiB writes, node ${process.version}`);
  const ours = collector();
  const encOurs = await timed('ours encrypt', () =>
    pipeline(Readable.from(plaintext()), createEncryptStream([parseRecipient(recipient)]), ours.sink),
  );
  const theirs = collector();
  const encCli = await timed('age CLI encrypt', () => cli(['-r', recipient], Readable.from(plaintext()), theirs.sink));

  const decOurs = await timed('ours decrypt (CLI file)', () =>
    pipeline(Readable.from(theirs.parts), createDecryptStream([parseIdentity(identity)]), verifier()),
  );
  const decCli = await timed('age CLI decrypt (ours)', () =>
    cli(['-d', '-i', keyFile], Readable.from(ours.parts), verifier()),
  );

  console.log(`ratio ours/CLI: encrypt ${(encOurs / encCli).toFixed(2)}x, decrypt ${(decOurs / decCli).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
