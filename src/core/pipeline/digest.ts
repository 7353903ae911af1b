// Observer stages: count bytes and sha256 them as they pass, and check them against
// expectations at the end (pgBackRest's filter-group idea: observers report a result).
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';

export interface DigestResult {
  size: number;
  sha256: string;
}

/** Passes bytes through unchanged; `result()` is valid once the stream has ended. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  private size = 0;
  private digest?: string;
  /** called with the running byte count, for progress */
  onBytes?: (total: number) => void;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(this.size);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    done();
  }

  get bytes(): number {
    return this.size;
  }

  result(): DigestResult {
    // plain-error-ok: an invariant (result() is only called after the pipeline ended), a bug if it fires
    if (this.digest === undefined) throw new Error('digest read before the stream ended');
    return { size: this.size, sha256: this.digest };
  }
}

/**
 * Passes bytes through and fails the stream at its end (before the last bytes are
 * released downstream as a success) when size or sha256 differ from the expectation.
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private size = 0;
  onBytes?: (total: number) => void;

  constructor(
    private readonly expected: DigestResult,
    private readonly objectName: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.expected.size) {
      done(
        new IntegrityError(`size mismatch for '${this.objectName}': expected ${this.expected.size} bytes, got more`),
      );
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(this.size);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== this.expected.size) {
      done(
        new IntegrityError(
          `size mismatch for '${this.objectName}': expected ${this.expected.size} bytes, got ${this.size} (truncated)`,
        ),
      );
      return;
    }
    const got = this.hash.digest('hex');
    if (got !== this.expected.sha256) {
      done(
        new IntegrityError(
          `checksum mismatch for '${this.objectName}': expected ${this.expected.sha256.slice(0, 16)}…, got ${got.slice(0, 16)}…`,
        ),
      );
      return;
    }
    done();
  }
}

/** Counts bytes only (no hash): for plaintext sizes on the hot path. */
export class CountingStream extends Transform {
  bytes = 0;
  onBytes?: (total: number) => void;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    done(null, chunk);
  }
}
