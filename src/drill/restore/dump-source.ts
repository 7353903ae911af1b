// The mirror of the dump pipeline: storage → sha256/size check → age decrypt → optional zstd -d,
// yielding the pg_dump custom-format archive as a stream.
import { fileHandleSink } from '../../core/pipeline/file-sink.js';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Identity } from '../../core/crypto/index.js';
import { OperationError } from '../../core/errors.js';
import { ZSTD_HINT, outputAfterExit, pipeInto, startTool } from '../../core/pipeline/child-process.js';
import type { Manifest, ManifestObject } from '../../core/repository/manifest.js';
import { openDecrypted } from '../../core/repository/read-encrypted.js';
import type { Repository } from '../../core/repository/repository.js';

export function dumpObjectOf(manifest: Manifest): ManifestObject {
  const object = manifest.objects.find((o) => o.layers[0] === 'pg_dump:custom');
  // a manifest is input: damaged or written by another tool, it is refused, not a bug (exit 3)
  if (!object)
    throw new OperationError(
      `manifest of '${manifest.target}/${manifest.id}' lists no dump object (layers pg_dump:custom…)`,
      { hint: 'the manifest is damaged or was not written by fapiao-guard; restore another backup' },
    );
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

/** Where the dump is and whether it is zstd-compressed inside its age layer. */
function dumpLocation(options: DumpSourceOptions): { object: ManifestObject; path: string; zstd: boolean } {
  const { repo, manifest } = options;
  const object = dumpObjectOf(manifest);
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  const layers = object.layers.slice(1, -1).join('+'); // between pg_dump:custom and age
  if ((layers !== '' && layers !== 'zstd') || object.layers.at(-1) !== 'age') {
    throw new OperationError(`object '${path}' has layers ${object.layers.join('+')} that this version cannot read`, {
      hint: 'a newer fapiao-guard wrote it, or the manifest is damaged: upgrade, or restore another backup',
    });
  }
  return { object, path, zstd: layers === 'zstd' };
}

function decrypted(options: DumpSourceOptions, object: ManifestObject, path: string): Promise<Readable> {
  return openDecrypted(options.repo.storage, path, object, options.identities, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBytes ? { onBytes: options.onBytes } : {}),
  });
}

/** The decrypted, decompressed archive. Errors (checksum, authentication, zstd) destroy it. */
export async function openDumpArchive(options: DumpSourceOptions): Promise<Readable> {
  const { object, path, zstd: compressed } = dumpLocation(options);
  const plain = await decrypted(options, object, path);
  if (!compressed) return plain;
  const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], {
    stdin: 'pipe',
    ...(options.signal ? { signal: options.signal } : {}),
    label: `zstd -d of '${path}'`,
    installHint: ZSTD_HINT,
  });
  const out = outputAfterExit(zstd);
  pipeInto(plain, zstd).catch((err: unknown) => {
    zstd.kill();
    out.destroy(err as Error);
  });
  return out;
}

/**
 * Write the decrypted, decompressed archive to a new private (0600) file for pg_restore -j.
 * zstd writes into the file itself, so the plaintext never passes through this process.
 */
export async function spoolDumpArchive(options: DumpSourceOptions, file: string): Promise<void> {
  const { object, path, zstd: compressed } = dumpLocation(options);
  const handle = await open(file, 'wx', 0o600);
  try {
    const plain = await decrypted(options, object, path);
    const signal = options.signal ? { signal: options.signal } : {};
    if (!compressed) {
      // not handle.createWriteStream (it keeps handle.close() waiting) nor an fd stream (src/core/pipeline/file-sink.ts)
      await pipelineAsync(plain, fileHandleSink(handle), signal);
      return;
    }
    const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], {
      stdin: 'pipe',
      stdoutFd: handle.fd,
      ...signal,
      label: `zstd -d of '${path}' into '${file}'`,
      installHint: ZSTD_HINT,
    });
    try {
      await Promise.all([pipeInto(plain, zstd), zstd.exited]);
    } catch (err) {
      zstd.kill();
      throw err;
    }
  } finally {
    await handle.close();
  }
}
