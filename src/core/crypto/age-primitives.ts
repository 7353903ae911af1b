// The few cryptographic building blocks age needs, on node:crypto only: HKDF-SHA-256,
// one-shot ChaCha20-Poly1305 for wrapping file keys, strict unpadded base64 and raw X25519 keys.

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';

export const FILE_KEY_SIZE = 16;
export const TAG_SIZE = 16;
const ZERO_NONCE = Buffer.alloc(12);

// DER prefixes of PKCS#8 / SPKI X25519 keys: the raw 32 bytes follow them, so slicing is exact.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

/** ChaCha20-Poly1305 with the all-zero nonce: safe because every wrap key is used once. */
export function sealWithZeroNonce(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG_SIZE });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Returns null when authentication fails: a stanza for someone else, not an error. */
export function openWithZeroNonce(key: Uint8Array, sealed: Uint8Array): Buffer | null {
  if (sealed.length < TAG_SIZE) return null;
  const decipher = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return plaintext;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/**
 * Unpadded standard base64; null for padding, foreign characters, an impossible length or non-zero
 * trailing bits (non-canonical). Node's decoder is lenient (it skips what it does not know), so the
 * check is the round trip: only the canonical unpadded text re-encodes to itself.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return encodeBase64(bytes) === text ? bytes : null;
}

export function x25519PrivateKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function rawPrivateKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519_PREFIX.length);
}

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length);
}

/** X25519 shared secret, or null for a low-order point (all-zero secret), which age must reject. */
export function x25519SharedSecret(privateKey: KeyObject, publicRaw: Uint8Array): Buffer | null {
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey, publicKey: x25519PublicKey(publicRaw) });
  } catch {
    return null; // OpenSSL refuses the all-zero result itself
  }
  return secret.every((b) => b === 0) ? null : secret;
}
