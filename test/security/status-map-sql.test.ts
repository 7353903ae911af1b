// Issue 10 item 14: the configured statusMap reaches SQL as bind parameters, so a key with a
// backslash or a quote means the same under standard_conforming_strings=off (a server or
// database setting we do not control) as under the default. Real PostgreSQL, both hash methods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteLiteral } from '../../src/core/pg/connect.js';
import { PgSource } from '../../src/reconcile/sources/pg-source.js';
import { DEFAULT_LOCAL_COLUMNS } from '../../src/reconcile/reconcile-config.js';
import { type TestDatabase, createSampleDatabase, query } from '../helpers/pg.js';

let db: TestDatabase;
const MAP = { '0': 'valid', 'x\\': 'voided', "it's": 'red_flushed', "\\'; select 1; --": 'abnormal' };
let keys: { backslash: string; quote: string; hostile: string };

beforeAll(async () => {
  db = await createSampleDatabase('statusmap', 200);
  await query(
    db.url,
    'alter table public.invoices alter column status drop default, alter column status type text using status::text',
  );
  const key = async (id: number, status: string): Promise<string> => {
    const [row] = await query<{ k: string }>(
      db.url,
      `update public.invoices set status = $2 where id = $1 returning coalesce(invoice_code || '-', '') || invoice_number as k`,
      [id, status],
    );
    return row!.k;
  };
  keys = { backslash: await key(11, 'x\\'), quote: await key(12, "it's"), hostile: await key(13, "\\'; select 1; --") };
  await query(db.url, `alter database ${db.name} set standard_conforming_strings = off`);
});

afterAll(async () => {
  await db?.drop();
});

async function measure() {
  const src = await PgSource.open({
    url: db.url,
    table: 'public.invoices',
    columns: DEFAULT_LOCAL_COLUMNS,
    statusMap: MAP,
    timezone: 'Asia/Shanghai',
  });
  try {
    const found = await src.lookup([keys.backslash, keys.quote, keys.hostile]);
    const statusOf = (k: string) => found.find((i) => `${i.code ? `${i.code}-` : ''}${i.number}` === k)?.status;
    const window = { from: '2026-01-01', to: '2026-12-31', timezone: 'Asia/Shanghai' };
    const md5 = (await src.windowDigests(window, false, 'md5')).days;
    const pgHash = (await src.windowDigests(window, false, 'pg-hash')).days;
    return { statuses: [statusOf(keys.backslash), statusOf(keys.quote), statusOf(keys.hostile)], md5, pgHash };
  } finally {
    await src.close();
  }
}

describe('statusMap keys under standard_conforming_strings=off', () => {
  it('maps keys with a backslash or a quote, and digests equal those under the default setting', async () => {
    expect(await query(db.url, 'show standard_conforming_strings')).toEqual([{ standard_conforming_strings: 'off' }]);
    const off = await measure();
    expect(off.statuses).toEqual(['voided', 'red_flushed', 'abnormal']);
    expect(off.md5.reduce((s, d) => s + d.count, 0)).toBe(200);
    await query(db.url, `alter database ${db.name} set standard_conforming_strings = on`);
    const on = await measure();
    expect(on).toEqual(off);
  });
});

describe('quoteLiteral (COMMENT ON takes no bind parameters)', () => {
  it('reads back the same text under standard_conforming_strings off and on', async () => {
    const text = `{"repo":"C:\\\\fg\\\\it's","n":"\\n"}`;
    for (const setting of ['off', 'on']) {
      await query(db.url, `alter database ${db.name} set standard_conforming_strings = ${setting}`);
      const [row] = await query<{ t: string; scs: string }>(
        db.url,
        `select ${quoteLiteral(text)} as t, current_setting('standard_conforming_strings') as scs`,
      );
      expect(row, setting).toEqual({ t: text, scs: setting });
    }
  });
});
