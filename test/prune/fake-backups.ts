// Synthetic backups written straight into a storage (a valid manifest and one object), and a storage
// wrapper that plays S3: Object Lock refusals on chosen objects and multipart uploads to list/abort.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { makeBackupId } from '../../src/core/run-id.js';
import { MANIFEST_NAME, type Manifest } from '../../src/core/repository/manifest.js';
import type { Repository } from '../../src/core/repository/repository.js';
import type { IncompleteUpload, IncompleteUploads, StorageWrapper } from '../../src/core/storage/incomplete-uploads.js';
import { StorageError } from '../../src/core/storage/storage-errors.js';
import type { LoadOptions, ObjectInfo, SaveOptions, Storage } from '../../src/core/storage/storage.js';

export async function writeFakeBackup(
  repo: Repository,
  target: string,
  at: Date,
  complete = true,
  suffix?: string,
): Promise<string> {
  const id = makeBackupId(at, suffix);
  const body = Buffer.from(`dump of ${target} at ${at.toISOString()}`);
  await repo.storage.save(repo.objectPath(target, id, 'dump.zst.age'), Readable.from([body]));
  if (complete) {
    const manifest: Manifest = {
      format: 1,
      id,
      target,
      database: target,
      server: { version: '15' },
      pgDump: { version: '15', format: 'custom', compression: 'zstd:1' },
      startedAt: at.toISOString(),
      finishedAt: new Date(at.getTime() + 60_000).toISOString(),
      snapshot: '00000003-1',
      objects: [
        {
          name: 'dump.zst.age',
          layers: ['pg_dump:custom', 'zstd', 'age'],
          size: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          plainSize: body.length,
        },
      ],
      recipients: [],
      tables: 1,
      tool: { name: 'fapiao-guard', version: 'test' },
    };
    await repo.writeManifest(manifest);
  }
  return id;
}

/** S3-like behaviour over any storage: locked names refuse removal, fake multipart uploads. */
export class S3ishStorage implements StorageWrapper, IncompleteUploads {
  readonly removed: string[] = [];
  readonly aborted: string[] = [];
  constructor(
    readonly inner: Storage,
    readonly locked: Set<string>,
    readonly uploads: IncompleteUpload[] = [],
    readonly lockError: 'AccessDenied' | 'WORM' = 'AccessDenied',
  ) {}
  get location(): string {
    return this.inner.location;
  }
  save(name: string, body: Readable, options?: SaveOptions): Promise<ObjectInfo> {
    return this.inner.save(name, body, options);
  }
  load(name: string, options?: LoadOptions): Promise<Readable> {
    return this.inner.load(name, options);
  }
  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(name);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  async remove(name: string): Promise<void> {
    if (this.locked.has(name)) {
      const cause =
        this.lockError === 'AccessDenied'
          ? Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })
          : Object.assign(new Error('Object is WORM protected and cannot be overwritten'), { name: 'AccessDenied' });
      throw new StorageError(`cannot remove '${name}' in ${this.location}: AccessDenied (http 403)`, {
        cause,
        permanent: true,
      });
    }
    this.removed.push(name);
    await this.inner.remove(name);
  }
  async *listIncompleteUploads(prefix: string): AsyncIterable<IncompleteUpload> {
    for (const u of this.uploads) if (u.name.startsWith(prefix)) yield u;
  }
  async abortIncompleteUpload(upload: { name: string; uploadId: string }): Promise<void> {
    this.aborted.push(`${upload.name}#${upload.uploadId}`);
  }
}

export { MANIFEST_NAME };
