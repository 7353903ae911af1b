// Edges of streaming encryption: a recipient that fails while the header is built surfaces as the
// stream's error, the final chunk may use the very last counter value, and the stream's buffering.
import { describe, expect, it } from 'vitest';
import {
  createEncryptStream,
  generateIdentity,
  parseRecipient,
  type X25519Recipient,
} from '../../src/core/crypto/index.js';
import { CHUNK_SIZE, type ChunkNonce, SEALED_CHUNK_SIZE } from '../../src/core/crypto/age-stream.js';
import { UsageError } from '../../src/core/errors.js';
import { through } from './age-helpers.js';

const alice = generateIdentity();
const toAlice = [parseRecipient(alice.recipient)];

/** Rejects if `p` has not settled within `ms`, so a stream that never ends fails the test quickly. */
function settlesWithin<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('age encryption edges', () => {
  it('a low-order recipient key fails the stream with a UsageError (whether data was written or not)', async () => {
    // pins that an error while building the header reaches the stream's consumer instead of stalling it
    const zero: X25519Recipient = { type: 'x25519', recipient: 'age1zero', publicKey: Buffer.alloc(32) };
    const expected = new UsageError("invalid age recipient 'age1zero': low-order point");
    await expect(settlesWithin(through(createEncryptStream([zero]), Buffer.from('data')))).rejects.toThrow(expected);
    await expect(settlesWithin(through(createEncryptStream([zero]), Buffer.alloc(0)))).rejects.toThrow(expected);
  });

  it('the final chunk may use the last counter value: sealing it does not advance the counter', async () => {
    // pins that only non-final chunks advance the nonce (a final chunk at 2^88 - 1 is not an overflow)
    const stream = createEncryptStream(toAlice);
    (stream as unknown as { nonce: ChunkNonce }).nonce.bytes.fill(0xff, 0, 11);
    const file = await settlesWithin(through(stream, Buffer.from('last')));
    const headerEnd = file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
    expect(file.length).toBe(headerEnd + 16 + 'last'.length + 16);
  });

  it('buffers a whole plaintext chunk on the way in and two sealed chunks on the way out', () => {
    // pins the stream's buffering: a writer may hand over a full chunk before being told to wait
    const stream = createEncryptStream(toAlice);
    expect([stream.writableHighWaterMark, stream.readableHighWaterMark]).toEqual([CHUNK_SIZE, 2 * SEALED_CHUNK_SIZE]);
    stream.destroy();
  });
});
