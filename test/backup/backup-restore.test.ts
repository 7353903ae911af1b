// The foundation end to end on a real PostgreSQL, real pg_dump/pg_restore, file:// repository:
// backup → list → verify → restore → proof; and the refusals that keep people safe.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { UsageError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

const logger = silentLogger();
let source: TestDatabase;
let t: TestRepo;
const scratch: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSampleDatabase('br', 3000);
  t = await createTestRepo({ targets: [{ name: 'invoices', url: source.url, globals: true }] });
});

afterAll(async () => {
  await Promise.all([source?.drop(), ...scratch.map((d) => d.drop())]);
  await t?.cleanup();
});

async function scratchDb(): Promise<TestDatabase> {
  const db = await createDatabase('br_to');
  scratch.push(db);
  return db;
}

describe('backup, verify and restore', () => {
  it('backs up, lists, verifies deeply and restores a proven-equal copy', async () => {
    const target = t.config.targets[0]!;
    const result = await runBackup({ config: t.config, repo: t.repo, logger }, target);
    expect(result.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(result.objects.map((o) => o.name).sort()).toEqual(['details.json.age', 'dump.zst.age', 'globals.sql.age']);
    expect(result.storedBytes).toBe(result.objects.reduce((s, o) => s + o.size, 0));

    const listed = await t.repo.listBackups('invoices');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: result.id, status: 'complete', storedBytes: result.storedBytes });

    // nothing secret or invoice-like in the plaintext manifest
    const manifest = listed[0]!.manifest!;
    const manifestText = JSON.stringify(manifest);
    expect(manifestText).not.toMatch(/AGE-SECRET-KEY|上海|91310110666007217T/);
    expect(manifest.recipients[0]).toMatch(/^sha256:/);
    expect(manifest.pgDump.compression).toBe('zstd:1');

    const identities = await loadIdentities(t.config);
    const report = await verifyBackup(t.repo, manifest, { deep: true, identities });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.length).toBe(3 * 2 + 4); // size+sha per object, dump read, details, identity, globals

    const to = await scratchDb();
    const restored = await runRestore({ config: t.config, repo: t.repo, logger, identities }, target, manifest, {
      to: to.url,
      jobs: 1,
      clean: false,
    });
    expect(restored.ok).toBe(true);
    expect(restored.checks.map((c) => c.name)).toEqual([
      'rows public.invoice_items',
      'checksum public.invoice_items',
      'rows public.invoices',
      'checksum public.invoices',
      'user tables',
      'sequence public.invoices_id_seq',
    ]);
    const { count } = await queryOne<{ count: string }>(to.url, 'select count(*) from public.invoices');
    expect(Number(count)).toBe(3000);

    // parallel restore spools to a temp file and removes it afterwards
    const spoolDir = path.join(t.dir, 'spool');
    await import('node:fs/promises').then((fs) => fs.mkdir(spoolDir));
    const parallel = await scratchDb();
    const spooled = await runRestore(
      { config: { ...t.config, restore: { jobs: 1, spoolDir } }, repo: t.repo, logger, identities },
      target,
      manifest,
      { to: parallel.url, jobs: 2, clean: false },
    );
    expect(spooled.ok).toBe(true);
    // in the private spool folder (src/core/spool-dir.ts), which stays, empty
    expect(await readdir(spoolDir)).toEqual([`fapiao-guard-spool-${process.getuid!()}`]);
    expect(await readdir(path.join(spoolDir, `fapiao-guard-spool-${process.getuid!()}`))).toEqual([]);
  });

  it('notices when restored data differs from the backup (checksum and count)', async () => {
    const target = t.config.targets[0]!;
    const manifest = await t.repo.resolve('invoices', 'latest');
    const identities = await loadIdentities(t.config);
    const to = await scratchDb();
    await runRestore({ config: t.config, repo: t.repo, logger, identities }, target, manifest, {
      to: to.url,
      jobs: 1,
      clean: false,
    });
    await query(to.url, 'update public.invoices set total_amount = total_amount + 0.01 where id = 7');
    await query(to.url, 'delete from public.invoice_items where invoice_id = 9');
    const { loadDetails } = await import('../../src/drill/restore/checks-alongside.js');
    const { checkAgainstDetails } = await import('../../src/drill/restore/restored-details.js');
    const checks = await checkAgainstDetails(to.url, await loadDetails(t.repo, manifest, identities), {
      concurrency: 2,
    });
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(['rows public.invoice_items', 'checksum public.invoice_items', 'checksum public.invoices']);
  });

  it('refuses a non-empty target without --clean, and replaces it with --clean', async () => {
    const target = t.config.targets[0]!;
    const manifest = await t.repo.resolve('invoices', 'latest');
    const identities = await loadIdentities(t.config);
    const to = await scratchDb();
    await query(to.url, 'create table public.keep_me (id int)');
    const ctx = { config: t.config, repo: t.repo, logger, identities };
    const refused = await runRestore(ctx, target, manifest, { to: to.url, jobs: 1, clean: false }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).message).toBe(`database '${to.name}' at '${to.url}' is not empty (1 relations)`);
    expect((refused as UsageError).hint).toMatch(/--clean/);
    const cleaned = await runRestore(ctx, target, manifest, { to: to.url, jobs: 1, clean: true });
    // --clean replaces the backup's objects; a table the backup does not have stays, and is named
    expect(cleaned.checks.filter((c) => !c.ok)).toEqual([
      { name: 'user tables', ok: false, expected: '2 tables', actual: 'extra: public.keep_me' },
    ]);
    await query(to.url, 'drop table public.keep_me');
    expect((await runRestore(ctx, target, manifest, { to: to.url, jobs: 1, clean: true })).ok).toBe(true);
  });

  it("refuses to restore onto the backup's own source database", async () => {
    const target = t.config.targets[0]!;
    const manifest = await t.repo.resolve('invoices', 'latest');
    const identities = await loadIdentities(t.config);
    await expect(
      runRestore({ config: t.config, repo: t.repo, logger, identities }, target, manifest, {
        to: source.url,
        jobs: 1,
        clean: true,
      }),
    ).rejects.toThrow(/refusing to restore backup '.*' onto its own source database/);
    const { count } = await queryOne<{ count: string }>(source.url, 'select count(*) from public.invoices');
    expect(Number(count)).toBe(3000);
  });

  it('fails a backup whose verify table does not exist, naming it, before writing anything (no manifest, no folder)', async () => {
    const bad = { ...t.config.targets[0]!, verifyTables: ['public.no_such_table'] };
    const before = (await t.repo.listBackups('invoices')).length;
    const folders = () => readdir(path.join(t.dir, 'repo', 'backups', 'invoices')).catch(() => [] as string[]);
    const foldersBefore = await folders();
    await expect(runBackup({ config: t.config, repo: t.repo, logger }, bad)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/verify table 'public\.no_such_table' not found/),
    });
    const after = await t.repo.listBackups('invoices');
    expect(after).toHaveLength(before);
    expect(await folders()).toEqual(foldersBefore);
  });
});
