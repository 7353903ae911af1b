// Edges of ByteQueue: bytes within one written buffer come back as a view of it (zero-copy, as
// documented), and consumed buffers are let go, both when the queue drains and when it never does.
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../src/core/crypto/byte-queue.js';

/** The queue's part list: what it still holds references to. */
const parts = (q: ByteQueue): Buffer[] => (q as unknown as { parts: Buffer[] }).parts;

describe('ByteQueue edges', () => {
  it('a take within one written buffer is a view of it, also when it takes exactly what is left', () => {
    // pins zero-copy takes: a change to the written buffer shows through the taken bytes
    const q = new ByteQueue();
    const written = Buffer.from('abcd');
    q.push(written);
    const first = q.take(1);
    const rest = q.take(3);
    written.write('WXYZ');
    expect([first.toString(), rest.toString()]).toEqual(['W', 'XYZ']);
  });

  it('an empty write is ignored: the next buffer is still taken zero-copy', () => {
    // pins that empty buffers never enter the queue
    const q = new ByteQueue();
    const written = Buffer.from('abc');
    q.push(Buffer.alloc(0));
    q.push(written);
    const out = q.take(3);
    written.write('xyz');
    expect(out.toString()).toBe('xyz');
    expect(parts(q)).toHaveLength(0);
  });

  it('a drained queue holds no consumed buffers', () => {
    // pins that taking everything releases every written buffer
    const q = new ByteQueue();
    for (const s of ['ab', 'cd', 'ef']) q.push(Buffer.from(s));
    expect(q.take(6).toString()).toBe('abcdef');
    expect(parts(q)).toHaveLength(0);
    q.push(Buffer.from('g'));
    q.take(1);
    expect(parts(q)).toHaveLength(0);
  });

  it('a queue that never drains lets go of consumed buffers every 1025 parts, and not on every take', () => {
    // pins bounded memory for a long stream and no O(parts) rebuild per take
    const q = new ByteQueue();
    q.push(Buffer.from('a'));
    const list = parts(q);
    for (let i = 0; i < 1000; i++) {
      q.push(Buffer.from('b'));
      q.take(1);
    }
    expect(parts(q)).toBe(list);
    for (let i = 0; i < 4000; i++) {
      q.push(Buffer.from('b'));
      q.take(1);
    }
    expect(q.length).toBe(1);
    expect(parts(q).length).toBeLessThanOrEqual(1026);
  });
});
