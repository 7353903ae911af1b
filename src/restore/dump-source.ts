// The mirror of the dump pipeline: storage → sha256/size check → age decrypt → optional zstd -d,
// yielding the pg_dump custom-format archive as a stream.
import { open } from 'node:fs/promises';
import { PassThrough, type Readable, pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createDecryptStream, type Identity } from '../crypto/index.js';
import { InternalError } from '../errors.js';
import { ZSTD_HINT, outputAfterExit, startTool } from '../pipeline/child-process.js';
import { VerifyingStream } from '../pipeline/digest.js';
import type { Manifest, ManifestObject } from '../repository/manifest.js';
import type { Repository } from '../repository/repository.js';

export function dumpObjectOf(manifest: Manifest): ManifestObject {
  const object = manifest.objects.find((o) => o.layers[0] === 'pg_dump:custom');
  if (!object) throw new InternalError(`manifest of '${manifest.target}/${manifest.id}' lists no dump object`);
  return object;
}

export interface DumpSourceOptions {
  repo: Repository;
  manifest: Manifest;
  identities: readonly Identity[];
  signal?: AbortSignal;
  /** called with stored bytes read so far */
  onBytes?: (bytes: number) => void;
}

/** The decrypted, decompressed archive. Errors (checksum, authentication, zstd) destroy it. */
export async function openDumpArchive(options: DumpSourceOptions): Promise<Readable> {
  const { repo, manifest } = options;
  const object = dumpObjectOf(manifest);
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  const stored = await repo.storage.load(path, options.signal ? { signal: options.signal } : {});
  const verify = new VerifyingStream(object, path);
  if (options.onBytes) verify.onBytes = options.onBytes;
  const decrypt = createDecryptStream(options.identities, { name: path });
  const layers = object.layers.slice(1, -1); // between pg_dump:custom and age
  if (layers.length === 0) {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    pipeline(stored, verify, decrypt, out, () => undefined);
    return out;
  }
  if (layers.length === 1 && layers[0] === 'zstd') {
    const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], { stdin: 'pipe', ...(options.signal ? { signal: options.signal } : {}), label: `zstd -d of '${path}'`, installHint: ZSTD_HINT });
    const out = outputAfterExit(zstd);
    pipeline(stored, verify, decrypt, zstd.child.stdin!, (err) => {
      if (err) {
        zstd.kill();
        out.destroy(err);
      }
    });
    return out;
  }
  throw new InternalError(`object '${path}' has layers ${object.layers.join('+')} that this version cannot read`);
}

/**
 * Write the decrypted, decompressed archive to a new private (0600) file for pg_restore -j.
 * zstd writes into the file itself, so the plaintext never passes through this process.
 */
export async function spoolDumpArchive(options: DumpSourceOptions, file: string): Promise<void> {
  const { repo, manifest } = options;
  const object = dumpObjectOf(manifest);
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  const layers = object.layers.slice(1, -1);
  if (layers.length > 1 || (layers.length === 1 && layers[0] !== 'zstd')) {
    throw new InternalError(`object '${path}' has layers ${object.layers.join('+')} that this version cannot read`);
  }
  const handle = await open(file, 'wx', 0o600);
  try {
    const stored = await repo.storage.load(path, options.signal ? { signal: options.signal } : {});
    const verify = new VerifyingStream(object, path);
    if (options.onBytes) verify.onBytes = options.onBytes;
    const decrypt = createDecryptStream(options.identities, { name: path });
    const signal = options.signal ? { signal: options.signal } : {};
    if (layers.length === 0) {
      await pipelineAsync(stored, verify, decrypt, handle.createWriteStream({ autoClose: false }), signal);
      return;
    }
    const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], { stdin: 'pipe', stdoutFd: handle.fd, ...signal, label: `zstd -d of '${path}' into '${file}'`, installHint: ZSTD_HINT });
    try {
      await Promise.all([pipelineAsync(stored, verify, decrypt, zstd.child.stdin!), zstd.exited]);
    } catch (err) {
      zstd.kill();
      throw err;
    }
  } finally {
    await handle.close();
  }
}
