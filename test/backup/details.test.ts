// Content checksums: PostgreSQL's record hash where it works, md5 of the row text where it does
// not (json columns, old servers); either way a one-cent change is caught.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { collectDetails, compareDetails } from '../../src/pg/details.js';
import { checkAgainstDetails, startDetailsCheck } from '../../src/pg/restored-details.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createDatabase('details');
  await query(db.url, `create table public.inv (id int primary key, total numeric(14,2), issued timestamptz, note text)`);
  await query(db.url, `create table public.raw (id int, payload json)`);
  await query(db.url, `insert into public.inv select i, i * 1.01, '2026-11-01 08:00+08'::timestamptz + i * interval '1 minute', 'n' || i from generate_series(1, 500) i`);
  await query(db.url, `insert into public.raw select i, json_build_object('i', i) from generate_series(1, 50) i`);
});
afterAll(async () => {
  await db?.drop();
});

async function details() {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read, read only');
    return await collectDetails(client, ['public.inv', 'public.raw']);
  } finally {
    await client.end();
  }
}

describe('content checksums', () => {
  it("uses 'hash' where types can hash and falls back to 'md5' for json", async () => {
    const d = await details();
    expect(d.tables.map((t) => [t.name, t.rows, t.checksumMethod])).toEqual([
      ['inv', 500, 'hash'],
      ['raw', 50, 'md5'],
    ]);
    expect(compareDetails(d, await details()).every((c) => c.ok)).toBe(true);
  });

  it('a restored copy that differs by one cent, or in a json value, fails exactly those checks', async () => {
    const before = await details();
    await query(db.url, 'update public.inv set total = total + 0.01 where id = 250');
    await query(db.url, `update public.raw set payload = '{"i": 999}' where id = 7`);
    const checks = await checkAgainstDetails(db.url, before, { concurrency: 2 });
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['checksum public.inv', 'checksum public.raw']);
    expect(checks.filter((c) => c.ok).map((c) => c.name)).toEqual(['rows public.inv', 'rows public.raw']);
  });

  it('hash checksums are not compared across PostgreSQL majors, and say so', () => {
    const expected = { format: 1 as const, database: 'x', serverVersion: '15.4', capturedAt: '', settings: {}, tables: [{ schema: 'public', name: 't', rows: 1, checksum: '42', checksumMethod: 'hash' as const }] };
    const [rows, sum] = compareDetails(expected, { ...expected, serverVersion: '16.1', tables: [{ ...expected.tables[0]!, checksum: '43' }] });
    expect(rows!.ok).toBe(true);
    expect(sum).toEqual({ name: 'checksum public.t', ok: true, expected: '42', actual: 'not comparable: hash checksum taken on PostgreSQL 15, restored on 16' });
    // md5 checksums are compared whatever the versions
    const md5 = { ...expected, tables: [{ ...expected.tables[0]!, checksumMethod: 'md5' as const }] };
    expect(compareDetails(md5, { ...md5, serverVersion: '16.1', tables: [{ ...md5.tables[0]!, checksum: '43' }] })[1]!.ok).toBe(false);
  });

  it('a measurement during the restore never holds up a restore step: it yields to ADD PRIMARY KEY and is done after it', async () => {
    // a table big enough that its checksum runs ~0.5 s on one process
    await query(db.url, 'create table public.big as select g as id, g::text as v from generate_series(1, 2000000) g');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read, read only');
      const expected = await collectDetails(client, ['public.big']);
      await client.query('commit');
      const check = startDetailsCheck(db.url, { ...expected, tables: expected.tables.filter((t) => t.name === 'big') }, { concurrency: 2, yieldPollMs: 20 });
      check.ready({ kind: 'qualified', text: 'public.big' });
      // once our checksum is running, pg_restore's next step on that table needs an exclusive lock
      // (in this database: another checkout's same test may be running on the shared server)
      const measuring = `select 1 from pg_stat_activity where datname = current_database() and application_name = 'fapiao-guard restore-check' and state = 'active' and query like 'select count(*)%'`;
      await waitFor('the measurement to start', async () => ((await client.query(measuring)).rows.length > 0 ? true : undefined), 60_000, { pollMs: 5 });
      await client.query('alter table public.big add primary key (id)');
      const checks = await check.finish();
      expect(check.yields).toBeGreaterThanOrEqual(1);
      expect(checks).toEqual([
        { name: 'rows public.big', ok: true, expected: 2000000, actual: 2000000 },
        { name: 'checksum public.big', ok: true, expected: expected.tables.find((t) => t.name === 'big')!.checksum, actual: expected.tables.find((t) => t.name === 'big')!.checksum },
      ]);
    } finally {
      await client.end();
      await query(db.url, 'drop table public.big');
    }
  });
});
