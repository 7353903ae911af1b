// Parallel backups (targets[].jobs): pg_dump --format=directory --jobs=2, one object per file.
// They restore to a copy equal to the source (every table in full, compared independently of
// src/) by restore --jobs 2 (one table file per job on disk), --jobs 1, the CLI, a drill and the stock tools
// (age -d, zstd -d, pg_restore -j); verify --deep and the identity binding cover every file; a
// pg_dump killed mid-way and S3 failing mid-upload leave no complete-looking backup.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupResult, runBackup } from '../../src/backup/backup.js';
import type { BoundDetails } from '../../src/backup/backup-identity.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import type { Identity } from '../../src/core/crypto/index.js';
import { runDrill } from '../../src/drill/drill.js';
import { IntegrityError, OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { loadDetails } from '../../src/drill/restore/checks-alongside.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { spoolFolder } from '../../src/core/spool-dir.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { runCli } from '../helpers/cli.js';
import { FaultProxy, type Match, isObjectWrite } from '../helpers/fault-proxy.js';
import { copyRepo, drillConfig, scratchDatabases } from '../drill/helpers.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { startS3rver } from '../helpers/s3-server.js';
import { SCHEMA_MATRIX } from '../schema-matrix/schemas.js';

const logger = silentLogger();
const partitioned = SCHEMA_MATRIX.find((s) => s.id === 'partitioned')!;
let sample: TestDatabase;
let part: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let identities: Identity[];
const backups: Record<string, { result: BackupResult; manifest: Manifest }> = {};
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  sample = await createSampleDatabase('par_src', 4000);
  part = await createDatabase('par_part');
  for (const sql of partitioned.setup(1500)) await query(part.url, sql);
  state = await createDatabase('par_state');
  dbs.push(sample, part, state);
  t = await createTestRepo({
    targets: [
      { name: 'invoices', url: sample.url, jobs: 2 },
      { name: 'part', url: part.url, verifyTables: partitioned.verifyTables, jobs: 2 },
    ],
  });
  identities = await loadIdentities(t.config);
  for (const target of t.config.targets) {
    const result = await runBackup({ config: t.config, repo: t.repo, logger }, target);
    backups[target.name] = { result, manifest: await t.repo.resolve(target.name, result.id) };
  }
});

afterAll(async () => {
  for (const name of await scratchDatabases(serverUrl(), 'part'))
    await query(serverUrl(), `drop database if exists "${name}" with (force)`);
  await Promise.all(dbs.map((d) => d.drop()));
  await t?.cleanup();
});

/** Every user table and sequence in full (count + md5 of the sorted rows), read without src/. */
async function contents(url: string): Promise<Record<string, string>> {
  const relations = await query<{ sql: string; kind: string }>(
    url,
    `select format('%I.%I', n.nspname, c.relname) as sql, c.relkind::text as kind
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm', 'S') and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%' order by 1`,
  );
  const out: Record<string, string> = {};
  for (const r of relations) {
    const [row] =
      r.kind === 'S'
        ? await query<{ v: string }>(url, `select last_value || '/' || is_called as v from ${r.sql}`)
        : await query<{ v: string }>(
            url,
            `select count(*) || ' rows ' || coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '-') as v
               from ${r.sql} t`,
          );
    out[`${r.kind} ${r.sql}`] = row!.v;
  }
  return out;
}

async function freshDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createDatabase(prefix);
  dbs.push(db);
  return db;
}

const dataObjects = (m: Manifest) => m.objects.filter((o) => /^dir-\d+\.dat\.zst\.age$/.test(o.name));

