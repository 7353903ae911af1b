// Disk full mid-backup where no tmpfs can be mounted: the storage fills up after a few KiB
// (test/helpers/disk-full-storage.ts, ENOSPC as FileStorage reports it). The backup fails in one
// line naming the disk-full cause, pg_dump is stopped, no manifest and no temp file remain, and the
// repository's earlier backup is untouched. The same on a real full disk: test/backup/faults.test.ts.
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Repository } from '../../src/core/repository/repository.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { DiskFullStorage } from '../helpers/disk-full-storage.js';
import { type TestDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

const logger = silentLogger();
let source: TestDatabase;
let t: TestRepo;

beforeAll(async () => {
  source = await createSampleDatabase('diskfull', 3000);
  t = await createTestRepo({ targets: [{ name: 'invoices', url: source.url }] });
});

afterAll(async () => {
  await source?.drop();
  await t?.cleanup();
});

describe('disk full mid-backup (ENOSPC injected at the storage)', () => {
  it('fails with the disk-full message and hint, leaves no manifest and no temp file, earlier backups intact', async () => {
    const earlier = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    const full = new DiskFullStorage(t.repo.storage, 16 * 1024);
    const err = await runBackup({ config: t.config, repo: new Repository(full), logger }, t.config.targets[0]!).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).message).toMatch(
      /^cannot write '.*\/backups\/invoices\/\d{8}T\d{6}Z-[0-9a-f]{4}\/[a-z.]+\.age': no space left on device \(ENOSPC\)$/,
    );
    expect((err as OperationError).hint).toMatch(/disk full/);
    expect(full.used).toBeGreaterThan(0); // it did fill up mid-way, not refuse at once

    const files = (await readdir(fileURLToPath(t.repoUrl), { recursive: true })).filter(
      (f) => /\.(age|json)$|\.tmp-[0-9a-f]+$/.test(f) && !f.includes(earlier.id) && f !== 'fapiao-guard.json',
    );
    expect(files).toEqual([]);
    const listed = await t.repo.listBackups('invoices');
    expect(listed.map((b) => [b.id, b.status])).toEqual([[earlier.id, 'complete']]);
    const report = await verifyBackup(t.repo, listed[0]!.manifest!, {
      deep: true,
      identities: await loadIdentities(t.config),
    });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
