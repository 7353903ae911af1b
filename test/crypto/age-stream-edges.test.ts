// Edges of the STREAM chunk counter.
import { describe, expect, it } from 'vitest';
import { ChunkNonce } from '../../src/core/crypto/age-stream.js';

describe('ChunkNonce edges', () => {
  it('a carry runs into the most significant counter byte', () => {
    // pins that all 11 counter bytes take part, the first one included
    const n = new ChunkNonce();
    n.bytes.fill(0xff, 1, 11);
    n.next();
    expect(n.flagged(false).toString('hex')).toBe('010000000000000000000000');
  });
});
