// Damage of every kind must fail loudly with the right error class, and never leak unauthenticated bytes.
import { Decrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { IntegrityError, OperationError, UsageError } from '../../src/core/errors.js';
import {
  createDecryptStream,
  fingerprint,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  scryptIdentity,
  scryptRecipient,
} from '../../src/core/crypto/index.js';
import { decrypt, decryptFailure, encrypt, pseudoRandom, run, withTempDir, writeFile } from './age-helpers.js';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
const alice = generateIdentity();
const aliceId = parseIdentity(alice.identity);
const toAlice = [parseRecipient(alice.recipient)];

function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}

/** Replaces a base64 character with another one, so the header stays well-formed. */
function otherLetter(file: Buffer, at: number): Buffer {
  const copy = Buffer.from(file);
  copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
  return copy;
}

function flip(file: Buffer, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(file);
  copy[at]! ^= mask;
  return copy;
}

async function expectIntegrity(file: Buffer, message: RegExp): Promise<{ emitted: number; error: IntegrityError }> {
  const { emitted, error } = await decryptFailure(file, [aliceId]);
  expect(error).toBeInstanceOf(IntegrityError);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).not.toContain('\n');
  return { emitted, error: error as IntegrityError };
}

/** Rewrites the text header of a file (the MAC no longer matters: parsing fails first). */
function withHeader(file: Buffer, edit: (header: string) => string): Buffer {
  const n = headerLength(file);
  return Buffer.concat([Buffer.from(edit(file.subarray(0, n).toString('latin1')), 'latin1'), file.subarray(n)]);
}

