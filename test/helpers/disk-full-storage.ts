// A storage whose disk fills up after `capacity` bytes, for machines where a small tmpfs cannot be
// mounted (mounting needs root and a sandbox that allows it). The real full disk is the tmpfs tests
// in test/storage/file-storage.test.ts and test/backup/faults.test.ts; this stands in for the kernel
// only: bytes go to the real inner storage until the capacity is used, then that save fails the way
// FileStorage fails on ENOSPC (the partial temp file removed by FileStorage itself, then the
// StorageError src/core/storage/fs-errors.ts builds for ENOSPC). Used where the kernel cannot be asked.
import { PassThrough, type Readable } from 'node:stream';
import { fsError } from '../../src/core/storage/fs-errors.js';
import type { StorageWrapper } from '../../src/core/storage/incomplete-uploads.js';
import type { LoadOptions, ObjectInfo, SaveOptions, Storage } from '../../src/core/storage/storage.js';

export class DiskFullStorage implements StorageWrapper {
  /** bytes written so far, over every save */
  used = 0;
  constructor(
    readonly inner: Storage,
    readonly capacity: number,
  ) {}

  get location(): string {
    return this.inner.location;
  }

  async save(name: string, body: Readable, options?: SaveOptions): Promise<ObjectInfo> {
    const sink = new PassThrough();
    const controller = new AbortController();
    options?.signal?.addEventListener('abort', () => controller.abort(options.signal!.reason), { once: true });
    const saving = this.inner.save(name, sink, { ...options, signal: controller.signal });
    saving.catch(() => undefined);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (this.used + chunk.length > this.capacity) {
          // the disk is full: the inner save is aborted (it removes its temp file), then ENOSPC
          controller.abort(new Error('disk full'));
          sink.destroy(new Error('disk full'));
          await saving.catch(() => undefined);
          const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
            errno: -28,
            syscall: 'write',
          });
          throw fsError(enospc, 'write', `${this.location}/${name}`);
        }
        this.used += chunk.length;
        if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
      }
      sink.end();
      return await saving;
    } catch (err) {
      sink.destroy();
      throw err;
    }
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
  remove(name: string): Promise<void> {
    return this.inner.remove(name);
  }
}
