// The observer stages of src/core/pipeline/digest.ts on their own: what they count and hash, and the
// exact error VerifyingStream ends a stream with (size over, truncated, checksum) and when.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/core/errors.js';
import { CountingStream, DigestStream, VerifyingStream } from '../../src/core/pipeline/digest.js';

const chunks = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];
const all = Buffer.concat(chunks);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs the stage over the chunks; what came out, the error it ended with, and the byte counts it reported. */
async function through(stage: DigestStream | VerifyingStream | CountingStream, input: Buffer[] = chunks) {
  const out: Buffer[] = [];
  const seen: number[] = [];
  stage.onBytes = (n) => seen.push(n);
  const sink = new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) });
  const error = await pipeline(Readable.from(input), stage, sink).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  return { out: Buffer.concat(out), error, seen };
}

describe('DigestStream', () => {
  it('passes the bytes through unchanged and reports size and sha256 once ended', async () => {
    const stage = new DigestStream();
    expect(() => stage.result()).toThrow('digest read before the stream ended');
    const { out, error, seen } = await through(stage);
    expect(error).toBeUndefined();
    expect(out.equals(all)).toBe(true);
    expect(seen).toEqual([3, 8, 10]);
    expect(stage.bytes).toBe(10);
    expect(stage.result()).toEqual({ size: 10, sha256: sha(all) });
  });

  it('an empty stream is the sha256 of nothing', async () => {
    const stage = new DigestStream();
    await through(stage, []);
    expect(stage.result()).toEqual({
      size: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });
});

describe('CountingStream', () => {
  it('counts and passes through', async () => {
    const stage = new CountingStream();
    const { out, seen } = await through(stage);
    expect(out.equals(all)).toBe(true);
    expect(stage.bytes).toBe(10);
    expect(seen).toEqual([3, 8, 10]);
  });
});

describe('VerifyingStream', () => {
  it('the expected bytes pass, with progress', async () => {
    const { out, error, seen } = await through(
      new VerifyingStream({ size: 10, sha256: sha(all) }, 'backups/x/dump.age'),
    );
    expect(error).toBeUndefined();
    expect(out.equals(all)).toBe(true);
    expect(seen).toEqual([3, 8, 10]);
  });

  it('same size, other bytes: checksum mismatch at the end, naming the object and both digests', async () => {
    const other = Buffer.from('abcdefghiJ');
    const { error } = await through(new VerifyingStream({ size: 10, sha256: sha(all) }, 'backups/x/dump.age'), [other]);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error!.message).toBe(
      `checksum mismatch for 'backups/x/dump.age': expected ${sha(all).slice(0, 16)}…, got ${sha(other).slice(0, 16)}…`,
    );
  });

  it('more bytes than expected: fails as soon as the size is passed, before they go downstream', async () => {
    const { out, error, seen } = await through(new VerifyingStream({ size: 8, sha256: sha(all.subarray(0, 8)) }, 'o'));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error!.message).toBe("size mismatch for 'o': expected 8 bytes, got more");
    expect(out.equals(all.subarray(0, 8))).toBe(true);
    expect(seen).toEqual([3, 8]);
  });

  it('exactly the expected size is not "more"', async () => {
    const { error } = await through(new VerifyingStream({ size: 10, sha256: sha(all) }, 'o'), [all]);
    expect(error).toBeUndefined();
  });

  it('fewer bytes: truncated, with both sizes', async () => {
    const { error } = await through(new VerifyingStream({ size: 11, sha256: sha(all) }, 'o'));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error!.message).toBe("size mismatch for 'o': expected 11 bytes, got 10 (truncated)");
  });
});
