// Wrapping the file key for each recipient type and unwrapping it with identities (X25519, scrypt).

import { generateKeyPairSync, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { IntegrityError, OperationError, UsageError } from '../errors.js';
import type { Stanza } from './age-header.js';
import {
  DEFAULT_SCRYPT_MAX_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  fingerprint,
  type Identity,
  type Recipient,
} from './age-keys.js';
import {
  decodeBase64Strict,
  encodeBase64,
  hkdf,
  openWithZeroNonce,
  rawPublicKey,
  sealWithZeroNonce,
  x25519SharedSecret,
} from './age-primitives.js';

const X25519_INFO = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const MAX_WORK_FACTOR = 30;

function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  const label = Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]);
  // node's default maxmem (32 MiB) is below what age's work factors need (128·r·N bytes).
  const maxmem = 128 * 8 * N + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, 'utf8'), label, 32, { N, r: 8, p: 1, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Checks the recipient list is one age accepts: non-empty, and scrypt only on its own. */
export function checkRecipients(recipients: readonly Recipient[]): void {
  if (recipients.length === 0) throw new UsageError('no age recipients given');
  const scrypts = recipients.filter((r) => r.type === 'scrypt');
  if (scrypts.length > 0 && recipients.length > 1) {
    throw new UsageError('a passphrase (scrypt) recipient must be the only recipient', {
      hint: 'age forbids mixing passphrase and public-key recipients in one file',
    });
  }
  for (const r of scrypts) {
    const wf = r.workFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
    if (!Number.isInteger(wf) || wf < 1 || wf > MAX_WORK_FACTOR) {
      throw new UsageError(`invalid scrypt work factor '${wf}'`, {
        hint: `use an integer from 1 to ${MAX_WORK_FACTOR}; age uses 18`,
      });
    }
  }
}

export async function wrapFileKey(fileKey: Buffer, recipient: Recipient): Promise<Stanza> {
  if (recipient.type === 'scrypt') {
    const logN = recipient.workFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
    const salt = randomBytes(16);
    const key = await scryptKey(recipient.passphrase, salt, logN);
    return { args: ['scrypt', encodeBase64(salt), String(logN)], body: sealWithZeroNonce(key, fileKey) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const share = rawPublicKey(publicKey);
  const secret = x25519SharedSecret(privateKey, recipient.publicKey);
  if (secret === null) throw new UsageError(`invalid age recipient '${recipient.recipient}': low-order point`);
  const wrapKey = hkdf(secret, Buffer.concat([share, recipient.publicKey]), X25519_INFO);
  return { args: ['X25519', encodeBase64(share)], body: sealWithZeroNonce(wrapKey, fileKey) };
}

function unwrapX25519(secretKey: KeyObject, publicKey: Buffer, s: Stanza, name: string): Buffer | null {
  const share = s.args.length === 2 ? decodeBase64Strict(s.args[1]!) : null;
  if (share === null || share.length !== 32 || s.body.length !== 32) {
    throw new IntegrityError(`malformed 'X25519' stanza in '${name}'`);
  }
  const secret = x25519SharedSecret(secretKey, share);
  if (secret === null) throw new IntegrityError(`invalid 'X25519' stanza in '${name}': low-order ephemeral share`);
  return openWithZeroNonce(hkdf(secret, Buffer.concat([share, publicKey]), X25519_INFO), s.body);
}

async function unwrapScrypt(
  passphrase: string,
  maxWorkFactor: number,
  s: Stanza,
  name: string,
): Promise<Buffer | null> {
  const salt = s.args.length === 3 ? decodeBase64Strict(s.args[1]!) : null;
  if (salt === null || salt.length !== 16 || !/^[1-9][0-9]*$/.test(s.args[2]!) || s.body.length !== 32) {
    throw new IntegrityError(`malformed 'scrypt' stanza in '${name}'`);
  }
  const logN = Number(s.args[2]);
  if (logN > maxWorkFactor) {
    throw new OperationError(`scrypt work factor ${logN} in '${name}' exceeds the maximum of ${maxWorkFactor}`, {
      hint: 'raise the maximum work factor only for files from a trusted source',
    });
  }
  return openWithZeroNonce(await scryptKey(passphrase, salt, logN), s.body);
}

/** Finds the file key with the first identity that opens a stanza; throws when none does. */
export async function unwrapFileKey(
  stanzas: readonly Stanza[],
  identities: readonly Identity[],
  name: string,
): Promise<Buffer> {
  if (stanzas.some((s) => s.args[0] === 'scrypt') && stanzas.length !== 1) {
    throw new IntegrityError(`invalid age header in '${name}': a scrypt stanza must be the only stanza`);
  }
  for (const identity of identities) {
    for (const s of stanzas) {
      let fileKey: Buffer | null = null;
      if (identity.type === 'x25519' && s.args[0] === 'X25519') {
        fileKey = unwrapX25519(identity.secretKey, identity.publicKey, s, name);
      } else if (identity.type === 'scrypt' && s.args[0] === 'scrypt') {
        fileKey = await unwrapScrypt(
          identity.passphrase,
          identity.maxWorkFactor ?? DEFAULT_SCRYPT_MAX_WORK_FACTOR,
          s,
          name,
        );
      }
      if (fileKey !== null && fileKey.length === 16) return fileKey;
    }
  }
  throw noMatch(stanzas, identities, name);
}

function noMatch(stanzas: readonly Stanza[], identities: readonly Identity[], name: string): OperationError {
  const types = [...new Set(stanzas.map((s) => s.args[0]))].join(', ');
  const tried = identities.map((i) =>
    i.type === 'x25519' ? `${fingerprint(i.recipient)} (${i.recipient})` : 'a passphrase',
  );
  const passphraseFile = stanzas[0]?.args[0] === 'scrypt';
  const hint = passphraseFile
    ? identities.some((i) => i.type === 'scrypt')
      ? 'the file is passphrase-encrypted and the passphrase is incorrect'
      : 'the file is passphrase-encrypted (scrypt); decrypt it with its passphrase'
    : `tried identities for ${tried.join(', ')}; use the identity whose public key is one of the file's recipients`;
  return new OperationError(
    `no identity matched any of the ${stanzas.length} recipient stanza(s) (${types}) in '${name}'`,
    { hint },
  );
}
