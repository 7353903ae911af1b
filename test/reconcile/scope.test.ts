// Findings are kept per scope (the two sides). A scope names where the sides are, never who reads
// them: adding a password to a URL, or another user, must not start a second set of findings.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileScope } from '../../src/reconcile/findings/findings-store.js';
import { migrate } from '../../src/core/state/migrate.js';
import { MIGRATIONS } from '../../src/core/state/migrations/index.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createDatabase('scope');
});
afterAll(async () => {
  await db?.drop();
});

describe('reconcile scope', () => {
  it('drops the user and password of every URL in it, and keeps everything else', () => {
    const upstream = 'http:https://tax.example/api?tenant=7&token=***';
    const a = reconcileScope('postgres://postgres:***@127.0.0.1:5432/inv public.invoices', upstream);
    const b = reconcileScope('postgres://postgres@127.0.0.1:5432/inv public.invoices', upstream);
    const c = reconcileScope('postgres://reader@127.0.0.1:5432/inv public.invoices', upstream);
    expect(a).toBe('postgres://127.0.0.1:5432/inv public.invoices <- http:https://tax.example/api?tenant=7&token=***');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(reconcileScope('postgres://127.0.0.1:5432/other public.invoices', 'file:./exports/*.xlsx')).toBe(
      'postgres://127.0.0.1:5432/other public.invoices <- file:./exports/*.xlsx',
    );
  });

  it('migration 5 renames old scopes and merges the copies one finding got under two of them', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await migrate(
        client,
        MIGRATIONS.filter((m) => m.version <= 4),
      );
      const withPassword = 'postgres://postgres:***@127.0.0.1:5432/inv public.invoices <- file:x.csv';
      const withoutPassword = 'postgres://postgres@127.0.0.1:5432/inv public.invoices <- file:x.csv';
      const insert = `insert into fapiao_guard.reconcile_findings (scope, fingerprint, kind, key, details, first_seen, last_seen, first_run, last_run, times_seen)
                      values ($1, $2, 'missing', $2, '{}', $3, $4, 'r1', 'r2', $5)`;
      await client.query(insert, [withPassword, 'k1', '2026-11-01T00:00:00Z', '2026-11-03T00:00:00Z', 3]);
      await client.query(insert, [withoutPassword, 'k1', '2026-11-02T00:00:00Z', '2026-11-05T00:00:00Z', 2]);
      await client.query(insert, [withPassword, 'k2', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 1]);
      await client.query(
        `insert into fapiao_guard.reconcile_runs (id, scope, started_at, finished_at, window_from, window_to, upstream, local, summary, ok)
         values ('r1', $1, now(), now(), '2026-11-01', '2026-11-05', '{}', '{}', '{}', true)`,
        [withPassword],
      );
      // from version 4: migration 5 and every later one, in order
      expect(await migrate(client, MIGRATIONS)).toEqual(MIGRATIONS.filter((m) => m.version >= 5).map((m) => m.version));
    } finally {
      await client.end();
    }
    const scope = 'postgres://127.0.0.1:5432/inv public.invoices <- file:x.csv';
    const rows = await query(
      db.url,
      `select scope, fingerprint, times_seen, to_char(first_seen at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as first_seen, to_char(last_seen at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as last_seen from fapiao_guard.reconcile_findings order by fingerprint`,
    );
    expect(rows).toEqual([
      { scope, fingerprint: 'k1', times_seen: 5, first_seen: '2026-11-01 00:00', last_seen: '2026-11-05 00:00' },
      { scope, fingerprint: 'k2', times_seen: 1, first_seen: '2026-11-01 00:00', last_seen: '2026-11-01 00:00' },
    ]);
    expect(await query(db.url, 'select scope from fapiao_guard.reconcile_runs')).toEqual([{ scope }]);
  });
});
