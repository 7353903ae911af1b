// Content checksums: PostgreSQL's record hash where it works, md5 of the row text where it does
// not (json columns, old servers); either way a one-cent change is caught.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { collectDetails, compareDetails } from '../../src/core/pg/details.js';
import { displayName } from '../../src/core/pg/identifier.js';
import { checkAgainstDetails, startDetailsCheck } from '../../src/drill/restore/restored-details.js';
import { resolveVerifyTables } from '../../src/core/pg/verify-tables.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createDatabase('details');
  await query(
    db.url,
    `create table public.inv (id int primary key, total numeric(14,2), issued timestamptz, note text)`,
  );
  await query(db.url, `create table public.raw (id int, payload json)`);
  await query(
    db.url,
    `insert into public.inv select i, i * 1.01, '2026-11-01 08:00+08'::timestamptz + i * interval '1 minute', 'n' || i from generate_series(1, 500) i`,
  );
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
    expect(checks.filter((c) => c.ok).map((c) => c.name)).toEqual([
      'rows public.inv',
      'rows public.raw',
      'user tables',
    ]);
  });

  it('hash checksums are not compared across PostgreSQL majors, and say so', () => {
    const expected = {
      format: 1 as const,
      database: 'x',
      serverVersion: '15.4',
      capturedAt: '',
      settings: {},
      tables: [{ schema: 'public', name: 't', rows: 1, checksum: '42', checksumMethod: 'hash' as const }],
    };
    const [rows, sum] = compareDetails(expected, {
      ...expected,
      serverVersion: '16.1',
      tables: [{ ...expected.tables[0]!, checksum: '43' }],
    });
    expect(rows!.ok).toBe(true);
    expect(sum).toEqual({
      name: 'checksum public.t',
      ok: true,
      expected: '42',
      actual: 'not comparable: hash checksum taken on PostgreSQL 15, restored on 16',
    });
    // md5 checksums are compared whatever the versions
    const md5 = { ...expected, tables: [{ ...expected.tables[0]!, checksumMethod: 'md5' as const }] };
    expect(
      compareDetails(md5, { ...md5, serverVersion: '16.1', tables: [{ ...md5.tables[0]!, checksum: '43' }] })[1]!.ok,
    ).toBe(false);
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
      const { shape: _shape, ...tablesOnly } = expected;
      const check = startDetailsCheck(
        db.url,
        { ...tablesOnly, tables: expected.tables.filter((t) => t.name === 'big') },
        { concurrency: 2, yieldPollMs: 20 },
      );
      check.ready({ kind: 'qualified', text: 'public.big' });
      // once our checksum is running, pg_restore's next step on that table needs an exclusive lock
      // (in this database: another checkout's same test may be running on the shared server)
      const measuring = `select 1 from pg_stat_activity where datname = current_database() and application_name = 'fapiao-guard restore-check' and state = 'active' and query like 'select count(*)%'`;
      await waitFor(
        'the measurement to start',
        async () => ((await client.query(measuring)).rows.length > 0 ? true : undefined),
        60_000,
        { pollMs: 5 },
      );
      await client.query('alter table public.big add primary key (id)');
      const checks = await check.finish();
      expect(check.yields).toBeGreaterThanOrEqual(1);
      expect(checks).toEqual([
        { name: 'rows public.big', ok: true, expected: 2000000, actual: 2000000 },
        {
          name: 'checksum public.big',
          ok: true,
          expected: expected.tables.find((t) => t.name === 'big')!.checksum,
          actual: expected.tables.find((t) => t.name === 'big')!.checksum,
        },
      ]);
    } finally {
      await client.end();
      await query(db.url, 'drop table public.big');
    }
  });
});

