// S3Storage: the conformance suite against each S3 protocol server of the run (s3rver, Ceph RGW,
// MinIO where a Docker engine answers), plus S3-only behaviour.
import { DeleteObjectCommand, GetObjectRetentionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, OperationError } from '../../src/core/errors.js';
import { incompleteUploadsOf } from '../../src/core/storage/incomplete-uploads.js';
import { openStorage } from '../../src/core/storage/open-storage.js';
import { S3Storage, type S3Options } from '../../src/core/storage/s3-storage.js';
import { StorageError } from '../../src/core/storage/storage-errors.js';
import { needs, s3ServersUnderTest, type S3TestServer } from '../helpers/s3-server.js';
import { collect, readAll, sha256, storageConformance } from './conformance.js';

export function testOptions(s: S3TestServer, extra: S3Options = {}): S3Options {
  return {
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: s.credentials,
    checksums: s.checksums,
    partSizeMiB: 5,
    ...extra,
  };
}

for (const choice of await s3ServersUnderTest()) {
  if (choice.unavailable) {
    describe.skip(`S3Storage [${choice.kind}] (skipped: ${choice.unavailable})`, () =>
      it('runs the S3 storage suites', () => undefined));
    continue;
  }
  describe(`S3 server: ${choice.kind}`, () => {
    let server: S3TestServer;
    beforeAll(async () => {
      server = await choice.start();
    });
    afterAll(async () => server?.stop());

    storageConformance(`s3 [${choice.kind}]`, async () => {
      const storage = new S3Storage(
        `s3://${server.bucket}/conformance-${randomUUID().slice(0, 8)}`,
        testOptions(server, { listPageSize: 7 }),
      );
      return {
        storage,
        multipartBytes: 20 * 1024 * 1024,
        listPageSize: 7,
        ...(server.kind === 's3rver' ? { walkOrderListing: 's3rver lists in directory-walk order' } : {}),
        cleanup: async () => storage.destroy(),
      };
    });

    // remove() deletes every version on a versioned bucket: the same contract must hold there
    if (choice.kind !== 's3rver') {
      storageConformance(`s3 versioned bucket [${choice.kind}]`, async () => {
        const bucket = await server.newBucket({ versioning: true });
        const storage = new S3Storage(`s3://${bucket}/conformance`, testOptions(server, { listPageSize: 7 }));
        return { storage, multipartBytes: 20 * 1024 * 1024, listPageSize: 7, cleanup: async () => storage.destroy() };
      });
    }

    describe(`S3Storage specifics [${choice.kind}]`, () => {
      it('works at the bucket root and lists only relative names', async () => {
        const storage = new S3Storage(`s3://${server.bucket}`, testOptions(server));
        const name = `root-${randomUUID().slice(0, 8)}/a.txt`;
        await storage.save(name, Readable.from([Buffer.from('hi')]));
        expect(await collect(storage.list(name.split('/')[0]!))).toEqual([{ name, size: 2 }]);
        storage.destroy();
      });

      it('pages through more than 1000 keys with the default page size', async () => {
        const prefix = `many-${randomUUID().slice(0, 8)}`;
        const storage = new S3Storage(`s3://${server.bucket}/${prefix}`, testOptions(server));
        const names = Array.from({ length: 1100 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
        // Seed with bare PutObject (no confirming HEAD per object) to keep this quick.
        const client = new S3Client({
          endpoint: server.endpoint,
          region: server.region,
          credentials: server.credentials,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
        });
        for (let i = 0; i < names.length; i += 100) {
          await Promise.all(
            names
              .slice(i, i + 100)
              .map((n) =>
                client.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${n}`, Body: '.' })),
              ),
          );
        }
        client.destroy();
        const listed = await collect(storage.list('k/'));
        expect(listed.length).toBe(1100);
        expect(listed.map((o) => o.name)).toEqual(names);
        storage.destroy();
      });

      it('a server that drops Object Lock retention fails the save cleanly, naming the object', async (ctx) => {
        if (server.capabilities.objectLock)
          ctx.skip(
            `needs capability 's3 dropsRetention': ${server.kind} keeps Object Lock retention (the test runs on s3rver, which drops it)`,
          );
        const storage = new S3Storage(
          `s3://${server.bucket}/lock-${randomUUID().slice(0, 8)}`,
          testOptions(server, { objectLock: { mode: 'GOVERNANCE', days: 1 } }),
        );
        const err = await storage.save('x.bin', Readable.from([randomBytes(1000)])).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OperationError);
        expect((err as Error).message).toMatch(
          /^Object Lock retention \(GOVERNANCE until \S+\) of 'x\.bin' in s3:\/\/\S+ is (missing \(found: none\) and could not be applied: |still missing)/,
        );
        expect((err as Error).message).not.toMatch(/\n/);
        storage.destroy();
      });

      it('verifies Object Lock retention on every object, applies it where the server dropped it (multipart), and the version cannot be deleted', async (ctx) => {
        needs(server, 'objectLock', ctx.skip);
        const bucket = await server.newBucket({ objectLock: true });
        const prefix = `lock-${randomUUID().slice(0, 8)}`;
        const storage = new S3Storage(
          `s3://${bucket}/${prefix}`,
          testOptions(server, { objectLock: { mode: 'GOVERNANCE', days: 1 }, storageClass: 'STANDARD' }),
        );
        const client = new S3Client({
          endpoint: server.endpoint,
          region: server.region,
          credentials: server.credentials,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
        });
        const before = Date.now();
        for (const size of [1000, 12 * 1024 * 1024]) {
          const data = randomBytes(size);
          const info = await storage.save(`x${size}`, Readable.from([data]), { sizeHint: size });
          expect(info.retention).toMatchObject({ mode: 'GOVERNANCE', versionId: expect.any(String) });
          expect(Date.parse(info.retention!.retainUntil)).toBeGreaterThanOrEqual(before + 86_400_000 - 2000);
          // RGW 16 drops the lock headers of a multipart upload: there it was applied afterwards
          if (server.kind === 'rgw')
            expect(info.retention!.appliedBy).toBe(size > 5 * 1024 * 1024 ? 'put-retention' : 'write');
          const read = await client.send(
            new GetObjectRetentionCommand({
              Bucket: bucket,
              Key: `${prefix}/x${size}`,
              VersionId: info.retention!.versionId,
            }),
          );
          expect(read.Retention?.Mode).toBe('GOVERNANCE');
          const refused = await client
            .send(
              new DeleteObjectCommand({
                Bucket: bucket,
                Key: `${prefix}/x${size}`,
                VersionId: info.retention!.versionId,
              }),
            )
            .catch((e: unknown) => e);
          expect(refused).toMatchObject({ name: 'AccessDenied' });
          expect(sha256(await readAll(await storage.load(`x${size}`)))).toBe(sha256(data));
        }
        expect(await storage.checkBucket()).toEqual([]);
        client.destroy();
        storage.destroy();
      });

      it('checkBucket names a bucket without Object Lock or versioning when Object Lock is configured', async () => {
        const storage = new S3Storage(
          `s3://${server.bucket}/p`,
          testOptions(server, { objectLock: { mode: 'COMPLIANCE', days: 3650 } }),
        );
        const problems = await storage.checkBucket();
        expect(problems.join('\n')).toMatch(
          new RegExp(
            `bucket '${server.bucket}' does not have Object Lock enabled|cannot read the Object Lock configuration of bucket '${server.bucket}'`,
          ),
        );
        expect(await new S3Storage(`s3://${server.bucket}/p`, testOptions(server)).checkBucket()).toEqual([]);
        storage.destroy();
      });

      it('rejects URLs with credentials, queries or no bucket, without echoing the secret', () => {
        for (const url of ['s3://AKIA:se/cret@bucket/p', 's3://bucket/p?region=x', 's3:///p']) {
          const err = (() => {
            try {
              new S3Storage(url);
            } catch (e) {
              return e;
            }
          })();
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as Error).message).not.toContain('cret');
        }
        expect(() => new S3Storage('s3://b/p', { partSizeMiB: 4 })).toThrow(ConfigError);
      });

      it('reports a missing bucket as a permanent OperationError with a hint', async () => {
        // (stat cannot tell: HEAD answers a bare 404 for a missing bucket as for a missing key)
        const storage = new S3Storage(`s3://no-such-bucket-${randomUUID().slice(0, 8)}/p`, testOptions(server));
        for (const attempt of [
          () => collect(storage.list('')),
          () => storage.save('x', Readable.from([Buffer.from('x')])),
        ]) {
          const err = await attempt().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(StorageError);
          expect(err).toMatchObject({ permanent: true, hint: 'create the bucket or correct the repository url' });
          expect((err as Error).message).toContain('NoSuchBucket');
        }
        storage.destroy();
      });

      it('feature-detects incomplete-upload management through the wrappers', async () => {
        const storage = await openStorage(`s3://${server.bucket}/mp-${randomUUID().slice(0, 8)}`, {
          s3: testOptions(server),
        });
        const uploads = incompleteUploadsOf(storage);
        expect(uploads).toBeDefined();
        expect(incompleteUploadsOf(await openStorage('file:///tmp/x'))).toBeUndefined();
        if (!server.supportsMultipartAdmin) {
          // s3rver answers ListMultipartUploads with NotImplemented: we can only check the error shape.
          await expect(collect2(uploads!.listIncompleteUploads(''))).rejects.toBeInstanceOf(OperationError);
          return;
        }
        expect(await collect2(uploads!.listIncompleteUploads(''))).toEqual([]);
      });
    });
  });
}

async function collect2<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
