// Backups to each S3 protocol server of the run (s3rver, Ceph RGW, MinIO where Docker answers)
// through a fault-injecting proxy: a good backup restores; S3 failing mid-upload ends cleanly.
// With Object Lock: every object of a backup carries the retention (RGW), a server that drops it
// fails the backup without a manifest (s3rver).
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { FaultProxy, isAbortMultipart, isUploadPart } from '../helpers/fault-proxy.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type S3TestServer, needs, s3ServersUnderTest } from '../helpers/s3-server.js';
import { waitFor, watch } from '../helpers/wait.js';

const logger = silentLogger();

for (const choice of await s3ServersUnderTest()) {
  if (choice.unavailable) {
    describe.skip(`backups on S3 [${choice.kind}] (skipped: ${choice.unavailable})`, () =>
      it('runs the S3 backup suite', () => undefined));
    continue;
  }
  describe(`S3 server: ${choice.kind}`, () => {
    let server: S3TestServer;
    let proxy: FaultProxy;
    let source: TestDatabase;
    let t: TestRepo;
    const dbs: TestDatabase[] = [];
    const savedEnv = { ...process.env };

    beforeAll(async () => {
      server = await choice.start();
      proxy = await FaultProxy.start(server.endpoint);
      process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
      source = await createSampleDatabase('s3b', 30_000);
      t = await createTestRepo({
        targets: [{ name: 'invoices', url: source.url }],
        repoUrl: `s3://${server.bucket}/fg-${Date.now()}`,
        // uncompressed: ~13 MiB, so the dump goes up as a multipart upload of 5 MiB parts
        compression: 'none',
        s3: {
          endpoint: proxy.endpoint,
          region: server.region,
          forcePathStyle: true,
          checksums: server.checksums,
          partSizeMiB: 5,
          maxAttempts: 2,
          queueSize: 2,
        },
      });
    });

    afterEach(async () => {
      await proxy.setDown(false);
      proxy.reset();
    });

    afterAll(async () => {
      process.env = savedEnv;
      await Promise.all([source?.drop(), ...dbs.map((d) => d.drop())]);
      await t?.cleanup();
      await proxy?.stop();
      await server?.stop();
    });

    describe(`backups on S3 [${choice.kind}]`, () => {
      it('stores a multipart backup that verifies deeply and restores equal', async () => {
        const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
        expect(proxy.count('forwarded', isUploadPart)).toBeGreaterThanOrEqual(2);
        const manifest = await t.repo.resolve('invoices', result.id);
        expect(manifest.objects[0]!.layers).toEqual(['pg_dump:custom', 'age']);
        const identities = await loadIdentities(t.config);
        const report = await verifyBackup(t.repo, manifest, { deep: true, identities });
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        const to = await createDatabase('s3b_to');
        dbs.push(to);
        const restored = await runRestore(
          { config: t.config, repo: t.repo, logger, identities },
          t.config.targets[0]!,
          manifest,
          { to: to.url, jobs: 1, clean: false },
        );
        expect(restored.ok).toBe(true);
        // an uncompressed archive spooled for a parallel restore
        const parallel = await createDatabase('s3b_j2');
        dbs.push(parallel);
        const spooled = await runRestore(
          { config: t.config, repo: t.repo, logger, identities },
          t.config.targets[0]!,
          manifest,
          { to: parallel.url, jobs: 2, clean: false },
        );
        expect(spooled.ok).toBe(true);
      });

      it('connections dropped mid-upload: clean failure naming the object, upload aborted, no manifest', async () => {
        const before = (await t.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
        proxy.dropAfter(1024 * 1024, { match: isUploadPart });
        const err = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(OperationError);
        const message = (err as Error).message;
        expect(message).not.toMatch(/\n/);
        expect(message).toMatch(/dump\.age/);
        expect(message).not.toContain(
          server.credentials.secretAccessKey === 'S3RVER' ? 'Signature=' : server.credentials.secretAccessKey,
        );
        // the multipart upload was aborted (s3rver cannot list uploads; MinIO could)
        expect(proxy.count('forwarded', isAbortMultipart)).toBeGreaterThanOrEqual(1);
        proxy.reset();
        const after = await t.repo.listBackups('invoices');
        expect(after.filter((b) => b.status === 'complete').map((b) => b.id)).toEqual(before.map((b) => b.id));
        expect(
          after.filter((b) => b.status === 'incomplete').flatMap((b) => b.objects.map((o) => o.name)),
        ).not.toContain('manifest.json');
        const still = await verifyBackup(t.repo, before.at(-1)!.manifest!, { deep: false });
        expect(still.ok).toBe(true);
      });

      it('S3 going down mid-backup: clean failure, earlier backups untouched once it is back', async () => {
        const before = (await t.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
        const running = runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch(
          (e: unknown) => e,
        );
        // go down as soon as the first part is on its way
        await waitFor(
          'the first part on its way',
          () => (proxy.count('forwarded', isUploadPart) > 0 ? true : undefined),
          60_000,
          { pollMs: 10, abandon: watch(running, 'the backup') },
        );
        await proxy.setDown(true);
        const err = await running;
        expect(err).toBeInstanceOf(OperationError);
        expect((err as Error).message).not.toMatch(/\n/);
        await proxy.setDown(false);
        const after = await t.repo.listBackups('invoices');
        expect(after.filter((b) => b.status === 'complete').map((b) => b.id)).toEqual(before.map((b) => b.id));
      });
      it('with Object Lock, every object of the backup carries the retention (multipart dump included) and its version cannot be deleted', async (ctx) => {
        needs(server, 'objectLock', ctx.skip);
        const bucket = await server.newBucket({ objectLock: true });
        const locked = await createTestRepo({
          targets: [{ name: 'invoices', url: source.url }],
          repoUrl: `s3://${bucket}/locked`,
          compression: 'none',
          s3: {
            endpoint: server.endpoint,
            region: server.region,
            forcePathStyle: true,
            checksums: server.checksums,
            partSizeMiB: 5,
            objectLock: { mode: 'GOVERNANCE', days: 2 },
          },
        });
        try {
          const started = Date.now();
          const result = await runBackup(
            { config: locked.config, repo: locked.repo, logger },
            locked.config.targets[0]!,
          );
          const manifest = await locked.repo.resolve('invoices', result.id);
          expect(manifest.objects.find((o) => o.layers[0] === 'pg_dump:custom')!.size).toBeGreaterThan(5 * 1024 * 1024); // multipart
          const client = new S3Client({
            endpoint: server.endpoint,
            region: server.region,
            credentials: server.credentials,
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED',
          });
          for (const object of manifest.objects) {
            expect(object.retention, object.name).toMatchObject({ mode: 'GOVERNANCE', versionId: expect.any(String) });
            expect(Date.parse(object.retention!.retainUntil)).toBeGreaterThanOrEqual(started + 2 * 86_400_000 - 5000);
            const Key = `locked/${locked.repo.objectPath('invoices', result.id, object.name)}`;
            const refused = await client
              .send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId: object.retention!.versionId }))
              .catch((e: unknown) => e);
            expect(refused, object.name).toMatchObject({ name: 'AccessDenied' });
          }
          client.destroy();
        } finally {
          await locked.cleanup();
        }
      });

      it('with Object Lock on a server that drops it, the backup fails naming the object and writes no manifest', async (ctx) => {
        if (server.capabilities.objectLock)
          ctx.skip(
            `needs capability 's3 dropsRetention': ${server.kind} keeps Object Lock retention (the test runs on s3rver, which drops it)`,
          );
        const repoUrl = `s3://${server.bucket}/dropping-${Date.now()}`;
        // initialised without Object Lock (with it, init's own save already fails here)
        await (
          await createTestRepo({
            targets: [{ name: 'invoices', url: source.url }],
            repoUrl,
            s3: { endpoint: server.endpoint, region: server.region, forcePathStyle: true, checksums: server.checksums },
          })
        ).cleanup();
        const dropping = await createTestRepo({
          targets: [{ name: 'invoices', url: source.url }],
          repoUrl,
          s3: {
            endpoint: server.endpoint,
            region: server.region,
            forcePathStyle: true,
            checksums: server.checksums,
            objectLock: { mode: 'COMPLIANCE', days: 3650 },
          },
        });
        try {
          const err = await runBackup(
            { config: dropping.config, repo: dropping.repo, logger },
            dropping.config.targets[0]!,
          ).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(OperationError);
          expect((err as Error).message).toMatch(
            /^Object Lock retention \(COMPLIANCE until \S+\) of 'backups\/invoices\/\S+' in s3:\/\/\S+ is (missing|still missing)/,
          );
          const all = await dropping.repo.listBackups('invoices');
          expect(all.filter((b) => b.status === 'complete')).toEqual([]);
          expect(all.flatMap((b) => b.objects.map((o) => o.name))).not.toContain('manifest.json');
        } finally {
          await dropping.cleanup();
        }
      });
    });
  });
}
