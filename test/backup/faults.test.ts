// Faults in the backup path end in a clean failure: one clear error, no manifest, no partial
// object that looks complete, earlier backups untouched and still verifiable.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { generateIdentity, parseIdentities } from '../../src/core/crypto/index.js';
import { IntegrityError, OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { Repository } from '../../src/core/repository/repository.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { FileStorage } from '../../src/core/storage/file-storage.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { waitFor, watch } from '../helpers/wait.js';

const logger = silentLogger();
let source: TestDatabase;
let t: TestRepo;
let good: Manifest;
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSampleDatabase('faults', 3000);
  t = await createTestRepo({ targets: [{ name: 'invoices', url: source.url }] });
  const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  good = await t.repo.resolve('invoices', result.id);
});

afterAll(async () => {
  await Promise.all([source?.drop(), ...dbs.map((d) => d.drop())]);
  await t?.cleanup();
});

/** Every file under the repository, temp files included. */
async function repoFiles(): Promise<string[]> {
  const root = fileURLToPath(t.repoUrl);
  return (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
}

async function expectEarlierBackupIntact(): Promise<void> {
  const complete = (await t.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
  expect(complete.map((b) => b.id)).toEqual([good.id]);
  const report = await verifyBackup(t.repo, good, { deep: false });
  expect(report.ok).toBe(true);
}

/** Run `fn` with a fake tool first on PATH. */
async function withShim<T>(tool: string, script: string, fn: () => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fgt-shim-'));
  const real = execFileSync('sh', ['-c', `command -v ${tool}`])
    .toString()
    .trim();
  await writeFile(path.join(dir, tool), `#!/bin/bash\nREAL=${real}\n${script}\n`);
  await chmod(path.join(dir, tool), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
    await rm(dir, { recursive: true, force: true });
  }
}

async function copyBackupTo(name: string): Promise<{ repo: Repository; manifest: Manifest; dumpFile: string }> {
  // a private copy of the good backup, so damaging it leaves the shared one alone
  const root = fileURLToPath(t.repoUrl);
  const dir = path.join(t.dir, name);
  execFileSync('cp', ['-r', root, dir]);
  const repo = new Repository(new FileStorage(pathToFileURL(dir).href));
  const manifest = await repo.resolve('invoices', good.id);
  return { repo, manifest, dumpFile: path.join(dir, 'backups', 'invoices', good.id, 'dump.zst.age') };
}

describe('backup faults', () => {
  it('pg_dump dying mid-stream fails the backup with its exit status and leaves nothing that looks complete', async () => {
    const err = await withShim('pg_dump', 'set -o pipefail\n"$REAL" "$@" | head -c 100000', () =>
      runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/^pg_dump of 'invoices' failed \(exit code 141\)/);
    const files = await repoFiles();
    expect(files.filter((f) => !f.includes(good.id) && f !== 'fapiao-guard.json')).toEqual([]);
    await expectEarlierBackupIntact();
  });

  it('pg_dump reporting an error (exit 1 with a message) is named in the one-line error', async () => {
    const err = await withShim(
      'pg_dump',
      'echo "pg_dump: error: query failed: permission denied for table invoices" >&2\nexit 1',
      () => runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch((e: unknown) => e),
    );
    expect((err as Error).message).toBe(
      "pg_dump of 'invoices' failed (exit code 1): pg_dump: error: query failed: permission denied for table invoices",
    );
    await expectEarlierBackupIntact();
  });

  it('a disk that fills up mid-backup fails cleanly with a disk-full message and no temp file left', async (ctx) => {
    const mnt = await mkdtemp(path.join(tmpdir(), 'fgt-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip(
        "needs capability 'mount tmpfs': cannot mount a small tmpfs here; disk full without it: test/backup/disk-full.test.ts",
      );
    }
    try {
      const small = await createTestRepo({
        targets: [{ name: 'invoices', url: source.url }],
        repoUrl: pathToFileURL(mnt).href,
      });
      const err = await runBackup({ config: small.config, repo: small.repo, logger }, small.config.targets[0]!).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OperationError);
      expect((err as Error).message).toMatch(/no space|disk full|ENOSPC/i);
      const left = (await readdir(mnt, { recursive: true })).filter(
        (f) => !f.endsWith('fapiao-guard.json') && /\.(age|tmp-[0-9a-f]+)$/.test(f),
      );
      expect(left).toEqual([]);
      expect(await small.repo.listBackups()).toEqual([]);
      await small.cleanup();
    } finally {
      execFileSync('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });

  it('an interrupt (abort signal) mid-dump stops pg_dump, aborts the upload and writes no manifest', async () => {
    const controller = new AbortController();
    const dumped = path.join(t.dir, 'dumped-50k');
    const err = await withShim(
      'pg_dump',
      `"$REAL" "$@" | (head -c 50000; touch '${dumped}'; sleep 20; cat)`,
      async () => {
        const backup = runBackup(
          { config: t.config, repo: t.repo, logger, signal: controller.signal },
          t.config.targets[0]!,
        );
        const running = backup.catch((e: unknown) => e);
        // interrupt mid-dump: pg_dump has sent 50 kB and stalls, and the upload's temp file is open
        const stillRunning = { abandon: watch(backup, 'the backup') };
        await waitFor('pg_dump to send 50 kB', () => (existsSync(dumped) ? true : undefined), 30_000, stillRunning);
        await waitFor(
          'the upload to begin',
          async () => ((await repoFiles()).some((f) => /\.tmp-[0-9a-f]{12}$/.test(f)) ? true : undefined),
          30_000,
          stillRunning,
        );
        controller.abort(new Error('test interrupt'));
        return running;
      },
    );
    expect(err).toBeInstanceOf(Error);
    const files = await repoFiles();
    expect(files.filter((f) => !f.includes(good.id) && f !== 'fapiao-guard.json')).toEqual([]);
    await expectEarlierBackupIntact();
  });
});

describe('damaged backups', () => {
  it('a flipped byte is found by verify (naming the object) and stops a restore', async () => {
    const { repo, manifest, dumpFile } = await copyBackupTo('flipped');
    const bytes = await readFile(dumpFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(dumpFile, bytes);

    const report = await verifyBackup(repo, manifest, { deep: false });
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(['sha256 dump.zst.age']);
    expect(failed[0]!.problem).toMatch(
      new RegExp(
        `^checksum mismatch for 'backups/invoices/${good.id}/dump.zst.age': expected [0-9a-f]{16}…, got [0-9a-f]{16}…$`,
      ),
    );

    const to = await createDatabase('flip_to');
    dbs.push(to);
    const identities = await loadIdentities(t.config);
    const err = await runRestore({ config: t.config, repo, logger, identities }, t.config.targets[0]!, manifest, {
      to: to.url,
      jobs: 1,
      clean: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain(`backups/invoices/${good.id}/dump.zst.age`);
  });

  it('a truncated object is reported as truncated by verify and fails a restore', async () => {
    const { repo, manifest, dumpFile } = await copyBackupTo('truncated');
    await truncate(dumpFile, Math.floor(manifest.objects[0]!.size * 0.6));
    const report = await verifyBackup(repo, manifest, { deep: false });
    const size = report.checks.find((c) => c.name === 'size dump.zst.age')!;
    expect(size.ok).toBe(false);
    expect(size.problem).toMatch(/size mismatch for '.*dump\.zst\.age': expected \d+ bytes, got \d+ \(truncated\)/);

    const to = await createDatabase('trunc_to');
    dbs.push(to);
    const identities = await loadIdentities(t.config);
    const err = await runRestore({ config: t.config, repo, logger, identities }, t.config.targets[0]!, manifest, {
      to: to.url,
      jobs: 2,
      clean: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/dump\.zst\.age/);
    // spooled restore: pg_restore never started on a damaged archive
    const { count } = await queryOne<{ count: string }>(
      to.url,
      "select count(*) from pg_tables where schemaname = 'public'",
    );
    expect(Number(count)).toBe(0);
  });

  for (const jobs of [1, 2]) {
    it(`pg_restore failing part-way (jobs ${jobs}): its error in one line, without its progress chatter; no check left running`, async () => {
      // the target already has one of the tables (and a row in it), so pg_restore stops at it
      const to = await createDatabase(`clash_${jobs}`);
      dbs.push(to);
      await query(to.url, 'create table public.invoice_items (x int); insert into public.invoice_items values (1)');
      const identities = await loadIdentities(t.config);
      const ctx = { config: t.config, repo: t.repo, logger, identities };
      const err = await runRestore(ctx, t.config.targets[0]!, good, {
        to: to.url,
        jobs,
        clean: false,
        trustedTarget: true,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationError);
      const message = (err as Error).message;
      expect(message).toMatch(
        /^pg_restore into '.*' failed \(exit code 1\): .*relation "invoice_items" already exists/,
      );
      expect(message).not.toMatch(/creating|processing|launching|finished item/);
      expect(message).not.toContain('\n');
      // no measuring connection of ours is left on the database
      const { count } = await queryOne<{ count: string }>(
        to.url,
        "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'fapiao-guard restore-check'",
      );
      expect(Number(count)).toBe(0);
    });
  }

  it('a wrong identity is refused before anything is restored, saying no key matched', async () => {
    const other = parseIdentities(generateIdentity().identity);
    const to = await createDatabase('wrongkey_to');
    dbs.push(to);
    const err = await runRestore(
      { config: t.config, repo: t.repo, logger, identities: other },
      t.config.targets[0]!,
      good,
      { to: to.url, jobs: 1, clean: false },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/no identity|did not match|matches none/i);
    const { count } = await queryOne<{ count: string }>(
      to.url,
      "select count(*) from pg_tables where schemaname = 'public'",
    );
    expect(Number(count)).toBe(0);
  });
});
