// The age payload's STREAM construction: 64 KiB chunks sealed with ChaCha20-Poly1305 under the
// payload key, nonce = 11-byte big-endian chunk counter || last-chunk flag.

import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { hkdf, TAG_SIZE } from './age-primitives.js';

export const CHUNK_SIZE = 64 * 1024;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
export const PAYLOAD_NONCE_SIZE = 16;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): KeyObject {
  // A KeyObject avoids re-importing the raw key for every chunk.
  return createSecretKey(hkdf(fileKey, nonce, 'payload'));
}

/** The per-chunk nonce, advanced in place; OpenSSL copies it when each cipher is created. */
export class ChunkNonce {
  readonly bytes = Buffer.alloc(12);
  index = 0;

  next(): void {
    this.index++;
    for (let i = 10; i >= 0; i--) {
      this.bytes[i] = (this.bytes[i]! + 1) & 0xff;
      if (this.bytes[i] !== 0) return;
    }
    throw new RangeError('age stream chunk counter overflow');
  }

  /** Nonce for this chunk with the last-chunk flag set or cleared. */
  flagged(last: boolean): Buffer {
    this.bytes[11] = last ? 1 : 0;
    return this.bytes;
  }
}

export function sealChunk(key: KeyObject, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([ciphertext, cipher.getAuthTag()], ciphertext.length + TAG_SIZE);
}

/** Returns null when the tag does not verify (wrong position, flag, key or tampered bytes). */
export function openChunk(key: KeyObject, nonce: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG_SIZE) return null;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return plaintext;
}
