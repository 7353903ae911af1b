// Streaming age v1 decryption: strict header parse, file key unwrap, header MAC check, then
// chunk-by-chunk authentication. Memory stays at a few chunks whatever the file size.

import type { KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError, UsageError } from '../errors.js';
import { checkPrefix, findHeaderEnd, parseHeader, verifyHeaderMac } from './age-header.js';
import type { Identity } from './age-keys.js';
import { TAG_SIZE } from './age-primitives.js';
import { unwrapFileKey } from './age-stanzas.js';
import { ChunkNonce, openChunk, PAYLOAD_NONCE_SIZE, payloadKey, SEALED_CHUNK_SIZE, CHUNK_SIZE } from './age-stream.js';
import { ByteQueue } from './byte-queue.js';

/** Far above any real header (a post-quantum stanza is ~1.6 KB); bounds memory on garbage input. */
const MAX_HEADER_SIZE = 1024 * 1024;

export interface DecryptOptions {
  /** Names the input in error messages, e.g. the object key `backups/…/dump.age`. */
  name?: string;
}

class AgeDecryptStream extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private searchFrom = 0;
  private headerEnd = -1;
  private key: KeyObject | undefined;
  private payloadStart = 0;
  private readonly pending = new ByteQueue();
  private readonly nonce = new ChunkNonce();

  constructor(
    private readonly identities: readonly Identity[],
    private readonly name: string,
  ) {
    super({ writableHighWaterMark: SEALED_CHUNK_SIZE, readableHighWaterMark: 2 * CHUNK_SIZE });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (this.key !== undefined) {
        this.pending.push(chunk);
        this.drain();
        callback();
        return;
      }
      this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
      if (!this.headerComplete()) {
        callback();
        return;
      }
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.open()
      .then(() => this.drain())
      .then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.key === undefined) throw this.truncatedHeader();
      this.finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  /** True once the header and the payload nonce are buffered. */
  private headerComplete(): boolean {
    checkPrefix(this.head, this.name);
    if (this.headerEnd < 0) {
      const found = findHeaderEnd(this.head, this.searchFrom);
      if ('resume' in found) {
        this.searchFrom = found.resume;
        if (this.head.length > MAX_HEADER_SIZE) {
          throw new IntegrityError(`age header in '${this.name}' is longer than ${MAX_HEADER_SIZE} bytes`);
        }
        return false;
      }
      this.headerEnd = found.end;
    }
    return this.head.length >= this.headerEnd + PAYLOAD_NONCE_SIZE;
  }

  private async open(): Promise<void> {
    const header = parseHeader(this.head.subarray(0, this.headerEnd), this.name);
    const fileKey = await unwrapFileKey(header.stanzas, this.identities, this.name);
    if (!verifyHeaderMac(header, fileKey)) {
      throw new IntegrityError(`header mac mismatch in '${this.name}'`, {
        hint: 'the age header was modified or corrupted',
      });
    }
    this.payloadStart = this.headerEnd + PAYLOAD_NONCE_SIZE;
    this.key = payloadKey(fileKey, this.head.subarray(this.headerEnd, this.payloadStart));
    this.pending.push(this.head.subarray(this.payloadStart));
    this.head = Buffer.alloc(0);
  }

  private truncatedHeader(): IntegrityError {
    if (this.head.length === 0) return new IntegrityError(`'${this.name}' is empty, not an age file (truncated)`);
    if (this.headerEnd < 0) return new IntegrityError(`truncated age header in '${this.name}'`);
    return new IntegrityError(`'${this.name}' is truncated after the age header: payload nonce missing`);
  }

  /** Opens every chunk known not to be the last: one followed by at least one more byte. */
  private drain(): void {
    while (this.pending.length > SEALED_CHUNK_SIZE) {
      const sealed = this.pending.take(SEALED_CHUNK_SIZE);
      const plaintext = openChunk(this.key!, this.nonce.flagged(false), sealed);
      if (plaintext === null) {
        // A valid final chunk followed by more bytes means appended data, not a damaged chunk.
        if (openChunk(this.key!, this.nonce.flagged(true), sealed) !== null) {
          throw new IntegrityError(
            `unexpected data after the final chunk of '${this.name}' at byte ${this.offset() + SEALED_CHUNK_SIZE}`,
          );
        }
        throw this.badChunk('');
      }
      this.push(plaintext);
      this.nonce.next();
    }
  }

  private finish(): void {
    const rest = this.pending.length;
    // drain() always leaves at least one byte once payload arrived, so rest is 0 only without payload.
    if (rest === 0) throw new IntegrityError(`'${this.name}' is truncated: no payload after the age header`);
    const sealed = this.pending.take(rest);
    if (rest < TAG_SIZE || (rest === TAG_SIZE && this.nonce.index > 0)) {
      if (openChunk(this.key!, this.nonce.flagged(true), sealed) !== null) {
        throw new IntegrityError(`invalid empty final chunk in '${this.name}' after ${this.nonce.index} chunk(s)`);
      }
      throw new IntegrityError(
        `'${this.name}' is truncated after ${this.nonce.index} chunk(s) (byte ${this.offset()}): ${rest} byte(s) of a chunk`,
      );
    }
    const plaintext = openChunk(this.key!, this.nonce.flagged(true), sealed);
    if (plaintext !== null) {
      this.push(plaintext);
      return;
    }
    if (rest === SEALED_CHUNK_SIZE && openChunk(this.key!, this.nonce.flagged(false), sealed) !== null) {
      const chunks = this.nonce.index + 1;
      throw new IntegrityError(
        `'${this.name}' is truncated at a chunk boundary after ${chunks} chunk(s) (byte ${this.offset() + rest}): the final chunk is missing`,
      );
    }
    throw this.badChunk(' (the file is corrupted or truncated)');
  }

  private offset(): number {
    return this.payloadStart + this.nonce.index * SEALED_CHUNK_SIZE;
  }

  private badChunk(detail: string): IntegrityError {
    return new IntegrityError(
      `chunk ${this.nonce.index} at byte ${this.offset()} of '${this.name}' failed authentication${detail}`,
      { hint: 'the encrypted file was modified or damaged; restore it from another copy' },
    );
  }
}

/**
 * A Transform turning an age v1 file back into plaintext with the first matching identity.
 * Fails with IntegrityError on any damage (header, MAC, chunk, truncation, trailing data) and
 * OperationError when no identity matches. Emitted plaintext is always authenticated, but a
 * consumer must wait for the stream's end before trusting the whole.
 */
export function createDecryptStream(identities: readonly Identity[], options: DecryptOptions = {}): Transform {
  if (identities.length === 0) throw new UsageError('no age identities given for decryption');
  return new AgeDecryptStream(identities, options.name ?? 'age input');
}
