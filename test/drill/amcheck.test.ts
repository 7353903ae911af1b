// drill.amcheck end to end: pg_amcheck catches a B-tree index that is out of order in the restored
// scratch database, and a drill asked to run pg_amcheck where it is not installed does not pass.
//
// The damaged index: an operator class whose comparison function is declared immutable but is not:
// it orders ascending when the session's search_path is empty (as in pg_restore's session, where the
// index is built) and descending otherwise (as in pg_amcheck's). The index pg_restore builds is
// therefore out of order for every other session: the same damage a changed collation (a glibc
// upgrade) does to a text index, and what bt_index_check's "item order invariant" exists to find.
// Corrupting index pages on disk instead would need the server's data directory, which a test
// against a server elsewhere (FAPIAO_GUARD_TEST_PG) does not have.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { amcheckCheck, findAmcheck } from '../../src/drill/drill-checks.js';
import { causeOf, verdictOf } from '../../src/drill/drill-report.js';
import { runDrill } from '../../src/drill/drill.js';
import { silentLogger } from '../../src/core/logger.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { drillConfig, scratchDatabases } from './helpers.js';

const logger = silentLogger();
const TARGET = 'amchecked';
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let serverMajor: string;

beforeAll(async () => {
  source = await createSampleDatabase('amck', 300);
  state = await createDatabase('amck_state');
  await query(
    source.url,
    `create function public.fg_session_cmp(a int, b int) returns int language plpgsql immutable as $$
     begin
       if current_setting('search_path') = '' then return btint4cmp(a, b); end if;
       return btint4cmp(b, a);
     end $$;
     create operator class public.fg_session_ops for type int using btree as
       operator 1 <, operator 2 <=, operator 3 =, operator 4 >=, operator 5 >, function 1 public.fg_session_cmp(int, int);
     create table public.session_sorted (n int not null);
     insert into public.session_sorted select g from generate_series(1, 2000) g;
     create index session_sorted_n on public.session_sorted (n public.fg_session_ops);`,
  );
  t = await createTestRepo({ targets: [{ name: TARGET, url: source.url }] });
  await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  serverMajor = (
    await query<{ v: string }>(source.url, `select current_setting('server_version_num') as v`)
  )[0]!.v.slice(0, 2);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const name of await scratchDatabases(serverUrl(), TARGET))
    await query(serverUrl(), `drop database if exists ${name} with (force)`);
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('drill.amcheck', () => {
  it('a restored B-tree index out of order is caught by pg_amcheck: the drill fails naming the index', async () => {
    expect(findAmcheck(serverMajor), 'pg_amcheck (postgresql-client) is needed for this test').toBeDefined();
    const report = await runDrill(
      {
        config: drillConfig(t, state.url, { amcheck: true }),
        repo: t.repo,
        logger,
        identities: await loadIdentities(t.config),
        progress: false,
      },
      t.config.targets[0]!,
    );
    const check = report.checks.find((c) => c.name === 'pg_amcheck')!;
    expect(check).toMatchObject({ ok: false });
    expect(check.problem).toMatch(/item order invariant violated for index "session_sorted_n"/);
    expect(report.verdict).toBe('fail');
    expect(report.cause).toMatch(/^pg_amcheck: .*session_sorted_n/);
    // everything else about the backup is fine: only pg_amcheck failed
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['pg_amcheck']);
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
  });

  it('the same drill without amcheck passes (the damage is only visible to pg_amcheck)', async () => {
    const report = await runDrill(
      {
        config: drillConfig(t, state.url, { amcheck: false }),
        repo: t.repo,
        logger,
        identities: await loadIdentities(t.config),
        progress: false,
      },
      t.config.targets[0]!,
    );
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.verdict).toBe('pass');
  });

  it('where pg_amcheck is not installed, the check is "not run" and fails the drill, naming the package', async () => {
    // a machine without pg_amcheck: nothing on PATH, and a server major with no Debian directory
    vi.stubEnv('PATH', '/nonexistent');
    const check = await amcheckCheck(source.url, '99.1');
    vi.unstubAllEnvs();
    expect(check).toEqual({
      name: 'pg_amcheck',
      ok: false,
      expected: 'no corruption',
      actual: 'not run: pg_amcheck not installed',
      problem:
        'not run: pg_amcheck not found on PATH or in /usr/lib/postgresql/99/bin (install postgresql-client-99, or set drill.amcheck: false)',
    });
    expect(verdictOf([{ name: 'restore dump.zst.age', ok: true, expected: 'ok', actual: 'ok' }, check])).toBe('fail');
    expect(causeOf([check])).toBe(
      'pg_amcheck: not run: pg_amcheck not found on PATH or in /usr/lib/postgresql/99/bin (install postgresql-client-99, or set drill.amcheck: false)',
    );
  });
});
