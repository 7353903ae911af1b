// A drill against an S3 repository (the suite's S3 protocol server): the backup streams from S3
// through verify and decrypt into pg_restore, and the report lands in the bucket.
import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { runDrill } from '../../src/drill/drill.js';
import { silentLogger } from '../../src/core/logger.js';
import { type TestDatabase, createDatabase, createSampleDatabase, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { drillConfig, historyRow, scratchDatabases } from './helpers.js';

// scratch databases are named after the target: another checkout running this file on the shared
// server must not see (or count) ours
const TARGET = `drills3_${randomBytes(2).toString('hex')}`;
const logger = silentLogger();
let server: S3TestServer;
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;

beforeAll(async () => {
  server = await startS3Server();
  // S3 credentials come from the standard provider chain, as in production
  process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
  source = await createSampleDatabase('drills3', 2500);
  state = await createDatabase('drills3_state');
  t = await createTestRepo({
    targets: [{ name: TARGET, url: source.url }],
    repoUrl: `s3://${server.bucket}/drill-test`,
    s3: { endpoint: server.endpoint, region: server.region, forcePathStyle: true, checksums: server.checksums },
  });
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
  await server?.stop();
});

describe('drill from S3', () => {
  it('passes on a fresh backup and stores its report under drills/<target>/', async () => {
    const backup = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    const report = await runDrill(
      { config: drillConfig(t, state.url), repo: t.repo, logger, progress: false },
      t.config.targets[0]!,
    );
    expect(report.verdict).toBe('pass');
    expect(report.backupId).toBe(backup.id);
    expect(report.checks.find((c) => c.name === 'rows public.invoices')).toEqual({
      name: 'rows public.invoices',
      ok: true,
      expected: 2500,
      actual: 2500,
    });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const stored = JSON.parse(await text(await t.repo.storage.load(`drills/${TARGET}/${report.drillId}.json`)));
    expect(stored).toMatchObject({ drillId: report.drillId, backupId: backup.id, verdict: 'pass' });
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
    expect((await historyRow(state.url, report.drillId)).status).toBe('pass');
  });
});
