// S3Storage under injected faults (test/helpers/fault-proxy.ts between the client and the server):
// each ends in success or a clean one-line failure with nothing visible under the name.
// Run against each S3 server of the run (s3rver, Ceph RGW). s3rver cannot list or abort multipart
// uploads, so there "no orphan upload" is asserted as "an abort was requested"; where the server
// can list them (RGW, MinIO) it is checked for real.
// Parts are 5 MiB (partSizeMiB) because every save passes a size hint; without one the part size
// assumes a 1 TiB stream and a 12 MiB body would go up as a single PUT.
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, OperationError } from '../../src/core/errors.js';
import { openStorage } from '../../src/core/storage/open-storage.js';
import { S3Storage } from '../../src/core/storage/s3-storage.js';
import { refusedPort } from '../helpers/refused-port.js';
import { FaultProxy, isAbortMultipart, isObjectWrite, isUploadPart } from '../helpers/fault-proxy.js';
import { needs, s3ServersUnderTest, type S3TestServer } from '../helpers/s3-server.js';
import { chunked, readAll, sha256 } from './conformance.js';

const MiB = 1024 * 1024;

for (const choice of await s3ServersUnderTest()) {
  if (choice.unavailable) {
    describe.skip(`S3 faults [${choice.kind}] (skipped: ${choice.unavailable})`, () =>
      it('runs the S3 fault suite', () => undefined));
    continue;
  }
  describe(`S3 server: ${choice.kind}`, () => {
    let server: S3TestServer;
    let proxy: FaultProxy;
    let viaProxy: S3Storage;
    let direct: S3Storage;
    let url: string;

    beforeAll(async () => {
      server = await choice.start();
      proxy = await FaultProxy.start(server.endpoint);
      url = `s3://${server.bucket}/faults-${randomUUID().slice(0, 8)}`;
      const base = {
        region: server.region,
        forcePathStyle: true,
        credentials: server.credentials,
        checksums: server.checksums,
        partSizeMiB: 5,
      };
      viaProxy = new S3Storage(url, { ...base, endpoint: proxy.endpoint, maxAttempts: 3, queueSize: 2 });
      direct = new S3Storage(url, { ...base, endpoint: server.endpoint });
    });
    afterAll(async () => {
      viaProxy?.destroy();
      direct?.destroy();
      await proxy?.stop();
      await server?.stop();
    });
    afterEach(async () => {
      await proxy.setDown(false);
      proxy.reset();
    });

    function expectCleanFailure(err: unknown, name: string): OperationError {
      expect(err).toBeInstanceOf(OperationError);
      const { message } = err as OperationError;
      expect(message).not.toMatch(/\n/);
      expect(message).toContain(`'${name}'`);
      expect(message).toContain(url);
      expect(message).not.toContain('Signature=');
      if (server.kind === 'minio') expect(message).not.toContain(server.credentials.secretAccessKey);
      return err as OperationError;
    }

    async function noOrphanUploads(prefix: string): Promise<void> {
      if (!server.capabilities.multipartAdmin) return;
      const left: string[] = [];
      for await (const u of direct.listIncompleteUploads(prefix)) left.push(u.name);
      expect(left).toEqual([]);
    }

    describe(`S3 faults [${choice.kind}]`, () => {
      it('retries 500s on parts and completes with the right bytes', async () => {
        const name = 'retry/parts.bin';
        const data = randomBytes(12 * MiB);
        proxy.failNext(2, 500, isUploadPart);
        expect(await viaProxy.save(name, chunked(data, 256 * 1024), { sizeHint: data.length })).toEqual({
          name,
          size: data.length,
        });
        expect(proxy.count('failed')).toBe(2);
        expect(proxy.count('forwarded', isUploadPart)).toBe(3);
        expect(sha256(await readAll(await direct.load(name)))).toBe(sha256(data));
      });

      it('a body altered on the way is refused by the server (Content-MD5): clean failure, nothing visible', async (ctx) => {
        needs(server, 'contentDigest', ctx.skip); // (on such a server verify's sha256 read-back finds it)
        for (const [name, size] of [
          ['altered/small.bin', 1000],
          ['altered/parts.bin', 12 * MiB],
        ] as const) {
          proxy.reset();
          proxy.corruptNext(1, size > 5 * MiB ? isUploadPart : isObjectWrite);
          const err = await viaProxy
            .save(name, chunked(randomBytes(size), 256 * 1024), { sizeHint: size })
            .catch((e: unknown) => e);
          expect(expectCleanFailure(err, name).message).toMatch(/BadDigest|InvalidDigest|XAmzContentSHA256Mismatch/);
          expect(await direct.stat(name)).toBeUndefined();
        }
        await noOrphanUploads('altered/');
      });

      it('retries a 503 SlowDown on a single PUT', async () => {
        proxy.failNext(1, 503, isObjectWrite);
        await viaProxy.save('retry/small.txt', Readable.from([Buffer.from('fapiao')]));
        expect(proxy.count('failed')).toBe(1);
        expect((await readAll(await direct.load('retry/small.txt'))).toString()).toBe('fapiao');
      });

      it('fails in one line naming the object when every attempt of a part is cut off, leaving nothing', async () => {
        const name = 'dropped/dump.age';
        proxy.dropAfter(100_000, { match: isUploadPart });
        const err = await viaProxy
          .save(name, chunked(randomBytes(12 * MiB), 256 * 1024), { sizeHint: 12 * MiB })
          .catch((e: unknown) => e);
        const failure = expectCleanFailure(err, name);
        expect(failure.message).toMatch(
          /^cannot save 'dropped\/dump\.age' in s3:\/\/\S+: (ECONNRESET|EPIPE) after 3 attempts: /,
        );
        expect(failure.hint).toMatch(/reachable/);
        expect(proxy.count('dropped', isUploadPart)).toBeGreaterThanOrEqual(3);
        // lib-storage and then we asked S3 to abort the multipart upload (s3rver answers 405 to it)
        expect(proxy.requests.filter((r) => isAbortMultipart(r)).length).toBeGreaterThanOrEqual(1);
        expect(await direct.stat(name)).toBeUndefined();
        await noOrphanUploads('dropped/');
      });

      it('stops feeding parts once a part has failed for good', async () => {
        proxy.failNext(1000, 500, isUploadPart);
        const err = await viaProxy
          .save('dead/part.bin', chunked(randomBytes(40 * MiB), 256 * 1024), { sizeHint: 40 * MiB })
          .catch((e: unknown) => e);
        expect(expectCleanFailure(err, 'dead/part.bin').message).toMatch(/InternalError \(http 500\) after 3 attempts/);
        // 8 parts × 3 attempts if lib-storage were left alone; queueSize 2 caps it near 2 × 3.
        expect(proxy.count('failed')).toBeLessThanOrEqual(8);
        expect(await direct.stat('dead/part.bin')).toBeUndefined();
        await noOrphanUploads('dead/');
      });

      it('reports S3 down for save, stat and list, and recovers when it is back', async () => {
        await viaProxy.save('down/before.txt', Readable.from([Buffer.from('x')]));
        await proxy.setDown(true);
        const saveErr = expectCleanFailure(
          await viaProxy.save('down/x.txt', Readable.from([Buffer.from('x')])).catch((e: unknown) => e),
          'down/x.txt',
        );
        expect(saveErr.message).toMatch(/: ECONNRESET after 3 attempts: /);
        expect(saveErr.hint).toMatch(/reachable/);
        await expect(viaProxy.stat('down/before.txt')).rejects.toBeInstanceOf(OperationError);
        await expect(viaProxy.stat('down/before.txt')).rejects.not.toBeInstanceOf(NotFoundError);
        const listing = (async () => {
          for await (const _ of viaProxy.list('down/')) void _;
        })();
        await expect(listing).rejects.toBeInstanceOf(OperationError);
        await proxy.setDown(false);
        expect(await viaProxy.stat('down/before.txt')).toEqual({ name: 'down/before.txt', size: 1 });
        expect(await direct.stat('down/x.txt')).toBeUndefined();
      });

      it('an endpoint where nothing listens (connection refused): save, stat and list fail in one line naming it', async () => {
        const refused = await refusedPort();
        const nowhere = new S3Storage(url, {
          region: server.region,
          forcePathStyle: true,
          credentials: server.credentials,
          checksums: server.checksums,
          endpoint: `http://${refused.host}`,
          maxAttempts: 2,
        });
        try {
          const saveErr = expectCleanFailure(
            await nowhere.save('refused/x.txt', Readable.from([Buffer.from('x')])).catch((e: unknown) => e),
            'refused/x.txt',
          );
          expect(saveErr.message).toMatch(
            new RegExp(`: ECONNREFUSED after 2 attempts: connect ECONNREFUSED ${refused.host}$`),
          );
          expect(saveErr.hint).toMatch(/reachable/);
          const statErr = await nowhere.stat('refused/x.txt').catch((e: unknown) => e);
          expect(statErr).toBeInstanceOf(OperationError);
          expect(statErr).not.toBeInstanceOf(NotFoundError);
          expect((statErr as Error).message).toContain('ECONNREFUSED');
          const listing = (async () => {
            for await (const _ of nowhere.list('refused/')) void _;
          })();
          await expect(listing).rejects.toBeInstanceOf(OperationError);
        } finally {
          nowhere.destroy();
          await refused.release();
        }
      });

      it('aborting mid-upload cancels parts in flight, requests the multipart abort and leaves nothing', async () => {
        const controller = new AbortController();
        let sent = 0;
        const body = Readable.from(
          (async function* () {
            for (;;) {
              sent += 256 * 1024;
              if (sent === 12 * MiB) setTimeout(() => controller.abort(), 20);
              yield randomBytes(256 * 1024);
              await sleep(1);
            }
          })(),
        );
        const started = Date.now();
        const err = await viaProxy
          .save('abort/big.bin', body, { signal: controller.signal, sizeHint: 40 * MiB })
          .catch((e: unknown) => e);
        expect((err as Error).name).toBe('AbortError');
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(proxy.requests.some((r) => isAbortMultipart(r))).toBe(true);
        expect(await direct.stat('abort/big.bin')).toBeUndefined();
        await noOrphanUploads('abort/');
      });

      it('the retry wrapper retries idempotent calls the SDK gave up on, but not a missing object', async () => {
        const storage = await openStorage(url, {
          s3: {
            region: server.region,
            forcePathStyle: true,
            credentials: server.credentials,
            checksums: server.checksums,
            endpoint: proxy.endpoint,
            maxAttempts: 1,
          },
          retry: { attempts: 3, baseMs: 5 },
        });
        await direct.save('wrapper/a.txt', Readable.from([Buffer.from('abc')]));
        proxy.failNext(2, 503, (r) => r.method === 'HEAD');
        expect(await storage.stat('wrapper/a.txt')).toEqual({ name: 'wrapper/a.txt', size: 3 });
        expect(proxy.count('failed')).toBe(2);
        proxy.reset();
        await expect(storage.load('wrapper/missing')).rejects.toBeInstanceOf(NotFoundError);
        expect(proxy.requests.filter((r) => r.method === 'GET').length).toBe(1);
      });
    });
  });
}
