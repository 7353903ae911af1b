// fileHandleSink (src/core/pipeline/file-sink.ts): every byte in order through the FileHandle, and a
// pipeline aborted by its signal leaves the handle for its owner to close (an fd write stream closed
// it, so the owner's close() failed with EBADF and hid the real error).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { fileHandleSink } from '../../src/core/pipeline/file-sink.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tempFile(): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'fgt-sink-'));
  return path.join(dir, 'out');
}

describe('fileHandleSink', () => {
  it('writes every chunk in order; the handle stays open until its owner closes it', async () => {
    const file = await tempFile();
    const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(1000 + i * 7919));
    const handle = await open(file, 'wx', 0o600);
    await pipeline(Readable.from(chunks), fileHandleSink(handle));
    await handle.write(Buffer.from('tail')); // still open
    await handle.close();
    const want = createHash('sha256')
      .update(Buffer.concat([...chunks, Buffer.from('tail')]))
      .digest('hex');
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(want);
  });

  it('a pipeline aborted by its signal rejects with the abort, and the owner closes the handle without EBADF', async () => {
    const file = await tempFile();
    const handle = await open(file, 'wx', 0o600);
    const controller = new AbortController();
    let n = 0;
    const source = new Readable({
      read() {
        n += 1;
        this.push(Buffer.alloc(1 << 20, n));
        if (n === 3) controller.abort(new Error('checksum mismatch'));
      },
    });
    const err = await pipeline(source, fileHandleSink(handle), { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    await expect(handle.close()).resolves.toBeUndefined();
  });
});
