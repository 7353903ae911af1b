// One debug line per storage call: operation, name, bytes, milliseconds. Callers never log by hand.
import type { Logger } from 'pino';
import { Transform, pipeline, type Readable } from 'node:stream';
import { messageOf } from '../errors.js';
import type { StorageWrapper } from './incomplete-uploads.js';
import type { LoadOptions, ObjectInfo, SaveOptions, Storage } from './storage.js';

export class LoggingStorage implements StorageWrapper {
  private readonly log: Logger;

  constructor(
    readonly inner: Storage,
    logger: Logger,
  ) {
    // inner.location is already masked by the backend.
    this.log = logger.child({ storage: inner.location });
  }

  get location(): string {
    return this.inner.location;
  }

  save(name: string, body: Readable, options?: SaveOptions): Promise<ObjectInfo> {
    return this.timed(
      'save',
      name,
      () => this.inner.save(name, body, options),
      (info) => info.size,
    );
  }

  async load(name: string, options?: LoadOptions): Promise<Readable> {
    const started = performance.now();
    const stream = await this.timed(
      'load',
      name,
      () => this.inner.load(name, options),
      () => undefined,
    );
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    return pipeline(stream, counter, (err) => {
      const ms = Math.round(performance.now() - started);
      if (err) this.log.debug({ op: 'read', name, bytes, ms, err: messageOf(err) }, 'storage read failed');
      else this.log.debug({ op: 'read', name, bytes, ms }, 'storage read');
    });
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.timed(
      'stat',
      name,
      () => this.inner.stat(name),
      (info) => info?.size,
    );
  }

  remove(name: string): Promise<void> {
    return this.timed(
      'remove',
      name,
      () => this.inner.remove(name),
      () => undefined,
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const started = performance.now();
    let count = 0;
    let bytes = 0;
    let failed: unknown;
    try {
      for await (const info of this.inner.list(prefix)) {
        count += 1;
        bytes += info.size;
        yield info;
      }
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      const fields = { op: 'list', name: prefix, count, bytes, ms: Math.round(performance.now() - started) };
      if (failed === undefined) this.log.debug(fields, 'storage call');
      else this.log.debug({ ...fields, err: messageOf(failed) }, 'storage call failed');
    }
  }

  private async timed<T>(
    op: string,
    name: string,
    call: () => Promise<T>,
    bytesOf: (value: T) => number | undefined,
  ): Promise<T> {
    const started = performance.now();
    try {
      const value = await call();
      this.log.debug({ op, name, bytes: bytesOf(value), ms: Math.round(performance.now() - started) }, 'storage call');
      return value;
    } catch (err) {
      this.log.debug(
        { op, name, ms: Math.round(performance.now() - started), err: messageOf(err) },
        'storage call failed',
      );
      throw err;
    }
  }
}
