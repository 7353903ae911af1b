// Streaming age v1 encryption: header for the recipients, payload nonce, then STREAM chunks.
// Holds back one full chunk so a plaintext of an exact multiple of 64 KiB ends on a full final chunk.

import { randomBytes, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { encodeHeader } from './age-header.js';
import type { Recipient } from './age-keys.js';
import { FILE_KEY_SIZE } from './age-primitives.js';
import { checkRecipients, wrapFileKey } from './age-stanzas.js';
import { CHUNK_SIZE, ChunkNonce, PAYLOAD_NONCE_SIZE, payloadKey, SEALED_CHUNK_SIZE, sealChunk } from './age-stream.js';
import { ByteQueue } from './byte-queue.js';

interface Prelude {
  /** Header and payload nonce: everything before the first chunk. */
  bytes: Buffer;
  key: KeyObject;
}

async function prelude(recipients: readonly Recipient[]): Promise<Prelude> {
  const fileKey = randomBytes(FILE_KEY_SIZE);
  const stanzas = await Promise.all(recipients.map((r) => wrapFileKey(fileKey, r)));
  const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
  return { bytes: Buffer.concat([encodeHeader(stanzas, fileKey), nonce]), key: payloadKey(fileKey, nonce) };
}

class AgeEncryptStream extends Transform {
  private readonly pending = new ByteQueue();
  private readonly nonce = new ChunkNonce();
  private readonly prelude: Promise<Prelude>;
  private key: KeyObject | undefined;

  constructor(recipients: readonly Recipient[]) {
    super({ writableHighWaterMark: CHUNK_SIZE, readableHighWaterMark: 2 * SEALED_CHUNK_SIZE });
    this.prelude = prelude(recipients);
    this.prelude.catch(() => {}); // surfaced by the first transform or flush
  }

  private start(then: () => void, callback: TransformCallback): void {
    if (this.key !== undefined) {
      then();
      return;
    }
    this.prelude.then(
      ({ bytes, key }) => {
        this.key = key;
        this.push(bytes);
        then();
      },
      (err: unknown) => callback(err as Error),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start(() => {
      this.pending.push(chunk);
      // Strictly more than a chunk: the last full chunk waits to learn whether it is the final one.
      while (this.pending.length > CHUNK_SIZE) this.seal(this.pending.take(CHUNK_SIZE), false);
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.start(() => {
      // An empty plaintext still gets one (empty) final chunk.
      this.seal(this.pending.take(this.pending.length), true);
      callback();
    }, callback);
  }

  private seal(plaintext: Buffer, last: boolean): void {
    this.push(sealChunk(this.key!, this.nonce.flagged(last), plaintext));
    if (!last) this.nonce.next();
  }
}

/**
 * A Transform turning plaintext into an age v1 file for the recipients: X25519 public keys, or
 * one passphrase (scrypt) recipient alone, as age requires. Throws a UsageError for a bad list.
 */
export function createEncryptStream(recipients: readonly Recipient[]): Transform {
  checkRecipients(recipients);
  return new AgeEncryptStream(recipients);
}