/** The README recipe for the stock tools, as a shell would run it: every file into a folder, then pg_restore -j 2. */
async function stockRestore(stored: string, identityFile: string, to: string): Promise<string[]> {
  const folder = await mkdtemp(path.join(tmpdir(), 'fgt-par-stock-'));
  try {
    const recipe = `set -euo pipefail
mkdir -p "$OUT/dump"
for f in "$IN"/dir-*.age; do
  n=$(basename "$f"); n=\${n#dir-}; n=\${n%.age}
  case "$n" in *.zst) age -d -i "$KEY" "$f" | zstd -d -q -o "$OUT/dump/\${n%.zst}" ;; *) age -d -i "$KEY" -o "$OUT/dump/$n" "$f" ;; esac
done
pg_restore -j 2 --no-owner -d "$DB" "$OUT/dump"`;
    execFileSync('bash', ['-c', recipe], {
      env: { ...process.env, IN: stored, OUT: folder, KEY: identityFile, DB: to },
      stdio: 'pipe',
    });
    return (await readdir(path.join(folder, 'dump'))).sort();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

describe('parallel backup (jobs: 2)', () => {
  it('stores one object per file of the dump folder, toc.dat included, each pinned by the details', async () => {
    for (const name of ['invoices', 'part']) {
      const { manifest, result } = backups[name]!;
      expect(manifest.pgDump).toMatchObject({ format: 'directory', jobs: 2, compression: 'zstd:1' });
      expect(manifest.objects.map((o) => o.name)).toContain('dir-toc.dat.zst.age');
      for (const o of manifest.objects.filter((x) => x.name.startsWith('dir-')))
        expect(o.layers).toEqual(['pg_dump:directory', 'zstd', 'age']);
      const details = (await loadDetails(t.repo, manifest, identities)) as BoundDetails;
      const pinned = details.backup!.objects.map((o) => o.name).sort();
      expect(pinned).toEqual(
        manifest.objects
          .filter((o) => o.name !== 'details.json.age')
          .map((o) => o.name)
          .sort(),
      );
      // the spool was sampled (its bound depends on timing: scripts/bench/parallel-backup.mjs measures it)
      expect(result.peakSpool!.files).toBeGreaterThan(0);
      expect(result.peakSpool!.bytes).toBeGreaterThan(0);
    }
    // the partitioned schema: one data file per partition (the parent has no data of its own)
    expect(dataObjects(backups.part!.manifest).length).toBeGreaterThanOrEqual(2);
    // the sample: invoices and invoice_items at least
    expect(dataObjects(backups.invoices!.manifest).length).toBeGreaterThanOrEqual(2);
  });

  it('verify --deep reads every file back and matches toc.dat with the stored data files', async () => {
    for (const name of ['invoices', 'part']) {
      const report = await verifyBackup(t.repo, backups[name]!.manifest, { deep: true, identities });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      const files = backups[name]!.manifest.objects.length;
      expect(report.checks.filter((c) => c.name.startsWith('sha256 ')).length).toBe(files);
      expect(report.checks.find((c) => c.name.startsWith('decrypt every file'))?.actual).toMatch(
        new RegExp(`toc.dat lists ${dataObjects(backups[name]!.manifest).length} table data items, each stored`),
      );
    }
  });

  it('restore --jobs 2, --jobs 1 (a table file per job on disk) and --clean (folder first): copies equal the source', async () => {
    for (const name of ['invoices', 'part'] as const) {
      const source = name === 'invoices' ? sample : part;
      const want = await contents(source.url);
      const target = t.config.targets.find((x) => x.name === name)!;
      const restored: TestDatabase[] = [];
      for (const jobs of [2, 1]) {
        const to = await freshDatabase(`par_r${jobs}`);
        restored.push(to);
        const result = await runRestore(
          { config: t.config, repo: t.repo, logger, identities },
          target,
          backups[name]!.manifest,
          { to: to.url, jobs, clean: false },
        );
        expect(result.checks.filter((c) => !c.ok)).toEqual([]);
        expect(result.ok).toBe(true);
        expect(await contents(to.url)).toEqual(want);
      }
      // --clean over a restored copy whose rows were changed: back to the backup's content. (Not on the
      // partitioned schema: pg_restore 15 --clean cannot drop a partition's inherited primary key,
      // whatever the archive format.)
      if (name === 'part') continue;
      await query(restored[0]!.url, 'delete from public.invoice_items where line_no = 1');
      const again = await runRestore(
        { config: t.config, repo: t.repo, logger, identities },
        target,
        backups[name]!.manifest,
        { to: restored[0]!.url, jobs: 2, clean: true },
      );
      expect(again.checks.filter((c) => !c.ok)).toEqual([]);
      expect(await contents(restored[0]!.url)).toEqual(want);
    }
    // nothing decrypted is left behind in the spool folder
    expect(await readdir(spoolFolder(t.config.restore.spoolDir)).catch(() => [])).toEqual([]);
  });

  it('drill --jobs 2 of the partitioned backup passes every check', async () => {
    const target = t.config.targets.find((x) => x.name === 'part')!;
    const report = await runDrill(
      { config: drillConfig(t, state.url), repo: t.repo, logger, identities, progress: false },
      target,
      { jobs: 2 },
    );
    expect(report.cause).toBeUndefined();
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.checks.map((c) => c.name)).toContain('checksum billing.invoices');
  });

  it('the stock tools restore it: age -d and zstd -d of every file into a folder, then pg_restore -j 2', async () => {
    const { manifest } = backups.part!;
    const stored = path.join(new URL(t.repoUrl).pathname, 'backups', 'part', manifest.id);
    const to = await freshDatabase('par_stock');
    const files = await stockRestore(stored, t.identityFile, to.url);
    expect(files.length).toBe(dataObjects(manifest).length + 1);
    expect(await contents(to.url)).toEqual(await contents(part.url));
  });

  it('a damaged table file fails the restore naming it; one swapped in with its manifest entry is refused', async () => {
    const { manifest } = backups.invoices!;
    const target = t.config.targets.find((x) => x.name === 'invoices')!;
    const victim = [...dataObjects(manifest)].sort((a, b) => b.size - a.size)[0]!;
    const damaged = await copyRepo(t, 'par-damaged', 'invoices', manifest.id);
    const file = path.join(damaged.folder, victim.name);
    const bytes = await readFile(file);
    bytes[bytes.length - 20]! ^= 0xff;
    await writeFile(file, bytes);
    const to = await freshDatabase('par_dmg');
    const err = await runRestore(
      { config: t.config, repo: damaged.repo, logger, identities },
      target,
      damaged.manifest,
      { to: to.url, jobs: 2, clean: false },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(
      new RegExp(`checksum mismatch for '.*${victim.name.replace(/\./g, '\\.')}'`),
    );

    // the same bytes with the manifest rewritten to match them: storage checks pass, the details do not
    const { createHash } = await import('node:crypto');
    const forged = await copyRepo(t, 'par-forged', 'invoices', manifest.id);
    await writeFile(path.join(forged.folder, victim.name), bytes);
    const entry = forged.manifest.objects.find((o) => o.name === victim.name)!;
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(path.join(forged.folder, 'manifest.json'), `${JSON.stringify(forged.manifest, null, 2)}\n`);
    const to2 = await freshDatabase('par_forged');
    const refused = await runRestore(
      { config: t.config, repo: forged.repo, logger, identities },
      target,
      forged.manifest,
      { to: to2.url, jobs: 2, clean: false },
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IntegrityError);
    expect((refused as Error).message).toContain(`object '${victim.name}' is not the one this backup stored`);
    // refused before anything was written
    expect(await query(to2.url, `select 1 from pg_tables where schemaname = 'public'`)).toEqual([]);
  });

  it('with compression pg_dump:1 the workers compress (N.dat.gz), objects are age only, and it restores equal', async () => {
    const gz = await createTestRepo({
      targets: [{ name: 'part', url: part.url, verifyTables: partitioned.verifyTables, jobs: 2 }],
      compression: 'pg_dump:1',
    });
    try {
      const result = await runBackup({ config: gz.config, repo: gz.repo, logger }, gz.config.targets[0]!);
      const manifest = await gz.repo.resolve('part', result.id);
      const data = manifest.objects.filter((o) => /^dir-\d+\.dat\.gz\.age$/.test(o.name));
      expect(data.length).toBe(dataObjects(backups.part!.manifest).length);
      for (const o of data) expect(o.layers).toEqual(['pg_dump:directory', 'age']);
      const to = await freshDatabase('par_gz');
      const restored = await runRestore(
        { config: gz.config, repo: gz.repo, logger, identities: await loadIdentities(gz.config) },
        gz.config.targets[0]!,
        manifest,
        { to: to.url, jobs: 2, clean: false },
      );
      expect(restored.checks.filter((c) => !c.ok)).toEqual([]);
      expect(await contents(to.url)).toEqual(await contents(part.url));
      // the README's stock-tool recipe takes the gzip files as they are (its `*)` branch)
      const stock = await freshDatabase('par_gz_stock');
      const stored = path.join(new URL(gz.repoUrl).pathname, 'backups', 'part', manifest.id);
      const files = await stockRestore(stored, gz.identityFile, stock.url);
      expect(files.filter((f) => /^\d+\.dat\.gz$/.test(f)).length).toBe(data.length);
      expect(await contents(stock.url)).toEqual(await contents(part.url));
    } finally {
      await gz.cleanup();
    }
  });

  it('the CLI: backup with jobs from the config, restore --jobs 2, list and verify --deep', async () => {
    const cfg = ['--config', t.configFile];
    const backup = await runCli(['backup', '--target', 'invoices', '--json', ...cfg], { timeoutMs: 170_000 });
    expect(backup.code, backup.stderr).toBe(0);
    const result = JSON.parse(backup.stdout) as BackupResult;
    expect(result.objects.some((o) => o.name === 'dir-toc.dat.zst.age')).toBe(true);
    const verify = await runCli(['verify', result.id, '--target', 'invoices', '--deep', '--json', ...cfg], {
      timeoutMs: 170_000,
    });
    expect(verify.code, verify.stderr).toBe(0);
    const to = await freshDatabase('par_cli');
    const restore = await runCli(
      ['restore', result.id, '--target', 'invoices', '--to', to.url, '--jobs', '2', ...cfg],
      { timeoutMs: 170_000 },
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(await contents(to.url)).toEqual(await contents(sample.url));
  }, 400_000);
});

/** Every complete backup of a target, by id. */
async function completeIds(repoTarget: string): Promise<string[]> {
  return (await t.repo.listBackups(repoTarget)).filter((b) => b.status === 'complete').map((b) => b.id);
}

describe('parallel backup faults: no complete-looking backup', () => {
  it('pg_dump killed mid-way (after its first table file): the backup fails in one line, no manifest, the spool folder emptied', async () => {
    const before = await completeIds('invoices');
    const dir = await mkdtemp(path.join(tmpdir(), 'fgt-shim-'));
    const real = execFileSync('sh', ['-c', 'command -v pg_dump']).toString().trim();
    // a pg_dump that dies (SIGKILL) as soon as the real one reports its first finished table
    await writeFile(
      path.join(dir, 'pg_dump'),
      `#!/bin/bash
case " $* " in *" --version "*) exec ${real} "$@";; esac
coproc PGD { exec ${real} "$@" 2>&1; }
while IFS= read -r line <&"\${PGD[0]}"; do
  echo "$line" >&2
  case "$line" in *"finished item"*) kill -9 "$PGD_PID"; kill -9 $$;; esac
done
wait "$PGD_PID"
`,
    );
    await chmod(path.join(dir, 'pg_dump'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    try {
      const err = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OperationError);
      expect((err as Error).message).toMatch(/pg_dump --jobs=2 of 'invoices' failed \(killed by SIGKILL\)/);
      expect((err as Error).message).not.toMatch(/\n/);
    } finally {
      process.env.PATH = saved;
      await rm(dir, { recursive: true, force: true });
    }
    expect(await completeIds('invoices')).toEqual(before);
    expect(await readdir(spoolFolder(t.config.restore.spoolDir)).catch(() => [])).toEqual([]);
  });

  it('S3 failing mid-upload (after the first table file is stored): clean failure, no manifest, earlier backups verify', async () => {
    const server = await startS3rver();
    const proxy = await FaultProxy.start(server.endpoint);
    const savedEnv = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    const s3 = await createTestRepo({
      targets: [{ name: 'invoices', url: sample.url, jobs: 2 }],
      repoUrl: `s3://${server.bucket}/par-${Date.now()}`,
      s3: {
        endpoint: proxy.endpoint,
        region: server.region,
        forcePathStyle: true,
        checksums: server.checksums,
        maxAttempts: 2,
      },
    });
    try {
      const good = await runBackup({ config: s3.config, repo: s3.repo, logger }, s3.config.targets[0]!);
      proxy.reset();
      // toc.dat goes up after every table file: S3 answers 500 to it (and to each retry)
      const isToc: Match = (r) => isObjectWrite(r) && r.url.includes('dir-toc.dat');
      proxy.failNext(1000, 500, isToc);
      const err = await runBackup({ config: s3.config, repo: s3.repo, logger }, s3.config.targets[0]!).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OperationError);
      expect((err as Error).message).toMatch(/dir-toc\.dat/);
      expect((err as Error).message).not.toMatch(/\n/);
      expect(proxy.count('forwarded', (r) => isObjectWrite(r) && /dir-\d+\.dat/.test(r.url))).toBeGreaterThan(0); // table files were stored first
      proxy.reset();
      const complete = (await s3.repo.listBackups('invoices')).filter((b) => b.status === 'complete');
      expect(complete.map((b) => b.id)).toEqual([good.id]);
      const report = await verifyBackup(s3.repo, await s3.repo.resolve('invoices', good.id), {
        deep: true,
        identities: await loadIdentities(s3.config),
      });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      process.env = savedEnv;
      await s3.cleanup();
      await proxy.stop();
      await server.stop();
    }
  });
});
