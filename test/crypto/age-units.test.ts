// The small pure parts under the age implementation, with expected values written out: the
// chunk nonce and its overflow, the byte queue, header framing, base64 strictness, bech32's
// limits, recipient-list rules and their messages.
import { describe, expect, it } from 'vitest';
import { checkPrefix, findHeaderEnd } from '../../src/core/crypto/age-header.js';
import {
  decodeBase64Strict,
  encodeBase64,
  openWithZeroNonce,
  sealWithZeroNonce,
} from '../../src/core/crypto/age-primitives.js';
import { checkRecipients } from '../../src/core/crypto/age-stanzas.js';
import { ChunkNonce, openChunk, payloadKey, sealChunk } from '../../src/core/crypto/age-stream.js';
import { bech32Decode, bech32Encode } from '../../src/core/crypto/bech32.js';
import { ByteQueue } from '../../src/core/crypto/byte-queue.js';
import { parseRecipient, scryptIdentity, scryptRecipient } from '../../src/core/crypto/age-keys.js';
import { IntegrityError, UsageError } from '../../src/core/errors.js';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('ChunkNonce', () => {
  it('counts big-endian in 11 bytes, with the last-chunk flag in the 12th', () => {
    const n = new ChunkNonce();
    expect(n.flagged(false).toString('hex')).toBe('000000000000000000000000');
    expect(n.flagged(true).toString('hex')).toBe('000000000000000000000001');
    n.next();
    expect([n.index, n.flagged(false).toString('hex')]).toEqual([1, '000000000000000000000100']);
    for (let i = 1; i < 256; i++) n.next();
    expect([n.index, n.flagged(true).toString('hex')]).toEqual([256, '000000000000000000010001']);
  });

  it('refuses to wrap around after 2^88 - 1 chunks', () => {
    const n = new ChunkNonce();
    n.bytes.fill(0xff, 0, 10);
    n.bytes[10] = 0xfe;
    n.next();
    expect(n.flagged(false).toString('hex')).toBe('ffffffffffffffffffffff00');
    expect(() => n.next()).toThrow(new RangeError('age stream chunk counter overflow'));
  });
});

describe('sealChunk / openChunk and the zero-nonce wrap', () => {
  it('a sealed chunk opens only under its own nonce and flag; short input is not a chunk', () => {
    const key = payloadKey(Buffer.alloc(16, 1), Buffer.alloc(16, 2));
    const n = new ChunkNonce();
    const sealed = sealChunk(key, n.flagged(true), Buffer.from('hello'));
    expect(sealed).toHaveLength(5 + 16);
    expect(openChunk(key, n.flagged(true), sealed)?.toString()).toBe('hello');
    expect(openChunk(key, n.flagged(false), sealed)).toBeNull();
    expect(openChunk(key, n.flagged(true), sealed.subarray(0, 15))).toBeNull();
    expect(openChunk(key, n.flagged(true), sealChunk(key, n.flagged(true), Buffer.alloc(0)))?.length).toBe(0);
    const wrapped = sealWithZeroNonce(Buffer.alloc(32, 3), Buffer.alloc(16, 4));
    expect(wrapped).toHaveLength(32);
    expect(openWithZeroNonce(Buffer.alloc(32, 3), wrapped)).toEqual(Buffer.alloc(16, 4));
    expect(openWithZeroNonce(Buffer.alloc(32, 5), wrapped)).toBeNull();
    expect(openWithZeroNonce(Buffer.alloc(32, 3), wrapped.subarray(0, 15))).toBeNull();
  });
});

