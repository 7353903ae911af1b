// age keys: X25519 identities (`AGE-SECRET-KEY-1…`) and recipients (`age1…`), passphrase (scrypt)
// recipients, identity files as age-keygen writes them, and short fingerprints for manifests.

import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ConfigError, UsageError } from '../errors.js';
import { bech32Decode, bech32Encode } from './bech32.js';
import { rawPrivateKey, rawPublicKey, x25519PrivateKey } from './age-primitives.js';

export interface X25519Recipient {
  readonly type: 'x25519';
  /** Canonical lower-case `age1…` text. */
  readonly recipient: string;
  readonly publicKey: Buffer;
}

export interface ScryptRecipient {
  readonly type: 'scrypt';
  readonly passphrase: string;
  /** log2 of the scrypt work factor; age uses 18. */
  readonly workFactor?: number;
}

export type Recipient = X25519Recipient | ScryptRecipient;

export interface X25519Identity {
  readonly type: 'x25519';
  /** A KeyObject rather than the bech32 text, so logging an identity cannot print the secret. */
  readonly secretKey: KeyObject;
  readonly recipient: string;
  readonly publicKey: Buffer;
}

export interface ScryptIdentity {
  readonly type: 'scrypt';
  readonly passphrase: string;
  /** Refuse headers asking for more scrypt work than this (log2); default 20 (1 GiB of memory). */
  readonly maxWorkFactor?: number;
}

export type Identity = X25519Identity | ScryptIdentity;

export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
export const DEFAULT_SCRYPT_MAX_WORK_FACTOR = 20;

const IDENTITY_HRP = 'AGE-SECRET-KEY-';
const RECIPIENT_HRP = 'age';

export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    identity: bech32Encode(IDENTITY_HRP, rawPrivateKey(privateKey)),
    recipient: bech32Encode(RECIPIENT_HRP, rawPublicKey(publicKey)),
  };
}

/** Parses one `AGE-SECRET-KEY-1…` line. Messages never echo the key: it is a secret. */
export function parseIdentity(text: string, where = 'identity'): X25519Identity {
  const line = text.trim();
  if (line.startsWith('AGE-SECRET-KEY-PQ-1') || line.startsWith('AGE-PLUGIN-')) {
    throw new UsageError(`unsupported age identity type in ${where}`, {
      hint: 'only native X25519 identities (AGE-SECRET-KEY-1…) are supported; generate one with age-keygen',
    });
  }
  const decoded = line.startsWith(`${IDENTITY_HRP}1`) ? bech32Decode(line) : null;
  if (decoded === null || decoded.hrp !== IDENTITY_HRP.toLowerCase() || decoded.data.length !== 32) {
    throw new UsageError(`invalid age identity in ${where}`, {
      hint: 'expected an upper-case AGE-SECRET-KEY-1… line as written by age-keygen',
    });
  }
  const secretKey = x25519PrivateKey(decoded.data);
  const publicKey = rawPublicKey(createPublicKey(secretKey));
  return { type: 'x25519', secretKey, publicKey, recipient: bech32Encode(RECIPIENT_HRP, publicKey) };
}

export function recipientOf(identity: string): string {
  return parseIdentity(identity).recipient;
}

/** Parses an identity file: `#` comments, blank lines, one `AGE-SECRET-KEY-1…` per line. */
export function parseIdentities(fileText: string, source = 'identity file'): X25519Identity[] {
  const identities: X25519Identity[] = [];
  const lines = fileText.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    identities.push(parseIdentity(line, `line ${i + 1} of '${source}'`));
  });
  if (identities.length === 0) {
    throw new UsageError(`no age identities found in '${source}'`, {
      hint: 'the file should contain an AGE-SECRET-KEY-1… line; create one with age-keygen -o key.txt',
    });
  }
  return identities;
}

/** Parses an `age1…` X25519 recipient (the public key people put in configuration). */
export function parseRecipient(text: string): X25519Recipient {
  const value = text.trim();
  if (value.toUpperCase().startsWith('AGE-SECRET-KEY-')) {
    throw new ConfigError('an age secret key was given where a recipient (public key) belongs', [], {
      hint: 'use the public key printed by age-keygen -y key.txt, and keep the secret key off this host',
    });
  }
  const decoded = bech32Decode(value);
  if (decoded !== null && decoded.hrp !== RECIPIENT_HRP && decoded.hrp.startsWith('age1')) {
    throw new ConfigError(`unsupported age recipient type '${value.slice(0, 12)}…'`, [], {
      hint: 'only native X25519 recipients (age1…) are supported',
    });
  }
  if (decoded === null || decoded.hrp !== RECIPIENT_HRP || decoded.data.length !== 32) {
    throw new ConfigError(`invalid age recipient '${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`, [], {
      hint: 'expected an age1… public key as printed by age-keygen',
    });
  }
  return { type: 'x25519', recipient: value.toLowerCase(), publicKey: decoded.data };
}

export function scryptRecipient(passphrase: string, workFactor = DEFAULT_SCRYPT_WORK_FACTOR): ScryptRecipient {
  return { type: 'scrypt', passphrase, workFactor };
}

export function scryptIdentity(passphrase: string, maxWorkFactor = DEFAULT_SCRYPT_MAX_WORK_FACTOR): ScryptIdentity {
  return { type: 'scrypt', passphrase, maxWorkFactor };
}

/** A short stable id of a recipient for manifests and hints: `sha256:` + 16 hex digits. */
export function fingerprint(recipient: string): string {
  const canonical = parseRecipient(recipient).recipient;
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** An identity file in age-keygen's layout, so the stock CLI and humans read it alike. */
export function formatIdentityFile(identity: string, createdAt: Date = new Date()): string {
  const created = createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${created}\n# public key: ${recipientOf(identity)}\n${identity}\n`;
}
