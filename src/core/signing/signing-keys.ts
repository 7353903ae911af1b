// Ed25519 signing keys (node:crypto) for what auditors must be able to trust later: evidence pack
// indexes and backup manifests. Keys are PEM files (PKCS#8 private, SPKI public), so OpenSSL reads
// them too; a signature is a one-line JSON naming the key it was made with.
import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';

export const SIGNATURE_FORMAT = 'fapiao-guard/ed25519-signature/v1';

export interface SigningKeyPair {
  privatePem: string;
  publicPem: string;
  keyId: string;
}

/** Short id of a public key: the first 16 hex digits of the sha256 of its SPKI DER (shown, never secret). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, [], {
      hint: "make a pair with 'fapiao-guard keygen --signing --out FILE'",
    });
  }
}

/** The private signing key (signing.keyFile); warns when others may read it, as for age identities. */
export async function loadSigningKey(file: string): Promise<KeyObject> {
  const text = await readKeyFile(file, 'signing key');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new ConfigError(`'${file}' is not a PEM private key`, [], {
      hint: "signing.keyFile is the private file written by 'fapiao-guard keygen --signing'; the .pub file is for the auditor",
    });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(`'${file}' holds a ${key.asymmetricKeyType ?? 'unknown'} key; signing needs Ed25519`);
  const mode = (await stat(file)).mode;
  if ((mode & 0o077) !== 0)
    process.emitWarning(
      `signing key '${file}' is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return key;
}

/** A public key to check with: an SPKI PEM (the .pub file), or a private key file (its public half). */
export async function loadVerifyKey(file: string): Promise<KeyObject> {
  const text = await readKeyFile(file, 'public signing key');
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new UsageError(`'${file}' is not a PEM public key`, {
      hint: "use the .pub file written by 'fapiao-guard keygen --signing'",
    });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new UsageError(`'${file}' holds a ${key.asymmetricKeyType ?? 'unknown'} key; signatures here are Ed25519`);
  return key;
}

/** The signature of `data` as the one-line text stored next to it (`….sig`). */
export function signatureText(data: Buffer | string, key: KeyObject): string {
  const signature = sign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key).toString('base64');
  return `${JSON.stringify({ format: SIGNATURE_FORMAT, alg: 'ed25519', keyId: keyIdOf(key), signature })}\n`;
}

export type SignatureCheck = { ok: true; keyId: string } | { ok: false; problem: string };

/** Does `text` (a `.sig` file) sign `data` with `key`? Never throws on damaged input. */
export function checkSignature(data: Buffer | string, text: string, key: KeyObject): SignatureCheck {
  let doc: { format?: unknown; alg?: unknown; keyId?: unknown; signature?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return { ok: false, problem: 'the signature is not valid JSON (damaged)' };
  }
  if (
    doc === null ||
    typeof doc !== 'object' ||
    doc.format !== SIGNATURE_FORMAT ||
    doc.alg !== 'ed25519' ||
    typeof doc.signature !== 'string'
  ) {
    return { ok: false, problem: `the signature is not a ${SIGNATURE_FORMAT} signature (damaged)` };
  }
  // only the exact text this tool writes: any changed byte of a .sig file is an alteration
  const canonical =
    typeof doc.keyId === 'string'
      ? `${JSON.stringify({ format: doc.format, alg: doc.alg, keyId: doc.keyId, signature: doc.signature })}\n`
      : '';
  if (text !== canonical) return { ok: false, problem: 'the signature file is not as it was written (altered)' };
  const expectedId = keyIdOf(key);
  const bytes = Buffer.from(doc.signature, 'base64');
  const good =
    bytes.length === 64 && verify(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key, bytes);
  if (doc.keyId !== expectedId)
    return {
      ok: false,
      problem: `signed by key ${String(doc.keyId).slice(0, 16)}, not by the given key ${expectedId}`,
    };
  if (good) return { ok: true, keyId: expectedId };
  return { ok: false, problem: 'the signature does not match the signed bytes (altered)' };
}
