// Reading an encrypted object back: storage → size/sha256 against the manifest → age decryption.
// The one way every reader (restore, verify, drills, reconcile, details) gets at plaintext.
import { PassThrough, type Readable, pipeline } from 'node:stream';
import { createDecryptStream, type Identity } from '../crypto/index.js';
import { VerifyingStream } from '../pipeline/digest.js';
import type { Storage } from '../storage/storage.js';
import type { ManifestObject } from './manifest.js';

export interface ReadEncryptedOptions {
  signal?: AbortSignal;
  /** stored bytes read so far, for progress */
  onBytes?: (bytes: number) => void;
}

/** The decrypted bytes of `path`; a checksum, size or authentication failure destroys the stream with that error. */
export async function openDecrypted(
  storage: Storage,
  path: string,
  object: ManifestObject,
  identities: readonly Identity[],
  options: ReadEncryptedOptions = {},
): Promise<Readable> {
  const stored = await storage.load(path, options.signal ? { signal: options.signal } : {});
  const verify = new VerifyingStream(object, path);
  if (options.onBytes) verify.onBytes = options.onBytes;
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pipeline(stored, verify, createDecryptStream(identities, { name: path }), out, () => undefined);
  return out;
}
