// The matrix fixture itself: every schema builds on an empty database, its canonical view has one
// row per seeded invoice with distinct keys, and its evolution statements apply.
import { afterAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/pg.js';
import { SCHEMA_MATRIX } from './schemas.js';

const created: TestDatabase[] = [];
afterAll(async () => {
  for (const db of created) await db.drop();
});

describe.each(SCHEMA_MATRIX.map((s) => [s.id, s] as const))('schema %s', (_id, schema) => {
  test('builds, seeds and evolves', async () => {
    const db = await createDatabase(`sm_${schema.id}`);
    created.push(db);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const sql of schema.setup(500)) await client.query(sql);
      const { rows } = await client.query<{ n: string; keys: string; fen: string; first: Date; last: Date }>(
        `select count(*) as n, count(distinct key) as keys, sum(total_fen) as fen, min(issued_at) as first, max(issued_at) as last from (${schema.canonicalSql}) c`,
      );
      expect(rows[0]).toMatchObject({ n: '500', keys: '500' });
      expect(Number(rows[0]!.fen)).toBeGreaterThan(500 * 1000);
      expect(rows[0]!.first.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-10-01T00:00:00+08:00'));
      expect(rows[0]!.last.getTime()).toBeLessThan(Date.parse('2026-11-28T00:00:00+08:00'));
      // 金额 + 税额 = 价税合计 on every row, and a seller everywhere (reconcile compares all three)
      const split = await client.query<{ bad: string; sellers: string }>(
        `select count(*) filter (where amount_fen + tax_fen <> total_fen) as bad, count(seller) as sellers from (${schema.canonicalSql}) c`,
      );
      expect(split.rows[0]).toEqual({ bad: '0', sellers: '500' });
      for (const sql of schema.evolve ?? []) await client.query(sql);
    } finally {
      await client.end();
    }
  });
});
