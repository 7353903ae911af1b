// A FIFO of buffers from which fixed-size chunks are taken without re-concatenating everything
// on each write (which would be quadratic for streams of small writes).

export class ByteQueue {
  private parts: Buffer[] = [];
  private first = 0; // index of the first live part
  private offset = 0; // bytes already consumed from parts[first]
  length = 0;

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** Removes exactly `n` bytes (n ≤ length); zero-copy when they lie within one written buffer. */
  take(n: number): Buffer {
    if (n > this.length) throw new RangeError(`take(${n}) from a queue of ${this.length} bytes`);
    this.length -= n;
    const head = this.parts[this.first];
    if (head !== undefined && head.length - this.offset >= n) {
      const out = head.subarray(this.offset, this.offset + n);
      this.advance(head, n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.parts[this.first]!;
      const k = Math.min(n - filled, part.length - this.offset);
      part.copy(out, filled, this.offset, this.offset + k);
      filled += k;
      this.advance(part, k);
    }
    return out;
  }

  private advance(part: Buffer, k: number): void {
    this.offset += k;
    if (this.offset < part.length) return;
    this.offset = 0;
    this.first++;
    // Compact now and then rather than shift() per part, which is O(parts).
    if (this.first > 1024 || this.first === this.parts.length) {
      this.parts = this.parts.slice(this.first);
      this.first = 0;
    }
  }
}
