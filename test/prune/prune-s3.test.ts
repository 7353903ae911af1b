// prune on real S3 servers (s3rver, Ceph RGW): on a versioned bucket a pruned backup's object
// versions are gone (not hidden behind delete markers); on an Object Lock bucket locked versions are
// reported as retained until their date and the backup stays complete; abandoned multipart uploads
// are listed and aborted. Capabilities a server lacks skip by name.
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { executePrune, planPrune } from '../../src/backup/prune.js';
import type { RetentionPolicy } from '../../src/backup/retention-config.js';
import { Repository } from '../../src/core/repository/repository.js';
import { openStorage } from '../../src/core/storage/open-storage.js';
import type { S3Options } from '../../src/core/storage/s3-storage.js';
import { type S3TestServer, needs, s3ServersUnderTest } from '../helpers/s3-server.js';
import { writeFakeBackup } from './fake-backups.js';

const DAY = 86_400_000;
const logger = silentLogger();

function policy(p: Partial<RetentionPolicy> = {}): RetentionPolicy {
  return { configured: true, keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, incompleteAfter: 1, ...p };
}

for (const choice of await s3ServersUnderTest()) {
  if (choice.unavailable) {
    describe.skip(`prune on S3 [${choice.kind}] (skipped: ${choice.unavailable})`, () =>
      it('runs the S3 prune suite', () => undefined));
    continue;
  }
  describe(`prune on S3 [${choice.kind}]`, () => {
    let server: S3TestServer;
    let client: S3Client;
    beforeAll(async () => {
      server = await choice.start();
      client = new S3Client({
        endpoint: server.endpoint,
        region: server.region,
        credentials: server.credentials,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
    });
    afterAll(async () => {
      client?.destroy();
      await server?.stop();
    });

    const s3 = (extra: S3Options = {}): S3Options => ({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: server.credentials,
      checksums: server.checksums,
      ...extra,
    });
    async function versionsUnder(bucket: string, prefix: string): Promise<number> {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
      return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
    }

    it('on a versioned bucket a pruned backup leaves no object versions or delete markers', async (ctx) => {
      needs(server, 'versioning', ctx.skip);
      const bucket = await server.newBucket({ versioning: true });
      const repo = new Repository(await openStorage(`s3://${bucket}/repo`, { s3: s3() }));
      const old = await writeFakeBackup(repo, 'v', new Date(Date.now() - 3 * DAY));
      const newest = await writeFakeBackup(repo, 'v', new Date(Date.now() - DAY));
      const pctx = { repo, logger, timeZone: 'UTC', objectLock: false };
      const result = await executePrune(pctx, await planPrune(pctx, 'v', policy()), false);
      expect(result).toMatchObject({ deleted: 1, retained: 0, failed: 0 });
      expect(await versionsUnder(bucket, `repo/backups/v/${old}/`)).toBe(0);
      expect(await versionsUnder(bucket, `repo/backups/v/${newest}/`)).toBe(2);
      expect((await repo.listBackups('v')).map((b) => b.id)).toEqual([newest]);
    });

    it('on an Object Lock bucket locked versions are retained until their date, never errors, and the backup stays complete', async (ctx) => {
      needs(server, 'objectLock', ctx.skip);
      const bucket = await server.newBucket({ objectLock: true });
      const repo = new Repository(
        await openStorage(`s3://${bucket}/repo`, { s3: s3({ objectLock: { mode: 'GOVERNANCE', days: 1 } }) }),
      );
      const old = await writeFakeBackup(repo, 'l', new Date(Date.now() - 3 * DAY));
      await writeFakeBackup(repo, 'l', new Date(Date.now() - DAY));
      const pctx = { repo, logger, timeZone: 'UTC', objectLock: true };
      const result = await executePrune(pctx, await planPrune(pctx, 'l', policy()), false);
      expect(result).toMatchObject({ deleted: 0, retained: 1, failed: 0 });
      expect(result.backups.find((b) => b.id === old)).toMatchObject({
        outcome: 'retained',
        note: expect.stringMatching(
          /^'manifest\.json' is under Object Lock retention \(GOVERNANCE until \d{4}-\d\d-\d\dT/,
        ),
      });
      const after = await repo.listBackups('l');
      expect(after.find((b) => b.id === old)?.status).toBe('complete');
      expect(await versionsUnder(bucket, `repo/backups/l/${old}/`)).toBe(2); // no delete marker added either
    });

    it('abandoned multipart uploads are listed and aborted', async (ctx) => {
      needs(server, 'multipartAdmin', ctx.skip);
      const repo = new Repository(await openStorage(`s3://${server.bucket}/mp`, { s3: s3() }));
      await writeFakeBackup(repo, 'm', new Date(Date.now() - DAY));
      const Key = `mp/backups/m/20200101T000000Z-dead/dump.zst.age`;
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key }));
      await client.send(
        new UploadPartCommand({ Bucket: server.bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1024) }),
      );
      await new Promise((r) => setTimeout(r, 2100)); // older than incompleteAfter: 1 s (whole-second Initiated times)
      const pctx = { repo, logger, timeZone: 'UTC', objectLock: false };
      const dry = await executePrune(pctx, await planPrune(pctx, 'm', policy()), true);
      expect(dry.uploads).toEqual([
        expect.objectContaining({
          name: 'backups/m/20200101T000000Z-dead/dump.zst.age',
          uploadId: UploadId,
          action: 'abort',
          outcome: 'would delete',
        }),
      ]);
      const result = await executePrune(pctx, await planPrune(pctx, 'm', policy()), false);
      expect(result.uploads.map((u) => u.outcome)).toEqual(['deleted']);
      const left = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: 'mp/' }));
      expect(left.Uploads ?? []).toEqual([]);
    });
  });
}
