// Edges of streaming decryption with exact messages, hints and byte offsets: the header size limit,
// the header mac hint, data after a full final chunk, a missing final chunk, a damaged full-size
// final chunk, and payloads no honest encryptor writes (built here with a known file key).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptStream, generateIdentity, parseIdentity, parseRecipient } from '../../src/core/crypto/index.js';
import { encodeHeader } from '../../src/core/crypto/age-header.js';
import { wrapFileKey } from '../../src/core/crypto/age-stanzas.js';
import { CHUNK_SIZE, ChunkNonce, payloadKey, SEALED_CHUNK_SIZE, sealChunk } from '../../src/core/crypto/age-stream.js';
import { IntegrityError, UsageError } from '../../src/core/errors.js';
import { decrypt, decryptFailure, encrypt, pseudoRandom, through } from './age-helpers.js';

const alice = generateIdentity();
const aliceId = parseIdentity(alice.identity);
const toAlice = [parseRecipient(alice.recipient)];
const MIB = 1024 * 1024;
const VERSION = 'age-encryption.org/v1\n';

function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}

async function failure(file: Buffer): Promise<IntegrityError> {
  const { error } = await decryptFailure(file, [aliceId]);
  expect(error).toBeInstanceOf(IntegrityError);
  return error as IntegrityError;
}

/** An age file to alice whose payload is the given chunks, each sealed with its own last-chunk flag. */
async function crafted(chunks: ReadonlyArray<{ plaintext: Buffer; last: boolean }>): Promise<Buffer> {
  const fileKey = randomBytes(16);
  const stanza = await wrapFileKey(fileKey, toAlice[0]!);
  const nonce = randomBytes(16);
  const key = payloadKey(fileKey, nonce);
  const counter = new ChunkNonce();
  const sealed = chunks.map(({ plaintext, last }) => {
    const out = sealChunk(key, counter.flagged(last), plaintext);
    counter.next();
    return out;
  });
  return Buffer.concat([encodeHeader([stanza], fileKey), nonce, ...sealed]);
}

