// One behaviour suite for every Storage backend, after restic's internal/backend/test/suite.go.
// Each backend's *.test.ts calls storageConformance() with a factory; tests use their own prefix.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, OperationError, UsageError } from '../../src/core/errors.js';
import type { ObjectInfo, Storage } from '../../src/core/storage/storage.js';

export interface ConformanceSubject {
  storage: Storage;
  /** bytes that certainly need several parts (S3: more than the configured part size) */
  multipartBytes: number;
  /** page size the backend lists with, so the paging test crosses page boundaries */
  listPageSize?: number;
  /**
   * Set (to the reason) when the server does not list in UTF-8 byte order across folders, e.g.
   * s3rver walks its directory tree, so `a/1` comes before `a-1`. Real S3 and MinIO do not need it.
   */
  walkOrderListing?: string;
  cleanup(): Promise<void>;
}

export function storageConformance(label: string, setup: () => Promise<ConformanceSubject>): void {
  describe(`storage conformance: ${label}`, () => {
    let subject: ConformanceSubject;
    let storage: Storage;
    beforeAll(async () => {
      subject = await setup();
      storage = subject.storage;
    });
    afterAll(async () => subject?.cleanup());
    const unique = () => `t-${randomUUID().slice(0, 8)}`;

    it.each([
      ['empty', 0],
      ['small', 1000],
    ])('saves and loads %s objects byte for byte', async (_kind, size) => {
      const name = `${unique()}/obj.bin`;
      const data = randomBytes(size);
      expect(await storage.save(name, Readable.from([data]))).toEqual({ name, size });
      expect(await storage.stat(name)).toEqual({ name, size });
      expect(sha256(await readAll(await storage.load(name)))).toBe(sha256(data));
    });

    it('saves and loads a multipart-sized object streamed in small chunks', async () => {
      const name = `${unique()}/big.bin`;
      const data = randomBytes(subject.multipartBytes);
      const info = await storage.save(name, chunked(data, 64 * 1024), { sizeHint: data.length });
      expect(info).toEqual({ name, size: data.length });
      expect(sha256(await readAll(await storage.load(name)))).toBe(sha256(data));
    });

    it('reports a missing object: stat undefined, load NotFoundError naming it', async () => {
      const name = `${unique()}/missing.bin`;
      expect(await storage.stat(name)).toBeUndefined();
      const err = await storage.load(name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain(`'${name}'`);
    });

    it('lists by prefix in lexical order with sizes, never beyond the prefix', async () => {
      const p = unique();
      const names = [`${p}/b`, `${p}/a/2`, `${p}/a/1`, `${p}/a-1`, `${p}/c/d/e.json`, `${p}/a/10`, `${p}x/other`];
      for (const [i, name] of names.entries()) await storage.save(name, Readable.from([Buffer.alloc(i)]));
      const all = await collect(storage.list(`${p}/`));
      const expected = [`${p}/a-1`, `${p}/a/1`, `${p}/a/10`, `${p}/a/2`, `${p}/b`, `${p}/c/d/e.json`];
      // '-' (0x2d) sorts before '/' (0x2f): the edge that tells byte order from a tree walk.
      const order = (names: string[]) => (subject.walkOrderListing ? [...names].sort() : names);
      if (subject.walkOrderListing) console.warn(`list order across folders not checked: ${subject.walkOrderListing}`);
      expect(order(all.map((o) => o.name))).toEqual(order(expected));
      expect(all.filter((o) => !o.name.includes('a-1')).map((o) => o.name)).toEqual(expected.slice(1));
      expect(all.find((o) => o.name === `${p}/c/d/e.json`)?.size).toBe(4);
      expect((await collect(storage.list(`${p}/a/`))).map((o) => o.name)).toEqual([
        `${p}/a/1`,
        `${p}/a/10`,
        `${p}/a/2`,
      ]);
      expect(order((await collect(storage.list(`${p}/a`))).map((o) => o.name))).toEqual(order(expected.slice(0, 4)));
      expect(await collect(storage.list(`${p}/nothing/`))).toEqual([]);
    });

    it('lists across pages without losing or repeating names', async () => {
      const p = unique();
      const count = Math.max(25, (subject.listPageSize ?? 0) * 3 + 2);
      const names = Array.from({ length: count }, (_, i) => `${p}/k${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 20) {
        await Promise.all(names.slice(i, i + 20).map((n) => storage.save(n, Readable.from([Buffer.from(n)]))));
      }
      expect((await collect(storage.list(`${p}/`))).map((o) => o.name)).toEqual(names);
    });

    it('removes idempotently', async () => {
      const name = `${unique()}/gone.bin`;
      await storage.save(name, Readable.from([Buffer.from('x')]));
      await storage.remove(name);
      expect(await storage.stat(name)).toBeUndefined();
      await expect(storage.remove(name)).resolves.toBeUndefined();
      await expect(storage.remove(`${unique()}/never/was`)).resolves.toBeUndefined();
    });

    it('overwrites an existing object', async () => {
      const name = `${unique()}/over.bin`;
      await storage.save(name, Readable.from([Buffer.from('first version, longer')]));
      await storage.save(name, Readable.from([Buffer.from('second')]));
      expect((await readAll(await storage.load(name))).toString()).toBe('second');
      expect(await storage.stat(name)).toEqual({ name, size: 6 });
    });

    it('keeps names with nested folders, spaces and non-ASCII characters', async () => {
      const p = unique();
      const name = `${p}/backups/发票 2026/20261128T020000Z-7f3a/manifest.json`;
      await storage.save(name, Readable.from([Buffer.from('{}')]), { contentType: 'application/json' });
      expect(await collect(storage.list(`${p}/`))).toEqual([{ name, size: 2 }]);
      expect((await readAll(await storage.load(name))).toString()).toBe('{}');
    });

    it('rejects names that could escape the repository', async () => {
      for (const bad of ['../escape', '/absolute', 'a//b', 'a/./b', 'trailing/', '']) {
        await expect(storage.save(bad, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(UsageError);
      }
      await expect(storage.stat('a/../../b')).rejects.toBeInstanceOf(UsageError);
    });

    it('leaves nothing under the name when the input stream fails midway', async () => {
      const p = unique();
      const name = `${p}/broken.bin`;
      const err = await storage
        .save(name, failingAfter(subject.multipartBytes / 2, new Error('pg_dump died')), {})
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationError);
      expect((err as Error).message).toContain(`'${name}'`);
      expect((err as Error).message).toContain('pg_dump died');
      expect(await storage.stat(name)).toBeUndefined();
      expect(await collect(storage.list(`${p}/`))).toEqual([]);
    });

    it('keeps the previous object when an overwrite fails', async () => {
      const name = `${unique()}/keep.bin`;
      await storage.save(name, Readable.from([Buffer.from('good')]));
      await expect(storage.save(name, failingAfter(1024, new Error('boom')))).rejects.toBeInstanceOf(OperationError);
      expect((await readAll(await storage.load(name))).toString()).toBe('good');
    });

    it('leaves nothing when the save is aborted through its signal', async () => {
      const p = unique();
      const name = `${p}/aborted.bin`;
      const controller = new AbortController();
      const reason = Object.assign(new Error('stop requested'), { name: 'AbortError' });
      let sent = 0;
      const body = Readable.from(
        (async function* () {
          for (;;) {
            const chunk = randomBytes(256 * 1024);
            sent += chunk.length;
            if (sent > subject.multipartBytes / 2) controller.abort(reason);
            yield chunk;
            await sleep(1);
          }
        })(),
      );
      await expect(storage.save(name, body, { signal: controller.signal })).rejects.toBe(reason);
      expect(await storage.stat(name)).toBeUndefined();
      expect(await collect(storage.list(`${p}/`))).toEqual([]);
      const again = new AbortController();
      again.abort(reason);
      await expect(storage.save(name, Readable.from([Buffer.from('x')]), { signal: again.signal })).rejects.toBe(
        reason,
      );
      expect(await storage.stat(name)).toBeUndefined();
    });
  });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function collect(items: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** `data` as a stream of `size`-byte chunks, as pg_dump → age would produce it. */
export function chunked(data: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

/** A stream that yields `bytes` random bytes, then fails with `error`. */
export function failingAfter(bytes: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < bytes; sent += 64 * 1024) {
        yield randomBytes(64 * 1024);
        await sleep(0);
      }
      throw error;
    })(),
  );
}
