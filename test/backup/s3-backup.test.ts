// Backups to an S3 protocol server (s3rver here, MinIO where Docker answers) through a
// fault-injecting proxy: a good backup restores; S3 failing mid-upload ends cleanly.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/backup/encryption-keys.js';
import { OperationError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { runRestore } from '../../src/restore/restore.js';
import { verifyBackup } from '../../src/verify/verify.js';
import { FaultProxy, isAbortMultipart, isUploadPart } from '../helpers/fault-proxy.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { waitFor, watch } from '../helpers/wait.js';

const logger = silentLogger();
let server: S3TestServer;
let proxy: FaultProxy;
let source: TestDatabase;
let t: TestRepo;
const dbs: TestDatabase[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  server = await startS3Server();
  proxy = await FaultProxy.start(server.endpoint);
  process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
  source = await createSampleDatabase('s3b', 30_000);
  t = await createTestRepo({
    targets: [{ name: 'invoices', url: source.url }],
    repoUrl: `s3://${server.bucket}/fg-${Date.now()}`,
    // uncompressed: ~13 MiB, so the dump goes up as a multipart upload of 5 MiB parts
    compression: 'none',
    s3: { endpoint: proxy.endpoint, region: server.region, forcePathStyle: true, checksums: server.checksums, partSizeMiB: 5, maxAttempts: 2, queueSize: 2 },
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

describe('backups on S3', () => {
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
    const restored = await runRestore({ config: t.config, repo: t.repo, logger, identities }, t.config.targets[0]!, manifest, { to: to.url, jobs: 1, clean: false });
    expect(restored.ok).toBe(true);
    // an uncompressed archive spooled for a parallel restore
    const parallel = await createDatabase('s3b_j2');
    dbs.push(parallel);
    const spooled = await runRestore({ config: t.config, repo: t.repo, logger, identities }, t.config.targets[0]!, manifest, { to: parallel.url, jobs: 2, clean: false });
    expect(spooled.ok).toBe(true);
  });

  it('connections dropped mid-upload: clean failure naming the object, upload aborted, no manifest', async () => {
    const before = (await t.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
    proxy.dropAfter(1024 * 1024, { match: isUploadPart });
    const err = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const message = (err as Error).message;
    expect(message).not.toMatch(/\n/);
    expect(message).toMatch(/dump\.age/);
    expect(message).not.toContain(server.credentials.secretAccessKey === 'S3RVER' ? 'Signature=' : server.credentials.secretAccessKey);
    // the multipart upload was aborted (s3rver cannot list uploads; MinIO could)
    expect(proxy.count('forwarded', isAbortMultipart)).toBeGreaterThanOrEqual(1);
    proxy.reset();
    const after = await t.repo.listBackups('invoices');
    expect(after.filter((b) => b.status === 'complete').map((b) => b.id)).toEqual(before.map((b) => b.id));
    expect(after.filter((b) => b.status === 'incomplete').flatMap((b) => b.objects.map((o) => o.name))).not.toContain('manifest.json');
    const still = await verifyBackup(t.repo, before.at(-1)!.manifest!, { deep: false });
    expect(still.ok).toBe(true);
  });

  it('S3 going down mid-backup: clean failure, earlier backups untouched once it is back', async () => {
    const before = (await t.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
    const running = runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch((e: unknown) => e);
    // go down as soon as the first part is on its way
    await waitFor('the first part on its way', () => (proxy.count('forwarded', isUploadPart) > 0 ? true : undefined), 60_000, { pollMs: 10, abandon: watch(running, 'the backup') });
    await proxy.setDown(true);
    const err = await running;
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).not.toMatch(/\n/);
    await proxy.setDown(false);
    const after = await t.repo.listBackups('invoices');
    expect(after.filter((b) => b.status === 'complete').map((b) => b.id)).toEqual(before.map((b) => b.id));
  });
});
