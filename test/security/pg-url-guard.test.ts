// Issue 10 item 1: the restore/drill source guard cannot be bypassed through connection
// parameters. node-pg and libpq read a URL differently; every URL is now parsed once with
// libpq's meaning, redirecting parameters are refused, and the pg_* tools get exactly what the
// guard checked (real PostgreSQL, real pg_dump/pg_restore).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';
import { UsageError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { libpqInvocation, withDatabase } from '../../src/core/pg/connect.js';
import { parsePgUrl } from '../../src/core/pg/conninfo.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { isSourceOfBackup } from '../../src/drill/restore/target-guard.js';
import {
  type TestDatabase,
  createDatabase,
  createSampleDatabase,
  databaseUrl,
  query,
  serverUrl,
} from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

const logger = silentLogger();
const env = {}; // no PG* variables: the defaults are what the tests expect

describe('PostgreSQL URLs parsed with libpq semantics', () => {
  it('reads ?dbname=, ?host=, ?port=, sockets, IPv6 and percent-encoding the way libpq does', () => {
    expect(parsePgUrl('postgres://u@h:6543/?dbname=invoices', env)).toMatchObject({
      host: 'h',
      port: 6543,
      database: 'invoices',
      user: 'u',
    });
    expect(parsePgUrl('postgresql://u@/db?host=/var/run/postgresql&port=5433', env)).toMatchObject({
      host: '/var/run/postgresql',
      port: 5433,
      database: 'db',
    });
    expect(parsePgUrl('postgres://u:p%40ss%2Fw@[::1]:5432/d%C3%A9', env)).toMatchObject({
      host: '::1',
      password: 'p@ss/w',
      database: 'dé',
    });
    expect(parsePgUrl('postgres://u@h/db?password=x&sslmode=require', env)).toMatchObject({
      password: 'x',
      params: { sslmode: 'require' },
    });
    expect(parsePgUrl('postgres://h', env).port).toBe(5432);
  });

  it.each([
    ['a database both in the path and ?dbname=', 'postgres://u@h/scratch?dbname=invoices', /dbname/],
    ['hostaddr', 'postgres://u@scratch-host/db?hostaddr=10.0.0.5', /hostaddr/],
    ['a service entry', 'postgres://u@h/db?service=prod', /service/],
    ['a host list', 'postgres://u@h1:5432,h2:5432/db', /hosts in a list/],
    ['a host list in ?host=', 'postgres://u@/db?host=h1,h2', /list/],
    ['a host in both places', 'postgres://u@h1/db?host=h2', /host/],
    ['sslpassword (it would land in argv)', 'postgres://u@h/db?sslpassword=x', /sslpassword/],
    ['an unknown parameter', 'postgres://u@h/db?foo=bar', /unknown parameter 'foo'/],
    ['a database name libpq would expand', 'postgres://u@h/host%3Dother', /connection string/],
  ])('refuses %s (exit 2, names it)', (_what, url, message) => {
    let error: unknown;
    try {
      parsePgUrl(url, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses such URLs at config time, naming the key', () => {
    const doc = (url: string, scratchUrl: string) =>
      JSON.stringify({
        repository: { url: 'file:///tmp/x' },
        encryption: { recipients: [generateIdentity().recipient] },
        targets: [{ name: 'a', url }],
        drill: { scratchUrl },
      });
    expect(() => parseConfig(doc('postgres://u@h/a?service=prod', 'postgres://u@h/postgres'), {}, 'x.yaml')).toThrow(
      /targets\[0\]\.url: parameter 'service' is not accepted/,
    );
    expect(() => parseConfig(doc('postgres://u@h/a', 'postgres://u@h/postgres?dbname=a'), {}, 'x.yaml')).toThrow(
      /drill\.scratchUrl: 'dbname' is given both/,
    );
  });

  it('gives the tools the parsed connection, not the URL (a scratch URL keeps no ?dbname=)', () => {
    const scratch = withDatabase('postgres://postgres@127.0.0.1:5432/?dbname=invoices', 'fg_drill_x');
    const { dbnameArg } = libpqInvocation(scratch);
    expect(dbnameArg).toContain("dbname='fg_drill_x'");
    expect(dbnameArg).not.toContain('invoices');
    expect(libpqInvocation('postgres://postgres@127.0.0.1:5432/a?dbname=a').dbnameArg).toBe(
      "--dbname=host='127.0.0.1' port='5432' dbname='a' user='postgres'",
    );
  });

  it('the host/port fallback compares what libpq connects to, not the URL text', () => {
    const manifest = { database: 'invoices', server: { version: '15' } } as Manifest;
    const facts = { database: 'invoices', userTables: 0 };
    expect(
      isSourceOfBackup(
        manifest,
        facts,
        'postgres://u@/invoices?host=127.0.0.1&port=5432',
        'postgres://u@127.0.0.1:5432/invoices',
      ),
    ).toBe(true);
  });
});

describe('restore and drill guards against redirecting URLs', () => {
  let source: TestDatabase;
  let scratch: TestDatabase;
  let t: TestRepo;
  let manifest: Manifest;

  beforeAll(async () => {
    source = await createSampleDatabase('urlguard', 300);
    scratch = await createDatabase('urlguard_to');
    t = await createTestRepo({ targets: [{ name: 'invoices', url: source.url }] });
    const { id } = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    manifest = await t.repo.resolve('invoices', id);
    // written after the backup: a restore onto the source would lose it
    await query(
      source.url,
      `insert into public.invoices (invoice_code, invoice_number, kind, issued_at, seller_tax_id, seller_name, buyer_name, amount, tax_rate, tax_amount, total_amount)
      values ('X', 'after-backup', 'normal', now(), '91310000000000000X', 's', 'b', 1, 0.13, 0.13, 1.13)`,
    );
  });

  afterAll(async () => {
    await Promise.all([source?.drop(), scratch?.drop()]);
    await t?.cleanup();
  });

  it('refuses `--to …/scratch?dbname=<source> --clean` and leaves the source untouched', async () => {
    const before = await query<{ n: string }>(source.url, 'select count(*)::text as n from public.invoices');
    const to = `${databaseUrl(scratch.name)}?dbname=${source.name}`;
    const identities = await loadIdentities(t.config);
    await expect(
      runRestore({ config: t.config, repo: t.repo, logger, identities }, t.config.targets[0]!, manifest, {
        to,
        jobs: 1,
        clean: true,
      }),
    ).rejects.toThrow(UsageError);
    const after = await query<{ n: string }>(source.url, 'select count(*)::text as n from public.invoices');
    expect(after).toEqual(before);
  });

  it('refuses `--to ?dbname=<source>` (no path) as the source itself, by what the server says', async () => {
    const to = `${serverUrl().replace(/\/[^/]*$/, '')}/?dbname=${source.name}`;
    const identities = await loadIdentities(t.config);
    await expect(
      runRestore({ config: t.config, repo: t.repo, logger, identities }, t.config.targets[0]!, manifest, {
        to,
        jobs: 1,
        clean: true,
      }),
    ).rejects.toThrow(/own source database/);
  });
});