describe('age decryption faults', async () => {
  const data = pseudoRandom(3 * CHUNK + 1000, 42); // chunks 0..2 full, chunk 3 short and final
  const file = await encrypt(data, toAlice);
  const payload = headerLength(file) + 16;

  it('a flipped payload byte fails that chunk, after emitting only the chunks before it', async () => {
    const bad = flip(file, payload + SEALED + 100);
    await expectIntegrity(bad, new RegExp(`^chunk 1 at byte ${payload + SEALED} of 'test.age' failed authentication$`));
    // Fed slowly, the first chunk comes out before the failure; no byte of chunk 1 ever does.
    const stream = createDecryptStream([aliceId]);
    let emitted = 0;
    let failure: unknown;
    stream.on('data', (c: Buffer) => (emitted += c.length));
    stream.on('error', (err) => (failure = err));
    for (let at = 0; at < bad.length && failure === undefined; at += 4096) {
      stream.write(bad.subarray(at, at + 4096));
      await new Promise((r) => setImmediate(r));
    }
    expect(failure).toBeInstanceOf(IntegrityError);
    expect(emitted).toBe(CHUNK);
    await expectIntegrity(
      flip(file, file.length - 1),
      /^chunk 3 at byte \d+ of 'test.age' failed authentication \(the file is corrupted or truncated\)$/,
    );
    await expectIntegrity(flip(file, payload - 1), /^chunk 0 at byte/); // the payload nonce
    const { error } = await decryptFailure(flip(file, payload + 5), [aliceId]);
    expect((error as IntegrityError).exitCode).toBe(1);
  });

  it('a flipped header byte never decrypts: mac bytes give a mac mismatch', async () => {
    const macAt = file.indexOf('\n---') + 6;
    await expectIntegrity(otherLetter(file, macAt), /^header mac mismatch in 'test.age'$/);
    await expectIntegrity(flip(file, 3, 0x20), /is not an age v1 encrypted file/);
    // Elsewhere a flip breaks the syntax or the stanza: never a success, and never a silent wrong key.
    for (let at = 0; at < headerLength(file); at++) {
      const { error } = await decryptFailure(flip(file, at, 0x04), [aliceId]);
      expect(error instanceof IntegrityError || error instanceof OperationError, `byte ${at}`).toBe(true);
    }
  });

  it('a flipped byte in another recipient’s stanza fails the header mac', async () => {
    const bob = generateIdentity();
    const two = await encrypt(data, [parseRecipient(bob.recipient), ...toAlice]);
    const bobBody = two.indexOf('\n', two.indexOf('-> X25519')) + 5; // inside bob's stanza body
    await expectIntegrity(otherLetter(two, bobBody), /^header mac mismatch/);
  });

  it('truncation is reported as such wherever it happens', async () => {
    const cases: Array<[number, RegExp]> = [
      [0, /^'test\.age' is empty, not an age file \(truncated\)$/],
      [10, /^'test\.age' is not an age v1|truncated age header/],
      [30, /^truncated age header in 'test\.age'$/],
      [headerLength(file) - 1, /^truncated age header/],
      [headerLength(file), /truncated after the age header: payload nonce missing/],
      [payload - 3, /truncated after the age header/],
      [payload, /^'test\.age' is truncated: no payload after the age header$/],
      [payload + 10, /is truncated after 0 chunk\(s\) .*10 byte\(s\) of a chunk/],
      [payload + 5000, /^chunk 0 .*corrupted or truncated/],
      [payload + SEALED, /truncated at a chunk boundary after 1 chunk\(s\)/],
      [payload + 2 * SEALED, /truncated at a chunk boundary after 2 chunk\(s\)/],
      [payload + 3 * SEALED + 500, /^chunk 3 .*truncated/],
      [file.length - 1, /^chunk 3 .*truncated/],
    ];
    for (const [length, message] of cases) {
      await expectIntegrity(file.subarray(0, length), message);
    }
  });

  it('truncating a file that ends on a full final chunk is detected too', async () => {
    const exact = await encrypt(pseudoRandom(2 * CHUNK, 5), toAlice);
    const p = headerLength(exact) + 16;
    expect(exact.length).toBe(p + 2 * SEALED);
    await expectIntegrity(exact.subarray(0, p + SEALED), /truncated at a chunk boundary after 1 chunk\(s\)/);
  });

  it('rejects data after the final chunk', async () => {
    await expectIntegrity(Buffer.concat([file, Buffer.from([0])]), /^chunk 3 .*failed authentication/);
    const exact = await encrypt(pseudoRandom(CHUNK, 5), toAlice);
    await expectIntegrity(
      Buffer.concat([exact, Buffer.from('x')]),
      /^unexpected data after the final chunk of 'test\.age'/,
    );
    await expectIntegrity(Buffer.concat([exact, exact.subarray(-SEALED)]), /^unexpected data after the final chunk/);
    // An empty final chunk after full ones is forbidden by the spec (age must not accept it either).
    const empty = await encrypt(Buffer.alloc(0), toAlice);
    const forged = Buffer.concat([exact, empty.subarray(-16)]);
    await expectIntegrity(forged, /unexpected data after the final chunk|failed authentication/);
  });

  it('the age CLI agrees that damaged files are damaged', async () => {
    await withTempDir(async (dir) => {
      const key = writeFile(dir, 'k', `${alice.identity}\n`);
      for (const bad of [
        flip(file, payload + 7),
        file.subarray(0, payload + SEALED),
        Buffer.concat([file, Buffer.from([1])]),
      ]) {
        expect(() => run('age', ['-d', '-i', key], bad)).toThrowError(/exited 1/);
        await expect(decrypt(bad, [aliceId])).rejects.toBeInstanceOf(IntegrityError);
      }
    });
  });

  it('a wrong identity is an OperationError saying no identity matched, naming its fingerprint', async () => {
    const eve = generateIdentity();
    const { error } = await decryptFailure(file, [parseIdentity(eve.identity)]);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).message).toBe(
      "no identity matched any of the 1 recipient stanza(s) (X25519) in 'test.age'",
    );
    expect((error as OperationError).hint).toContain(fingerprint(eve.recipient));
    expect((error as OperationError).hint).not.toContain(eve.identity);
    const { error: passErr } = await decryptFailure(file, [scryptIdentity('guess')]);
    expect(passErr).toBeInstanceOf(OperationError);
  });

  it('passphrase files: wrong passphrase, wrong identity kind, and a work factor over the limit', async () => {
    const locked = await encrypt(Buffer.from('secret'), [scryptRecipient('right', 10)]);
    const wrong = await decryptFailure(locked, [scryptIdentity('wrong')]);
    expect(wrong.error).toBeInstanceOf(OperationError);
    expect((wrong.error as OperationError).hint).toMatch(/passphrase is incorrect/);
    const kind = await decryptFailure(locked, [aliceId]);
    expect((kind.error as OperationError).hint).toMatch(/passphrase-encrypted/);
    const heavy = await decryptFailure(locked, [scryptIdentity('right', 9)]);
    expect(heavy.error).toBeInstanceOf(OperationError);
    expect((heavy.error as Error).message).toBe("scrypt work factor 10 in 'test.age' exceeds the maximum of 9");
  });

  it('parses the header strictly', async () => {
    const cases: Array<[(h: string) => string, RegExp]> = [
      [
        (h) => h.replace('age-encryption.org/v1', 'age-encryption.org/v2'),
        /^unsupported age format version 'v2' in 'test\.age'$/,
      ],
      [(h) => `-----BEGIN AGE ENCRYPTED FILE-----\n${h}`, /armored \(PEM\) age file/],
      [(h) => h.replace(/^(-> X25519 \S+)\n(\S+)\n/m, '$1\n$2==\n'), /line 3: stanza body is not canonical base64/],
      [(h) => h.replace(/^(-> X25519 \S+)\n(\S+)\n/m, '$1\r\n$2\n'), /line 2: non-printable byte/],
      [(h) => h.replace('-> X25519 ', '-> X25519  '), /line 2: empty stanza argument/],
      [
        (h) => h.replace(/^(-> X25519 \S+)\n(\S+)\n/m, '$1\n$2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'),
        /line 3: stanza body does not end with a short line|line 3: stanza body is not canonical/,
      ],
      [(h) => h.replace(/\n--- (\S+)\n$/, '\n--- $1=\n'), /mac is not 32 bytes of canonical base64/],
      [(h) => h.replace(/^-> X25519 \S+\n\S+\n/m, ''), /no recipient stanza/],
      [
        (h) => h.replace('-> X25519', '-> scrypt c2FsdHNhbHRzYWx0c2FsdA 10\nAAAA\n-> X25519'),
        /scrypt stanza must be the only stanza/,
      ],
    ];
    for (const [edit, message] of cases) await expectIntegrity(withHeader(file, edit), message);
    // Non-canonical base64: the last character of a 32-byte share carries 2 padding bits that must be zero.
    const nonCanonical = withHeader(file, (h) =>
      h.replace(/^(-> X25519 \S{42})(\S)/m, (_m, head: string, last: string) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        return head + alphabet[alphabet.indexOf(last) ^ 1];
      }),
    );
    await expectIntegrity(nonCanonical, /malformed 'X25519' stanza/);
    // The JS reference rejects the same file, so this is the spec's rule and not ours.
    const d = new Decrypter();
    d.addIdentity(alice.identity);
    await expect(d.decrypt(nonCanonical)).rejects.toThrow();
  });

  it('refuses to start without identities', () => {
    expect(() => createDecryptStream([])).toThrowError(UsageError);
  });

  it('streams: plaintext flows before the input ends, one chunk behind', async () => {
    const big = await encrypt(pseudoRandom(10 * CHUNK, 8), toAlice);
    const stream = createDecryptStream([aliceId]);
    let emitted = 0;
    stream.on('data', (c: Buffer) => (emitted += c.length));
    const cut = payload + 9 * SEALED + 1; // nine chunks and one byte of the tenth
    stream.write(big.subarray(0, cut));
    await new Promise((r) => setImmediate(r));
    expect(emitted).toBe(9 * CHUNK);
    stream.end(big.subarray(cut));
    await new Promise((r) => stream.on('end', r));
    expect(emitted).toBe(10 * CHUNK);
  });
});
