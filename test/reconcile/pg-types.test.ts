// A postgres side reads the column types invoice systems use (issue 8), checked against the same
// invoices in the demo's shape: ISO text issue times (with and without an offset), the key in one
// combined `code-number` column, integer fen, a boolean status, a schema-qualified quoted table
// with mixed case and spaces. Equal invoices give no difference; planted ones give exact findings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/reconcile/engine/classify.js';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { PgSource } from '../../src/reconcile/sources/pg-source.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';
import { TEST_NOW } from './helpers.js';

let db: TestDatabase;
const window = { from: '2026-11-01', to: '2026-11-27', timezone: 'Asia/Shanghai' };

beforeAll(async () => {
  db = await createDatabase('rec_types');
  await query(
    db.url,
    `create table public.plain (code text, number text, issued_at timestamptz, total numeric(14,2), status text);
     insert into public.plain
       select '031000000001', lpad(g::text, 8, '0'), timestamptz '2026-11-01 09:00+08' + g * interval '97 minutes', (1000 + g * 37) / 100.0,
              case when g % 9 = 0 then 'voided' else 'valid' end
       from generate_series(1, 300) g;
     create schema "Billing Dept";
     create table "Billing Dept"."Odd Invoices" ("Key" text, "Issued" text, "TotalFen" bigint, "Void" boolean);
     -- every third issue time in UTC with an offset, the rest as Shanghai wall-clock text
     insert into "Billing Dept"."Odd Invoices"
       select code || '-' || number,
              case when row_number() over () % 3 = 0 then to_char(issued_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                   else to_char(issued_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') end,
              (total * 100)::bigint, status = 'voided'
       from public.plain;`,
  );
});

afterAll(async () => {
  await db?.drop();
});

const openPlain = () =>
  PgSource.open({
    url: db.url,
    table: 'public.plain',
    columns: { code: 'code', number: 'number', issuedAt: 'issued_at', total: 'total', status: 'status' },
    statusMap: { valid: 'valid', voided: 'voided' },
    timezone: 'Asia/Shanghai',
  });
const openOdd = () =>
  PgSource.open({
    url: db.url,
    table: '"Billing Dept"."Odd Invoices"',
    columns: { number: 'Key', issuedAt: 'Issued', total: 'TotalFen', status: 'Void' },
    statusMap: { false: 'valid', true: 'voided' },
    amountUnit: 'fen',
    timezone: 'Asia/Shanghai',
  });

describe('postgres column types', () => {
  it('ISO text times, a combined key column, integer fen and a boolean status read as the plain table', async () => {
    const [a, b] = await Promise.all([openPlain(), openOdd()]);
    try {
      const result = await compareSources(a, b, { window, partition: false, limits: { listLimit: 20, maxPrefix: 8 } });
      expect(result.days.length).toBeGreaterThan(15);
      expect(result.diffs).toEqual([]);
      await query(
        db.url,
        `update "Billing Dept"."Odd Invoices" set "TotalFen" = "TotalFen" + 1 where "Key" = '031000000001-00000010';
                           update "Billing Dept"."Odd Invoices" set "Void" = true where "Key" = '031000000001-00000011';
                           delete from "Billing Dept"."Odd Invoices" where "Key" = '031000000001-00000012'`,
      );
      const again = await compareSources(a, b, { window, partition: false, limits: { listLimit: 20, maxPrefix: 8 } });
      expect(classify(again.diffs, { now: TEST_NOW, syncLagSeconds: 0 }).map((f) => `${f.kind} ${f.key}`)).toEqual([
        'missing 031000000001-00000012',
        'amount_mismatch 031000000001-00000010',
        'status_mismatch 031000000001-00000011',
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('refuses a text issue time that is not a time with a one-line error naming the value', async () => {
    await query(
      db.url,
      `insert into "Billing Dept"."Odd Invoices" values ('031000000001-99999999', 'yesterday-ish', 100, false)`,
    );
    const [a, b] = await Promise.all([openPlain(), openOdd()]);
    try {
      await expect(compareSources(a, b, { window, partition: false })).rejects.toThrow(
        /invalid input syntax for type timestamp: "yesterday-ish"/,
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
      await query(db.url, `delete from "Billing Dept"."Odd Invoices" where "Key" = '031000000001-99999999'`);
    }
  });
});