describe('ByteQueue', () => {
  it('takes exact byte counts across written buffers, in order', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abc'));
    q.push(Buffer.alloc(0));
    q.push(Buffer.from('defg'));
    q.push(Buffer.from('h'));
    expect(q.length).toBe(8);
    expect(q.take(2).toString()).toBe('ab');
    expect(q.take(1).toString()).toBe('c');
    expect(q.take(5).toString()).toBe('defgh');
    expect(q.length).toBe(0);
    expect(() => q.take(1)).toThrow(new RangeError('take(1) from a queue of 0 bytes'));
    q.push(Buffer.from('xy'));
    expect(q.take(0).toString()).toBe('');
    expect(q.take(2).toString()).toBe('xy');
  });

  it('stays correct over many small parts (past its compaction point)', () => {
    const q = new ByteQueue();
    let expected = '';
    for (let i = 0; i < 3000; i++) {
      const s = String.fromCharCode(97 + (i % 26));
      q.push(Buffer.from(s));
      expected += s;
    }
    let got = '';
    while (q.length >= 7) got += q.take(7).toString();
    got += q.take(q.length).toString();
    expect(got).toBe(expected);
  });
});

describe('header framing', () => {
  it('findHeaderEnd: the LF after the first "\\n---" line, or where to search again', () => {
    const h = Buffer.from('age-encryption.org/v1\n-> X\nAA\n--- mac\npayload');
    expect(findHeaderEnd(h)).toEqual({ end: 38 });
    expect(findHeaderEnd(h.subarray(0, 37))).toEqual({ resume: 29 }); // mark found, its line not ended
    expect(findHeaderEnd(h.subarray(0, 31))).toEqual({ resume: 28 }); // no mark yet: keep the last 3 bytes
    expect(findHeaderEnd(Buffer.from('ab'))).toEqual({ resume: 0 });
    expect(findHeaderEnd(h, 29)).toEqual({ end: 38 });
    expect(findHeaderEnd(h, 30)).toEqual({ resume: 42 });
  });

  it('checkPrefix: a prefix of the version line passes; others say what they are', () => {
    expect(() => checkPrefix(Buffer.from('age-enc'), 'f')).not.toThrow();
    expect(() => checkPrefix(Buffer.alloc(0), 'f')).not.toThrow();
    const pem = thrown(() => checkPrefix(Buffer.from('-----BEGIN AGE'), 'f.age'));
    expect([pem.constructor, pem.message, (pem as IntegrityError).hint]).toEqual([
      IntegrityError,
      "'f.age' is an armored (PEM) age file, which is not supported",
      'decrypt it with the age CLI, or store backups in the binary format',
    ]);
    expect(thrown(() => checkPrefix(Buffer.from('age-encryption.org/v2\nx'), 'f.age')).message).toBe(
      "unsupported age format version 'v2' in 'f.age'",
    );
    const other = thrown(() => checkPrefix(Buffer.from('PGDMP'), 'f.age'));
    expect([other.message, (other as IntegrityError).hint]).toEqual([
      "'f.age' is not an age v1 encrypted file",
      'the file does not start with the age-encryption.org/v1 header',
    ]);
  });
});

describe('base64', () => {
  it('unpadded and canonical only', () => {
    expect(encodeBase64(Buffer.from('ab'))).toBe('YWI');
    expect(encodeBase64(Buffer.from('abc').subarray(1))).toBe('YmM');
    expect(decodeBase64Strict('YWI')?.toString()).toBe('ab');
    expect(decodeBase64Strict('')?.length).toBe(0);
    expect(decodeBase64Strict('YWI=')).toBeNull();
    expect(decodeBase64Strict('YWJ')).toBeNull(); // non-zero trailing bits
    expect(decodeBase64Strict('Y')).toBeNull();
    expect(decodeBase64Strict('YW-_')).toBeNull();
    expect(decodeBase64Strict(' YWI')).toBeNull();
  });
});