describe('age decryption edges', () => {
  it('the crafted files are real age files: one full chunk then a short final one decrypts', async () => {
    const data = pseudoRandom(CHUNK_SIZE + 10, 3);
    const file = await crafted([
      { plaintext: data.subarray(0, CHUNK_SIZE), last: false },
      { plaintext: data.subarray(CHUNK_SIZE), last: true },
    ]);
    expect(await decrypt(file, [aliceId])).toEqual(data);
  });

  it('a header without its end line is refused once it passes 1 MiB, and not at exactly 1 MiB', async () => {
    // pins the limit's message and that it is "more than" 1 MiB
    const over = Buffer.concat([Buffer.from(VERSION), Buffer.alloc(MIB + 1 - VERSION.length, 0x41)]);
    expect((await failure(over)).message).toBe("age header in 'test.age' is longer than 1048576 bytes");
    const exact = over.subarray(0, MIB);
    expect((await failure(exact)).message).toBe("truncated age header in 'test.age'");
  });

  it('a header mac mismatch carries the hint that the header was modified', async () => {
    // pins the hint of the mac mismatch error
    const file = await encrypt(Buffer.from('hello'), toAlice);
    const macAt = file.indexOf('\n--- ') + 5;
    const copy = Buffer.from(file);
    copy[macAt] = copy[macAt] === 0x41 ? 0x42 : 0x41;
    const error = await failure(copy);
    expect(error.message).toBe("header mac mismatch in 'test.age'");
    expect(error.hint).toBe('the age header was modified or corrupted');
  });

  it('data after a full final chunk is reported at the byte where the extra data starts', async () => {
    // pins the byte offset: the end of the final chunk, i.e. the original file's length
    const file = await encrypt(pseudoRandom(2 * CHUNK_SIZE, 4), toAlice);
    const error = await failure(Buffer.concat([file, Buffer.from('x')]));
    expect(error.message).toBe(`unexpected data after the final chunk of 'test.age' at byte ${file.length}`);
  });

  it('a file cut after a full non-final chunk names the chunk count and the byte where it ends', async () => {
    // pins the byte offset of a truncation at a chunk boundary: the cut file's length
    const file = await encrypt(pseudoRandom(2 * CHUNK_SIZE + 1, 5), toAlice);
    const cut = headerLength(file) + 16 + 2 * SEALED_CHUNK_SIZE;
    const error = await failure(file.subarray(0, cut));
    expect(error.message).toBe(
      `'test.age' is truncated at a chunk boundary after 2 chunk(s) (byte ${cut}): the final chunk is missing`,
    );
  });

  it('a damaged full-size final chunk is a failed chunk with the restore hint, not a truncation', async () => {
    // pins that a full-size final chunk that opens under neither flag is reported as damaged
    const file = await encrypt(pseudoRandom(CHUNK_SIZE, 6), toAlice);
    const payload = headerLength(file) + 16;
    expect(file.length).toBe(payload + SEALED_CHUNK_SIZE);
    const copy = Buffer.from(file);
    copy[payload + 100]! ^= 0x01;
    const error = await failure(copy);
    expect(error.message).toBe(
      `chunk 0 at byte ${payload} of 'test.age' failed authentication (the file is corrupted or truncated)`,
    );
    expect(error.hint).toBe('the encrypted file was modified or damaged; restore it from another copy');
  });

  it('a damaged chunk in the middle carries the restore hint too', async () => {
    // pins the hint of a chunk that fails authentication before the end
    const file = await encrypt(pseudoRandom(3 * CHUNK_SIZE, 7), toAlice);
    const payload = headerLength(file) + 16;
    const copy = Buffer.from(file);
    copy[payload + SEALED_CHUNK_SIZE + 5]! ^= 0x80;
    const error = await failure(copy);
    expect(error.message).toBe(`chunk 1 at byte ${payload + SEALED_CHUNK_SIZE} of 'test.age' failed authentication`);
    expect(error.hint).toBe('the encrypted file was modified or damaged; restore it from another copy');
  });

  it('an empty final chunk after full chunks is refused (age allows it only for an empty payload)', async () => {
    // pins the spec rule and its message; the full chunk before it decrypts fine
    const file = await crafted([
      { plaintext: pseudoRandom(CHUNK_SIZE, 8), last: false },
      { plaintext: Buffer.alloc(0), last: true },
    ]);
    const { emitted, error } = await decryptFailure(file, [aliceId]);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toBe("invalid empty final chunk in 'test.age' after 1 chunk(s)");
    expect(emitted).toBe(0);
  });

  it('a short last chunk sealed without the last-chunk flag is a failed chunk, not a truncation', async () => {
    // pins that only a full-size chunk can be read as "final chunk missing"
    const file = await crafted([{ plaintext: Buffer.from('short'), last: false }]);
    const payload = headerLength(file) + 16;
    const error = await failure(file);
    expect(error.message).toBe(
      `chunk 0 at byte ${payload} of 'test.age' failed authentication (the file is corrupted or truncated)`,
    );
  });

  it('without identities it refuses with a message; without a name the input is called "age input"', async () => {
    // pins the usage message and the default name in messages
    expect(() => createDecryptStream([])).toThrow(new UsageError('no age identities given for decryption'));
    const error = await through(createDecryptStream([aliceId]), Buffer.alloc(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toBe("'age input' is empty, not an age file (truncated)");
  });

  it('buffers a whole sealed chunk on the way in and two plaintext chunks on the way out', () => {
    // pins the stream's buffering: a writer may hand over a full sealed chunk before being told to wait
    const stream = createDecryptStream([aliceId]);
    expect([stream.writableHighWaterMark, stream.readableHighWaterMark]).toEqual([SEALED_CHUNK_SIZE, 2 * CHUNK_SIZE]);
    stream.destroy();
  });
});
