// Small encrypted objects (details.json.age, globals.sql.age): encrypt, hash, store.
import { Readable, pipeline } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createEncryptStream, type Identity, type Recipient } from '../core/crypto/index.js';
import { OperationError } from '../core/errors.js';
import { DigestStream } from '../core/pipeline/digest.js';
import type { ManifestObject } from '../core/repository/manifest.js';
import { openDecrypted } from '../core/repository/read-encrypted.js';
import type { Storage } from '../core/storage/storage.js';

export async function saveEncrypted(
  storage: Storage,
  path: string,
  name: string,
  layers: string[],
  source: Readable,
  recipients: readonly Recipient[],
  signal?: AbortSignal,
): Promise<ManifestObject> {
  const stored = new DigestStream();
  let plainSize = 0;
  source.on('data', (chunk: Buffer) => {
    plainSize += chunk.length;
  });
  pipeline(source, createEncryptStream(recipients), stored, (err) => {
    if (err) stored.destroy(err);
  });
  const info = await storage.save(path, stored, {
    ...(signal ? { signal } : {}),
    contentType: 'application/octet-stream',
  });
  const digest = stored.result();
  if (info.size !== digest.size) {
    throw new OperationError(`stored size of '${path}' is ${info.size}, wrote ${digest.size}`);
  }
  return { name, layers: [...layers, 'age'], size: digest.size, sha256: digest.sha256, plainSize };
}

export function saveEncryptedText(
  storage: Storage,
  path: string,
  name: string,
  layers: string[],
  body: string,
  recipients: readonly Recipient[],
  signal?: AbortSignal,
) {
  return saveEncrypted(storage, path, name, layers, Readable.from([Buffer.from(body)]), recipients, signal);
}

/** Load, verify against the manifest entry, decrypt and return as text. */
export async function loadEncryptedText(
  storage: Storage,
  path: string,
  object: ManifestObject,
  identities: readonly Identity[],
): Promise<string> {
  return text(await openDecrypted(storage, path, object, identities));
}