describe('bech32 limits', () => {
  it('the separator is the last "1", the checksum six characters, the prefix printable ASCII', () => {
    expect(bech32Decode('a12uel5l')).toEqual({ hrp: 'a', data: Buffer.alloc(0) });
    expect(bech32Decode('A12UEL5L')).toEqual({ hrp: 'a', data: Buffer.alloc(0) });
    expect(bech32Decode('a1uel5l')).toBeNull(); // five checksum characters
    expect(bech32Decode('12uel5l')).toBeNull(); // empty prefix
    expect(bech32Decode('a b1qqqqqq')).toBeNull();
    expect(bech32Decode(`a\x7f1qqqqqq`)).toBeNull();
    const tilde = bech32Encode('~!', Buffer.from([1, 2]));
    expect(bech32Decode(tilde)).toEqual({ hrp: '~!', data: Buffer.from([1, 2]) });
    // expected strings from @scure/base's bech32 (age-encryption's dependency), written out
    expect(bech32Encode('age', Buffer.from([0xff]))).toBe('age1luyvfgxs');
    expect(bech32Encode('AGE', Buffer.from([0xff]))).toBe('AGE1LUYVFGXS');
    expect(() => bech32Encode('Age', Buffer.alloc(1))).toThrow("mixed-case bech32 prefix 'Age'");
  });

  it('non-canonical padding bits in the data part are refused', () => {
    // 0xff is two 5-bit words 11111 111(00); checksummed strings from @scure/base, written out
    expect(bech32Decode('x1lu7rxnn5')).toEqual({ hrp: 'x', data: Buffer.from([0xff]) }); // words 31, 28
    expect(bech32Decode('x1llssn9at')).toBeNull(); // words 31, 31: padding bits set
    expect(bech32Decode('x1luq5uuzzc')).toBeNull(); // words 31, 28, 0: a whole extra group of padding
  });
});

describe('recipient rules', () => {
  it('checkRecipients: messages and hints', () => {
    expect(thrown(() => checkRecipients([])).message).toBe('no age recipients given');
    const mixed = thrown(() => checkRecipients([scryptRecipient('p', 10), scryptRecipient('q', 10)]));
    expect([mixed.constructor, mixed.message, (mixed as UsageError).hint]).toEqual([
      UsageError,
      'a passphrase (scrypt) recipient must be the only recipient',
      'age forbids mixing passphrase and public-key recipients in one file',
    ]);
    for (const wf of [0, 31, 1.5]) {
      const bad = thrown(() => checkRecipients([scryptRecipient('p', wf)]));
      expect([bad.message, (bad as UsageError).hint]).toEqual([
        `invalid scrypt work factor '${wf}'`,
        'use an integer from 1 to 30; age uses 18',
      ]);
    }
    expect(() => checkRecipients([scryptRecipient('p', 1)])).not.toThrow();
    expect(() => checkRecipients([scryptRecipient('p', 30)])).not.toThrow();
    expect(() => checkRecipients([scryptRecipient('p')])).not.toThrow();
  });

  it('scrypt recipients and identities carry their work factors, 18 and 20 by default', () => {
    expect(scryptRecipient('p')).toEqual({ type: 'scrypt', passphrase: 'p', workFactor: 18 });
    expect(scryptIdentity('p')).toEqual({ type: 'scrypt', passphrase: 'p', maxWorkFactor: 20 });
  });

  it('parseRecipient: an unsupported type and a long invalid value are named, shortened', () => {
    const pq = bech32Encode('age1pq', Buffer.alloc(40));
    const unsupported = thrown(() => parseRecipient(pq));
    expect([unsupported.message, (unsupported as UsageError).hint]).toEqual([
      `unsupported age recipient type '${pq.slice(0, 12)}…'`,
      'only native X25519 recipients (age1…) are supported',
    ]);
    const long = `age1${'q'.repeat(100)}`;
    const invalid = thrown(() => parseRecipient(long));
    expect([invalid.message, (invalid as UsageError).hint]).toEqual([
      `invalid age recipient '${long.slice(0, 80)}…'`,
      'expected an age1… public key as printed by age-keygen',
    ]);
    expect(thrown(() => parseRecipient('age1short')).message).toBe("invalid age recipient 'age1short'");
    expect(thrown(() => parseRecipient(bech32Encode('age', Buffer.alloc(31, 9)))).message).toMatch(
      /^invalid age recipient 'age1/,
    );
  });
});
