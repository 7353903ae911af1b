import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeader, parseHeader } from '../../src/core/crypto/age-header.js';
import {
  createEncryptStream,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  scryptIdentity,
  scryptRecipient,
} from '../../src/core/crypto/index.js';
import { UsageError } from '../../src/core/errors.js';
import { decrypt, encrypt, pseudoRandom } from './age-helpers.js';
import { propertyRuns } from '../helpers/property-runs.js';

const CHUNK = 64 * 1024;
const alice = generateIdentity();
const bob = generateIdentity();
const aliceId = parseIdentity(alice.identity);
const bobId = parseIdentity(bob.identity);

/** Size of an age payload for a plaintext of n bytes: one 16-byte tag per chunk, at least one chunk. */
const payloadSize = (n: number) => n + 16 * Math.max(1, Math.ceil(n / CHUNK));

function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}

describe('age round trip', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5_000_000 + 17]) {
    it(`round-trips ${size} bytes with the exact STREAM layout`, async () => {
      const data = size > 100_000 ? randomBytes(size) : pseudoRandom(size, size + 1);
      const file = await encrypt(data, [parseRecipient(alice.recipient)]);
      expect(file.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      expect(file.length - headerLength(file)).toBe(16 + payloadSize(size));
      const back = await decrypt(file, [aliceId]);
      expect(back.equals(data)).toBe(true);
    });
  }

  it('writes one X25519 stanza per recipient, each alone enough to decrypt', async () => {
    const data = pseudoRandom(100_000, 7);
    const file = await encrypt(data, [parseRecipient(alice.recipient), parseRecipient(bob.recipient)]);
    const header = parseHeader(file.subarray(0, headerLength(file)), 'x');
    expect(header.stanzas.map((s) => s.args[0])).toEqual(['X25519', 'X25519']);
    expect(header.stanzas.every((s) => s.body.length === 32)).toBe(true);
    expect((await decrypt(file, [aliceId])).equals(data)).toBe(true);
    expect((await decrypt(file, [bobId])).equals(data)).toBe(true);
    expect((await decrypt(file, [parseIdentity(generateIdentity().identity), bobId])).equals(data)).toBe(true);
  });

  it('uses a fresh file key and nonce per file', async () => {
    const data = Buffer.from('same plaintext');
    const a = await encrypt(data, [parseRecipient(alice.recipient)]);
    const b = await encrypt(data, [parseRecipient(alice.recipient)]);
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(-30).equals(b.subarray(-30))).toBe(false);
  });

  it('round-trips with a passphrase (one scrypt stanza with its work factor)', async () => {
    const data = pseudoRandom(70_000, 3);
    const file = await encrypt(data, [scryptRecipient('correct horse', 10)]);
    expect(file.toString('latin1')).toMatch(
      /^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 10\n[A-Za-z0-9+/]{43}\n--- /,
    );
    expect((await decrypt(file, [scryptIdentity('correct horse')])).equals(data)).toBe(true);
  });

  it('refuses recipient lists age forbids', () => {
    expect(() => createEncryptStream([])).toThrowError(UsageError);
    expect(() => createEncryptStream([scryptRecipient('p', 10), parseRecipient(alice.recipient)])).toThrowError(
      /must be the only recipient/,
    );
    expect(() => createEncryptStream([scryptRecipient('p', 0)])).toThrowError(/invalid scrypt work factor/);
  });

  it('wraps stanza bodies at 64 columns and ends them with a short, possibly empty, line', () => {
    const fileKey = randomBytes(16);
    const stanzas = [
      { args: ['example.com/x', 'a'], body: randomBytes(48) },
      { args: ['example.com/y'], body: randomBytes(100) },
      { args: ['example.com/z'], body: Buffer.alloc(0) },
    ];
    const header = encodeHeader(stanzas, fileKey);
    const lines = header.toString('latin1').split('\n');
    expect(lines.slice(1, 4).map((l) => l.length)).toEqual([18, 64, 0]);
    expect(lines.slice(4, 8).map((l) => l.length)).toEqual([16, 64, 64, 6]);
    expect(lines.slice(8, 10)).toEqual(['-> example.com/z', '']);
    const parsed = parseHeader(header, 'x');
    expect(parsed.stanzas).toEqual(stanzas);
  });

  it('round-trips any bytes written in any slicing, and decrypts any slicing of the file (property)', async () => {
    const recipient = parseRecipient(alice.recipient);
    const slices = fc.array(fc.integer({ min: 1, max: 3 * CHUNK }), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 * CHUNK + 3 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
        slices,
        slices,
        async (size, tweak, inSlices, outSlices) => {
          // Bias sizes towards chunk boundaries, where the edge cases live.
          const n = tweak === 0 ? Math.round(size / CHUNK) * CHUNK : size;
          const data = pseudoRandom(n, size + tweak);
          const file = await encrypt(data, [recipient], inSlices);
          expect(file.length - headerLength(file)).toBe(16 + payloadSize(n));
          const back = await decrypt(file, [aliceId], outSlices);
          expect(back.equals(data)).toBe(true);
        },
      ),
      { numRuns: propertyRuns(60) },
    );
  });

  it('decrypts byte by byte through the header (tiny writes)', async () => {
    const data = pseudoRandom(1000, 9);
    const file = await encrypt(data, [parseRecipient(alice.recipient)]);
    const back = await decrypt(file, [aliceId], new Array(file.length).fill(1));
    expect(back.equals(data)).toBe(true);
  });
});
