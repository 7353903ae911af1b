// Edges of bech32Decode: where the separator may sit, which characters the prefix may hold, that
// every data character is in the alphabet, and that leftover padding is shorter than one 5-bit group.
import { describe, expect, it } from 'vitest';
import { bech32Decode, bech32Encode } from '../../src/core/crypto/bech32.js';

describe('bech32Decode', () => {
  // an empty prefix is refused even under a correct checksum (the separator must not be the first character)
  it('refuses an empty human-readable part', () => {
    const noHrp = bech32Encode('', Buffer.from('hello'));
    expect(noHrp.startsWith('1')).toBe(true);
    expect(noHrp.length).toBeGreaterThan(7);
    expect(bech32Decode(noHrp)).toBeNull();
  });

  // 'ae196y8y' has a correct checksum over only five characters after the separator; six are required
  it('refuses fewer than six characters after the separator', () => {
    expect(bech32Decode('ae196y8y')).toBeNull();
    expect(bech32Decode(bech32Encode('ae', Buffer.alloc(0)))).toEqual({ hrp: 'ae', data: Buffer.alloc(0) });
  });

  // prefix characters must be printable ASCII 33..126: space and DEL are refused, '!' and '~' accepted
  it('limits prefix characters to printable ASCII', () => {
    const data = Buffer.from([1, 2, 3]);
    expect(bech32Decode(bech32Encode('a b', data))).toBeNull();
    expect(bech32Decode(bech32Encode('a\u007fb', data))).toBeNull();
    expect(bech32Decode(bech32Encode('a!b', data))).toEqual({ hrp: 'a!b', data });
    expect(bech32Decode(bech32Encode('a~b', data))).toEqual({ hrp: 'a~b', data });
  });

  // 'b' is not in the bech32 alphabet: this string would checksum correctly if 'b' were read as the value -1
  it('refuses a data character outside the alphabet', () => {
    expect(bech32Decode('age1qqqbqqqqs32mld')).toBeNull();
  });

  // 9 data characters leave 5 bits over after 5 bytes: a whole extra group, refused even when zero
  it('refuses leftover padding of a whole 5-bit group', () => {
    expect(bech32Decode('age1pzry9x8gqqvpdss')).toBeNull();
  });
});