// The rest of the database: verifyTables as psql prints them, partitioned tables as a whole, and
// the shape (tables, partition tree, sequences, materialized views) a restored copy must keep.
describe('verifyTables and the shape of the database', () => {
  let shop: TestDatabase;
  beforeAll(async () => {
    shop = await createDatabase('shape');
    for (const sql of [
      `create schema billing`,
      `create table billing."TaxRate" ("Code" text primary key, "Rate" numeric(5,4))`,
      `insert into billing."TaxRate" values ('VAT13', 0.13), ('VAT6', 0.06)`,
      `create table public."发票 附件" (id serial primary key, name text)`,
      `insert into public."发票 附件" (name) select 'f' || g from generate_series(1, 30) g`,
      `create table billing.inv (id int, at date not null, total numeric) partition by range (at)`,
      `create table billing.inv_10 partition of billing.inv for values from ('2026-10-01') to ('2026-11-01')`,
      `create table billing.inv_11 partition of billing.inv for values from ('2026-11-01') to ('2026-12-01')`,
      `insert into billing.inv select g, case when g % 2 = 0 then date '2026-10-05' else date '2026-11-05' end + g % 20, g * 1.5 from generate_series(1, 200) g`,
      `create materialized view billing.per_day as select at, count(*) as n from billing.inv group by at`,
      `create materialized view billing.never as select 1 as x with no data`,
    ]) {
      await query(shop.url, sql);
    }
  });
  afterAll(async () => {
    await shop?.drop();
  });

  async function collect(verify: string[]) {
    const client = new pg.Client({ connectionString: shop.url });
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read, read only');
      return await collectDetails(client, verify);
    } finally {
      await client.end();
    }
  }

  it('takes quoted, mixed-case, non-ASCII and unqualified names, and measures a partitioned table as a whole', async () => {
    const d = await collect(['billing."TaxRate"', 'public."发票 附件"', 'billing.inv', '"发票 附件"']);
    expect(d.tables.map((t) => [displayName(t), t.rows, t.checksum !== undefined, t.partitioned ?? false])).toEqual([
      ['billing."TaxRate"', 2, true, false],
      ['billing.inv', 200, true, true],
      ['billing.inv_10', 100, false, false],
      ['billing.inv_11', 100, false, false],
      ['public."发票 附件"', 30, true, false],
    ]);
    expect(d.shape).toEqual({
      tables: ['billing."TaxRate"', 'billing.inv', 'billing.inv_10', 'billing.inv_11', 'public."发票 附件"'],
      partitions: [
        {
          partition: 'billing.inv_10',
          parent: 'billing.inv',
          bound: "FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')",
        },
        {
          partition: 'billing.inv_11',
          parent: 'billing.inv',
          bound: "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')",
        },
      ],
      sequences: [{ name: 'public."发票 附件_id_seq"', lastValue: '30' }],
      materializedViews: [
        { name: 'billing.never', rows: null },
        { name: 'billing.per_day', rows: 20 },
      ],
    });
    expect(
      compareDetails(d, await collect(['billing."TaxRate"', 'public."发票 附件"', 'billing.inv'])).every((c) => c.ok),
    ).toBe(true);
  });

  it('a partition added later is inside the parent’s checksum; a changed row in it fails the parent’s check', async () => {
    const before = await collect(['billing.inv']);
    await query(
      shop.url,
      `create table billing.inv_12 partition of billing.inv for values from ('2026-12-01') to ('2027-01-01')`,
    );
    await query(shop.url, `insert into billing.inv values (999, '2026-12-05', 1)`);
    try {
      // a stale view is counted as a restore rebuilds it: by its query
      const after = await collect(['billing.inv']);
      expect(after.tables.find((t) => t.name === 'inv')!.rows).toBe(201);
      expect(after.shape!.materializedViews).toContainEqual({ name: 'billing.per_day', rows: 21 });
      await query(shop.url, `refresh materialized view billing.per_day`);
      await query(shop.url, `update billing.inv set total = 2 where id = 999`);
      const checks = await checkAgainstDetails(shop.url, after, { concurrency: 2 });
      expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['checksum billing.inv']);
      // against the older details, the new partition is an extra table and an extra partition
      const old = (await checkAgainstDetails(shop.url, before, { concurrency: 2 })).filter((c) => !c.ok);
      expect(old.map((c) => [c.name, c.actual])).toEqual([
        ['rows billing.inv', 201],
        ['checksum billing.inv', expect.any(String)],
        ['user tables', 'extra: billing.inv_12'],
        ['partition billing.inv_12', "partition of billing.inv FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')"],
        ['materialized view billing.per_day', '21 rows'],
      ]);
    } finally {
      await query(shop.url, 'drop table billing.inv_12');
      await query(shop.url, `refresh materialized view billing.per_day`);
    }
  });

  it('a detached partition, a reset sequence, an emptied materialized view and an extra table each fail one check', async () => {
    const before = await collect(['billing.inv']);
    await query(shop.url, `alter table billing.inv detach partition billing.inv_11`);
    await query(shop.url, `select setval('public."发票 附件_id_seq"', 5)`);
    await query(shop.url, `create table public.stray (x int)`);
    await query(shop.url, `refresh materialized view billing.never`);
    try {
      const failed = (await checkAgainstDetails(shop.url, before, { concurrency: 2 })).filter((c) => !c.ok);
      expect(failed.map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`)).toEqual([
        'rows billing.inv: expected 200, got 100',
        `checksum billing.inv: expected ${before.tables.find((t) => t.name === 'inv')!.checksum}, got ${failed[1]!.actual}`,
        'user tables: expected 5 tables, got extra: public.stray',
        "partition billing.inv_11: expected partition of billing.inv FOR VALUES FROM ('2026-11-01') TO ('2026-12-01'), got not attached (a plain table)",
        'sequence public."发票 附件_id_seq": expected last value at least 30, got last value 5',
        'materialized view billing.never: expected not populated, got 1 rows',
      ]);
      await query(
        shop.url,
        `alter table billing.inv attach partition billing.inv_11 for values from ('2026-11-01') to ('2026-12-01')`,
      );
      await query(shop.url, `refresh materialized view billing.never with no data`);
      await query(shop.url, `drop table public.stray`);
      await query(shop.url, `delete from billing.inv where at >= '2026-11-01'`);
      await query(shop.url, `refresh materialized view billing.per_day`);
      await query(shop.url, `alter sequence public."发票 附件_id_seq" restart`);
      const again = (await checkAgainstDetails(shop.url, before, { concurrency: 2 }))
        .filter((c) => !c.ok)
        .map((c) => c.name);
      expect(again).toEqual([
        'rows billing.inv',
        'checksum billing.inv',
        'rows billing.inv_11',
        'sequence public."发票 附件_id_seq"',
        'materialized view billing.per_day',
      ]);
    } finally {
      await query(shop.url, `select setval('public."发票 附件_id_seq"', 30)`);
    }
  });

  it('details from before the shape was recorded are still compared (tables only)', async () => {
    const { shape: _shape, ...old } = await collect([]);
    expect(compareDetails(old, old).map((c) => c.name)).toEqual(old.tables.map((t) => `rows ${displayName(t)}`));
  });

  it('a wrong entry is refused with the way to write it', async () => {
    const client = new pg.Client({ connectionString: shop.url });
    await client.connect();
    try {
      await expect(resolveVerifyTables(client, ['billing.TaxRate'])).rejects.toThrow(
        /verify table 'billing.TaxRate' not found in database 'fgt_shape_\w+'/,
      );
      await expect(resolveVerifyTables(client, ['billing.TaxRate'])).rejects.toMatchObject({
        exitCode: 2,
        hint: expect.stringContaining('did you mean billing."TaxRate"?'),
      });
      await expect(resolveVerifyTables(client, ['inv'])).rejects.toMatchObject({
        message: expect.stringContaining('not found on the search_path'),
        hint: expect.stringContaining('did you mean billing.inv?'),
      });
      await expect(resolveVerifyTables(client, ['billing.per_day'])).rejects.toThrow(
        /is a materialized view, not a table/,
      );
      await expect(resolveVerifyTables(client, ['billing.inv', 'x.y', 'z'])).rejects.toThrow(
        /'x.y' not found .* \(and 1 more verifyTables entry\)/,
      );
      expect(await resolveVerifyTables(client, ['BILLING.INV', '"billing"."inv"'])).toEqual([
        { schema: 'billing', name: 'inv', partitioned: true },
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('tables whose hash would change in a restored copy', () => {
  it("checksums a table with an enum (also inside an array or domain) by text, so a restore's new OIDs cannot fail it", async () => {
    const d = await createDatabase('enumhash');
    try {
      await query(d.url, `create type st as enum ('a', 'b')`);
      await query(d.url, `create domain st_d as st`);
      await query(d.url, `create table public.plain (id int, s text)`);
      await query(d.url, `create table public.e (id int, s st)`);
      await query(d.url, `create table public.arr (id int, s st[])`);
      await query(d.url, `create table public.dom (id int, s st_d)`);
      const client = new pg.Client({ connectionString: d.url });
      await client.connect();
      try {
        await client.query('begin isolation level repeatable read, read only');
        const got = await collectDetails(client, ['plain', 'e', 'arr', 'dom']);
        expect(Object.fromEntries(got.tables.map((t) => [t.name, t.checksumMethod]))).toEqual({
          plain: 'hash',
          e: 'md5',
          arr: 'md5',
          dom: 'md5',
        });
      } finally {
        await client.end();
      }
    } finally {
      await d.drop();
    }
  });
});
