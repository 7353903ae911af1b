// Edges of the age primitives: an empty plaintext under the zero-nonce wrap, and the refusal of an
// all-zero X25519 shared secret even from a runtime that returns one instead of throwing.
import crypto, { generateKeyPairSync } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  openWithZeroNonce,
  rawPublicKey,
  sealWithZeroNonce,
  x25519SharedSecret,
} from '../../src/core/crypto/age-primitives.js';

describe('openWithZeroNonce', () => {
  // a sealed empty plaintext is exactly one 16-byte tag, and it opens to an empty buffer (not null)
  it('opens a sealed empty plaintext', () => {
    const key = Buffer.alloc(32, 3);
    const sealed = sealWithZeroNonce(key, Buffer.alloc(0));
    expect(sealed).toHaveLength(16);
    const opened = openWithZeroNonce(key, sealed);
    expect(opened).not.toBeNull();
    expect(opened).toHaveLength(0);
    expect(openWithZeroNonce(Buffer.alloc(32, 4), sealed)).toBeNull();
  });
});

describe('x25519SharedSecret', () => {
  // a normal key agreement gives the same 32 non-zero bytes on both sides
  it('agrees on a secret for a real key pair', () => {
    const a = generateKeyPairSync('x25519');
    const b = generateKeyPairSync('x25519');
    const ab = x25519SharedSecret(a.privateKey, rawPublicKey(b.publicKey));
    expect(ab).toHaveLength(32);
    expect(ab).toEqual(x25519SharedSecret(b.privateKey, rawPublicKey(a.publicKey)));
  });

  // OpenSSL throws on a low-order point; a runtime that returned the all-zero secret instead still gets null
  it('returns null for an all-zero secret, whether the runtime throws or returns it', () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    expect(x25519SharedSecret(privateKey, Buffer.alloc(32))).toBeNull();
    const original = crypto.diffieHellman;
    try {
      crypto.diffieHellman = () => Buffer.alloc(32);
      syncBuiltinESMExports();
      expect(x25519SharedSecret(privateKey, rawPublicKey(publicKey))).toBeNull();
      const oneBit = Buffer.alloc(32);
      oneBit[31] = 1;
      crypto.diffieHellman = () => oneBit;
      syncBuiltinESMExports();
      expect(x25519SharedSecret(privateKey, rawPublicKey(publicKey))).toEqual(oneBit);
    } finally {
      crypto.diffieHellman = original;
      syncBuiltinESMExports();
    }
  });
});
