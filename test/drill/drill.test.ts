// Drills end to end on a real PostgreSQL with real pg_restore: a passing drill proves a fresh
// backup; each kind of damage fails the drill with its cause in one line and leaves no scratch
// database behind; the scratch server is guarded; leftovers of crashed drills are cleaned up.
import { randomBytes, randomInt } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { generateIdentity, parseIdentities, type Identity } from '../../src/core/crypto/index.js';
import { type DrillContext, pickBackup, runDrill } from '../../src/drill/drill.js';
import type { DrillConfig } from '../../src/drill/drill-config.js';
import { scratchDatabaseName } from '../../src/drill/scratch-db.js';
import { InterruptedError, NotFoundError, UsageError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { withDatabase } from '../../src/core/pg/connect.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import type { Repository } from '../../src/core/repository/repository.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { waitFor, watch } from '../helpers/wait.js';
import { copyRepo, drillConfig, historyRow, scratchDatabases, tamperDetails } from './helpers.js';

const logger = silentLogger();
// scratch databases are named after the target: another checkout running this file on the shared
// server must not see (or count) ours
const TARGET = `drilltest_${randomBytes(2).toString('hex')}`;
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let good: Manifest;
let identities: Identity[];

beforeAll(async () => {
  source = await createSampleDatabase('drill', 3000);
  state = await createDatabase('drill_state');
  t = await createTestRepo({ targets: [{ name: TARGET, url: source.url, globals: true }] });
  const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  good = await t.repo.resolve(TARGET, result.id);
  identities = await loadIdentities(t.config);
});

afterAll(async () => {
  for (const name of await scratchDatabases(serverUrl(), TARGET))
    await query(serverUrl(), `drop database if exists ${name} with (force)`);
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

function drill(
  options: { drill?: Partial<DrillConfig>; repo?: Repository; identities?: Identity[]; signal?: AbortSignal } = {},
  runOptions: Parameters<typeof runDrill>[2] = {},
) {
  const ctx: DrillContext = {
    config: drillConfig(t, state.url, options.drill),
    repo: options.repo ?? t.repo,
    logger,
    identities: options.identities ?? identities,
    progress: false,
  };
  if (options.signal) ctx.signal = options.signal;
  return runDrill(ctx, t.config.targets[0]!, runOptions);
}

async function expectFailedDrill(report: Awaited<ReturnType<typeof runDrill>>, cause: RegExp): Promise<void> {
  expect(report.verdict).toBe('fail');
  expect(report.cause).toMatch(cause);
  expect(report.cause).not.toContain('\n');
  expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
  expect((await historyRow(state.url, report.drillId)).status).toBe('fail');
}

describe('a passing drill', () => {
  it('restores the latest backup, proves it, drops the scratch database and records the report everywhere', async () => {
    const report = await drill({
      drill: {
        assertions: [
          {
            name: 'totals add up',
            sql: 'select count(*) from public.invoices where total_amount <> amount + tax_amount',
            expect: 0,
          },
          { name: 'has invoices', sql: 'select count(*) > 0 from public.invoices', expect: true },
        ],
        amcheck: true,
      },
    });
    expect(report.verdict).toBe('pass');
    expect(report.backupId).toBe(good.id);
    // the tables are measured as soon as pg_restore has their data in, not after it ends: the first
    // always is (the second table's data load follows it); the second may only be reported as
    // pg_restore exits, and is then measured after it (seen on a loaded machine: 1, not 2)
    expect(report.tablesCheckedDuringRestore).toBeGreaterThanOrEqual(1);
    expect(report.tablesCheckedDuringRestore).toBeLessThanOrEqual(2);
    expect(report.target).toBe(TARGET);
    expect(report.drillId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(report.cause).toBeUndefined();
    expect(report.checks.map((c) => c.name)).toEqual([
      'verify details.json.age',
      'backup identity',
      'verify globals.sql.age',
      'restore dump.zst.age',
      'rows public.invoice_items',
      'checksum public.invoice_items',
      'rows public.invoices',
      'checksum public.invoices',
      'user tables',
      'sequence public.invoices_id_seq',
      'assert totals add up',
      'assert has invoices',
      'pg_amcheck',
      'rto: whole drill',
      'rpo: age of the newest backup',
    ]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.checks.find((c) => c.name === 'rows public.invoices')).toEqual({
      name: 'rows public.invoices',
      ok: true,
      expected: 3000,
      actual: 3000,
    });
    expect(report.checks.find((c) => c.name === 'assert has invoices')).toEqual({
      name: 'assert has invoices',
      ok: true,
      expected: 'true',
      actual: 'true',
    });
    const s = report.seconds;
    expect(s.download).toBeGreaterThan(0);
    expect(s.download).toBeLessThanOrEqual(s.restore);
    expect(s.checks).toBeGreaterThan(0);
    expect(s.total).toBeGreaterThanOrEqual(s.restore + s.checks);
    expect(report.rpoSeconds).toBeCloseTo((Date.parse(report.finishedAt) - Date.parse(good.finishedAt)) / 1000, 1);
    // the scratch server is the test server as given (FAPIAO_GUARD_TEST_PG, with or without a port,
    // or the local one), database postgres, any password masked
    const server = new URL(serverUrl());
    server.pathname = '/postgres';
    if (server.password) server.password = '***';
    expect(report.scratch).toEqual({
      database: scratchDatabaseName(TARGET, report.drillId),
      server: server.toString(),
      kept: false,
    });

    // nothing left behind
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
    // the JSON report in the repository is the same report
    const stored = JSON.parse(await text(await t.repo.storage.load(`drills/${TARGET}/${report.drillId}.json`)));
    expect(stored).toEqual(JSON.parse(JSON.stringify(report)));
    expect(report.reportObject).toBe(`drills/${TARGET}/${report.drillId}.json`);
    // the HTML report: verdict first, checks, the trend chart, no external assets
    const html = await readFile(report.htmlReport!, 'utf8');
    expect(report.htmlReport).toBe(path.join(t.dir, 'reports', `drill-${TARGET}-${report.drillId}.html`));
    expect(html.indexOf('PASS')).toBeLessThan(html.indexOf('<h2>Checks'));
    expect(html).toContain('<td>checksum public.invoices</td>');
    expect(html).toContain('<svg viewBox=');
    expect(html).not.toMatch(/<(script|link)\b|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // and the history
    const row = await historyRow(state.url, report.drillId);
    expect(row).toMatchObject({ status: 'pass', backup_id: good.id, cause: null });
    expect(row.rto_seconds).toBeCloseTo(s.total, 3);
  });

  it('spools and restores with two parallel jobs when asked, with the same proof', async () => {
    const report = await drill({}, { jobs: 2 });
    expect(report.verdict).toBe('pass');
    expect(report.jobs).toBe(2);
    // at least one table measured while pg_restore ran (see the first test)
    expect(report.tablesCheckedDuringRestore).toBeGreaterThanOrEqual(1);
    expect(report.checks.filter((c) => c.name.startsWith('checksum ')).every((c) => c.ok)).toBe(true);
  });

  it('random:N picks among the last N complete backups; an incomplete backup is refused by id', async () => {
    const second = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    const lastTwo = (await t.repo.listBackups(TARGET))
      .filter((b) => b.status === 'complete')
      .slice(-2)
      .map((b) => b.id);
    expect(lastTwo.at(-1)).toBe(second.id);
    // the pick itself, many times (listing only, cheap): both and only the last two come up;
    // a chance of 2^-63 that one never does, where six whole drills failed once in 32 runs
    const seen = new Set<string>();
    for (let i = 0; i < 64; i++) seen.add((await pickBackup(t.repo, TARGET, { kind: 'random', among: 2 })).manifest.id);
    expect([...seen].sort()).toEqual([...lastTwo].sort());
    // and a whole drill with that pick drills one of them
    const picked = await drill({}, { pick: { kind: 'random', among: 2 } });
    expect(picked.verdict).toBe('pass');
    expect(lastTwo).toContain(picked.backupId);
    // the latest is the newest complete one; the RPO is measured against it
    const latest = await drill({}, { pick: { kind: 'id', id: good.id } });
    expect(latest.newestBackup.id).toBe(second.id);

    const incompleteId = '20200101T000000Z-dead';
    await t.repo.storage.save(
      `backups/${TARGET}/${incompleteId}/dump.zst.age`,
      (await import('node:stream')).Readable.from([Buffer.from('partial')]),
    );
    const err = await drill({}, { pick: { kind: 'id', id: incompleteId } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(
      `backup '${TARGET}/${incompleteId}' is incomplete (no manifest): it never finished and cannot be restored`,
    );
    await t.repo.storage.remove(`backups/${TARGET}/${incompleteId}/dump.zst.age`);
  });

  it('--keep keeps the scratch database, marked as kept so later drills leave it alone', async () => {
    const report = await drill({}, { pick: { kind: 'id', id: good.id }, keep: true });
    expect(report.verdict).toBe('pass');
    expect(report.scratch.kept).toBe(true);
    const url = withDatabase(serverUrl(), report.scratch.database);
    expect(await query(url, 'select count(*)::int as n from public.invoices')).toEqual([{ n: 3000 }]);
    const [row] = await query<{ comment: string }>(
      serverUrl(),
      "select shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1",
      [report.scratch.database],
    );
    expect(JSON.parse(row!.comment)).toMatchObject({
      tool: 'fapiao-guard drill',
      drillId: report.drillId,
      target: TARGET,
      backupId: good.id,
      kept: true,
      pid: process.pid,
    });
    // a later drill does not drop a kept database, however old
    const aged = JSON.stringify({ ...JSON.parse(row!.comment), createdAt: '2020-01-01T00:00:00.000Z' });
    await query(serverUrl(), `comment on database ${report.scratch.database} is '${aged}'`);
    await drill({}, { pick: { kind: 'id', id: good.id } });
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([report.scratch.database]);
    await query(serverUrl(), `drop database ${report.scratch.database} with (force)`);
  });
});

describe('failing drills name their cause in one line and leave no scratch database', () => {
  it('a corrupted object', async () => {
    const { repo, manifest, folder } = await copyRepo(t, 'corrupt', TARGET, good.id);
    const file = path.join(folder, 'dump.zst.age');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(file, bytes);
    const report = await drill({ repo }, { pick: { kind: 'id', id: manifest.id } });
    await expectFailedDrill(
      report,
      new RegExp(
        `^restore dump\\.zst\\.age: chunk \\d+ at byte \\d+ of 'backups/${TARGET}/${good.id}/dump\\.zst\\.age' failed authentication$`,
      ),
    );
    // the checks after a failed restore are not run: a half-restored database proves nothing
    expect(report.checks.map((c) => c.name)).toEqual([
      'verify details.json.age',
      'backup identity',
      'verify globals.sql.age',
      'restore dump.zst.age',
      'rto: whole drill',
      'rpo: age of the newest backup',
    ]);
  });

  it('a truncated object', async () => {
    const { repo, manifest, folder } = await copyRepo(t, 'truncated', TARGET, good.id);
    await truncate(
      path.join(folder, 'dump.zst.age'),
      Math.floor(manifest.objects.find((o) => o.name === 'dump.zst.age')!.size * 0.6),
    );
    const report = await drill({ repo }, { pick: { kind: 'id', id: manifest.id } });
    const size = manifest.objects.find((o) => o.name === 'dump.zst.age')!.size;
    await expectFailedDrill(
      report,
      new RegExp(
        `^restore dump\\.zst\\.age: size mismatch for 'backups/${TARGET}/${good.id}/dump\\.zst\\.age': expected ${size} bytes, got ${Math.floor(size * 0.6)} \\(truncated\\)$`,
      ),
    );
  });

  it('a wrong identity', async () => {
    const wrong = parseIdentities(generateIdentity().identity);
    const report = await drill({ identities: wrong }, { pick: { kind: 'id', id: good.id } });
    await expectFailedDrill(
      report,
      new RegExp(
        `^verify details\\.json\\.age: no identity matched any of the 1 recipient stanza\\(s\\) \\(X25519\\) in 'backups/${TARGET}/${good.id}/details\\.json\\.age' \\(and \\d+ more failed checks\\)$`,
      ),
    );
    expect(report.checks.find((c) => c.name === 'restore dump.zst.age')!.problem).toMatch(/^no identity matched/);
  });

  it('a failed assertion', async () => {
    const report = await drill(
      {
        drill: {
          assertions: [
            {
              name: 'no invoice over 10 yuan',
              sql: 'select count(*) from public.invoices where total_amount > 10',
              expect: 0,
            },
          ],
        },
      },
      { pick: { kind: 'id', id: good.id } },
    );
    await expectFailedDrill(report, /^assert no invoice over 10 yuan: expected 0, got 3000$/);
  });

  it('an assertion with an SQL error fails that assertion only', async () => {
    const report = await drill(
      { drill: { assertions: [{ name: 'typo', sql: 'select count(*) from public.invoicez', expect: 0 }] } },
      { pick: { kind: 'id', id: good.id } },
    );
    await expectFailedDrill(report, /^assert typo: error: relation "public\.invoicez" does not exist$/);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['assert typo']);
  });

  it('an RTO objective of 1 second (a slow assertion makes it certain)', async () => {
    const report = await drill(
      {
        drill: { rtoObjective: 1, assertions: [{ name: 'slow', sql: 'select true from pg_sleep(1.1)', expect: true }] },
      },
      { pick: { kind: 'id', id: good.id } },
    );
    await expectFailedDrill(report, /^rto: whole drill: expected ≤ 1\.0s, got \d+\.\ds$/);
    expect(report.seconds.total).toBeGreaterThan(1.1);
  });

  it('a backup whose details disagree with its data', async () => {
    const { repo, manifest } = await copyRepo(t, 'tampered', TARGET, good.id);
    await tamperDetails(t.config, repo, manifest, identities, (d) => {
      d.tables.find((x) => x.name === 'invoices')!.rows += 1;
    });
    const report = await drill({ repo }, { pick: { kind: 'id', id: good.id } });
    await expectFailedDrill(report, /^rows public\.invoices: expected 3001, got 3000$/);
  });

  it('keepOnFailure keeps the database of a failed drill only', async () => {
    const report = await drill(
      { drill: { assertions: [{ name: 'false', sql: 'select false', expect: true }] } },
      { pick: { kind: 'id', id: good.id }, keepOnFailure: true },
    );
    expect(report.verdict).toBe('fail');
    expect(report.scratch.kept).toBe(true);
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([report.scratch.database]);
    await query(serverUrl(), `drop database ${report.scratch.database} with (force)`);
  });
});

describe('the scratch server and cleanup', () => {
  it("refuses a scratch URL that is the target's own database, before creating anything", async () => {
    const err = await drill({ drill: { scratchUrl: source.url } }, { pick: { kind: 'id', id: good.id } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `refusing scratch URL '${source.url}': it is the target's own database '${source.name}'`,
    );
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
  });

  it('drops leftovers of crashed drills (old, or their process gone) and never a database it did not mark', async () => {
    const marker = (drillId: string, extra: Record<string, unknown>) =>
      JSON.stringify({
        tool: 'fapiao-guard drill',
        drillId,
        target: TARGET,
        backupId: good.id,
        createdAt: new Date().toISOString(),
        host: 'elsewhere',
        pid: 1,
        repository: t.repo.storage.location,
        kept: false,
        ...extra,
      });
    const { hostname } = await import('node:os');
    const make = async (drillId: string, comment?: string) => {
      const name = scratchDatabaseName(TARGET, drillId);
      await query(serverUrl(), `create database ${name}`);
      if (comment) await query(serverUrl(), `comment on database ${name} is '${comment}'`);
      return name;
    };
    const old = await make(
      '20200101T000000Z-0001',
      marker('20200101T000000Z-0001', { createdAt: '2020-01-01T00:00:00.000Z' }),
    );
    const deadPid = await make(
      '20200101T000000Z-0002',
      marker('20200101T000000Z-0002', { host: hostname(), pid: 2 ** 22 + 12345 }),
    );
    const foreignRecent = await make('20200101T000000Z-0003', marker('20200101T000000Z-0003', {}));
    const unmarked = await make('20200101T000000Z-0004');
    const copied = await make(
      '20200101T000000Z-0005',
      marker('20200101T000000Z-9999', { createdAt: '2020-01-01T00:00:00.000Z' }),
    );
    // an old leftover of another installation (another repository) on the same server
    const otherInstallation = await make(
      '20200101T000000Z-0006',
      marker('20200101T000000Z-0006', { createdAt: '2020-01-01T00:00:00.000Z', repository: 'file:///elsewhere/repo' }),
    );
    try {
      const report = await drill({}, { pick: { kind: 'id', id: good.id } });
      expect(report.verdict).toBe('pass');
      const left = await scratchDatabases(serverUrl(), TARGET);
      expect(left).not.toContain(old);
      expect(left).not.toContain(deadPid);
      expect(left.sort()).toEqual([foreignRecent, unmarked, copied, otherInstallation].sort());
    } finally {
      for (const name of [foreignRecent, unmarked, copied, otherInstallation])
        await query(serverUrl(), `drop database if exists ${name}`);
    }
  });

  it('an interrupt during the checks drops the scratch database and records the drill as interrupted', async () => {
    const controller = new AbortController();
    // a sleep no other checkout's test runs on the shared server: its query text finds ours only
    const sleep = `pg_sleep(120.${randomInt(100_000, 1_000_000)})`;
    const drilling = drill(
      {
        signal: controller.signal,
        drill: { assertions: [{ name: 'slow', sql: `select true from ${sleep}`, expect: true }] },
      },
      { pick: { kind: 'id', id: good.id } },
    );
    const running = drilling.catch((e: unknown) => e);
    const checking = `select 1 from pg_stat_activity where query like '%${sleep}%' and pid <> pg_backend_pid()`;
    await waitFor(
      'the slow assertion running',
      async () => ((await query(serverUrl(), checking)).length > 0 ? true : undefined),
      60_000,
      { abandon: watch(drilling, 'the drill') },
    );
    const started = Date.now();
    controller.abort(new InterruptedError('interrupted by SIGTERM'));
    const err = await running;
    // well before the assertion's 120 s: it was cancelled, not waited for (dropping the scratch
    // database waits for a checkpoint, seconds on a shared, busy server)
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^drill \\d{8}T\\d{6}Z-[0-9a-f]{4} of '${TARGET}' interrupted \\(interrupted by SIGTERM\\); scratch database 'fg_drill_${TARGET}_\\w+' dropped$`,
      ),
    );
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
    const drillId = /^drill (\S+)/.exec((err as Error).message)![1]!;
    expect(await historyRow(state.url, drillId)).toMatchObject({
      status: 'interrupted',
      cause: 'interrupted by SIGTERM',
    });
  });
});
