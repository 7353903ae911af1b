import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bech32Decode, bech32Encode } from '../../src/core/crypto/bech32.js';

describe('bech32', () => {
  it('accepts the BIP-173 valid test vectors (bech32, not bech32m)', () => {
    for (const s of [
      'A12UEL5L',
      'a12uel5l',
      'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
      '11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j',
      'split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w',
    ]) {
      expect(bech32Decode(s), s).not.toBeNull();
    }
  });

  it('rejects mixed case, bad checksums, bad characters and a bech32m checksum', () => {
    expect(bech32Decode('A12uEL5L')).toBeNull();
    expect(bech32Decode('a12uel5m')).toBeNull();
    expect(bech32Decode('a12ueb5l')).toBeNull(); // 'b' is not in the charset
    expect(bech32Decode('a1lqfn3a')).toBeNull(); // valid bech32m, invalid bech32
    expect(bech32Decode('1qzzfhee')).toBeNull(); // empty hrp
  });

  it('round-trips bytes in both cases, beyond the 90-character limit of BIP-173', () => {
    for (const size of [0, 1, 32, 33, 200]) {
      const data = randomBytes(size);
      const lower = bech32Encode('age', data);
      expect(lower).toBe(lower.toLowerCase());
      expect(bech32Decode(lower)).toEqual({ hrp: 'age', data });
      const upper = bech32Encode('AGE-SECRET-KEY-', data);
      expect(upper).toBe(upper.toUpperCase());
      expect(bech32Decode(upper)).toEqual({ hrp: 'age-secret-key-', data });
    }
    expect(bech32Encode('age', randomBytes(200)).length).toBeGreaterThan(90);
  });
});
