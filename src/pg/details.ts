// Per-table row counts and order-independent content checksums, taken inside the backup's
// snapshot and again after a restore, so a restore can be proven equal to the source.
// Checksum: sum of a 60-bit slice of md5(row::text) per row (data-diff's method), computed
// with fixed output settings so that the text form of every value is the same everywhere.
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import { quoteIdent } from './connect.js';

export interface TableDetail {
  schema: string;
  name: string;
  rows: number;
  /** decimal string (it exceeds 2^53); only for configured verify tables */
  checksum?: string;
}

export interface BackupDetails {
  format: 1;
  database: string;
  serverVersion: string;
  capturedAt: string;
  settings: Record<string, string>;
  tables: TableDetail[];
}

/** Output settings that make row::text identical on the source and on a restored copy. */
export const CHECKSUM_SETTINGS: Record<string, string> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
};

export async function applyChecksumSettings(client: pg.Client): Promise<void> {
  for (const [name, value] of Object.entries(CHECKSUM_SETTINGS)) {
    await client.query('select set_config($1, $2, true)', [name, value]);
  }
}

export function checksumSql(schema: string, table: string): string {
  return `select count(*)::bigint as rows,
    coalesce(sum(('x' || substr(md5(_fg_row::text), 1, 15))::bit(60)::bigint), 0)::text as checksum
  from ${quoteIdent(schema)}.${quoteIdent(table)} as _fg_row`;
}

export async function listUserTables(client: pg.Client): Promise<Array<{ schema: string; name: string }>> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
        and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
      order by 1, 2`,
  );
  return rows;
}

/**
 * Count every user table and checksum the verify tables. Must run inside a transaction
 * (the snapshot's, or a fresh one after restore): it sets transaction-local settings.
 */
export async function collectDetails(client: pg.Client, verifyTables: readonly string[], options: { allowMissing?: boolean } = {}): Promise<BackupDetails> {
  await applyChecksumSettings(client);
  const info = await client.query<{ database: string; version: string; now: string }>(
    `select current_database() as database, current_setting('server_version') as version, now()::text as now`,
  );
  const verify = new Set(verifyTables);
  const all = await listUserTables(client);
  const missing = verifyTables.filter((name) => !all.some((t) => `${t.schema}.${t.name}` === name));
  if (missing.length > 0 && !options.allowMissing) {
    throw new ConfigError(`verify table${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} not found in database '${info.rows[0]!.database}'`, [], {
      hint: 'fix verifyTables of this target (schema.table, as in \\dt)',
    });
  }
  const tables: TableDetail[] = [];
  for (const t of all) {
    const qualified = `${t.schema}.${t.name}`;
    if (verify.has(qualified)) {
      const { rows } = await client.query<{ rows: string; checksum: string }>(checksumSql(t.schema, t.name));
      tables.push({ ...t, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum });
    } else {
      const { rows } = await client.query<{ rows: string }>(`select count(*)::bigint as rows from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
      tables.push({ ...t, rows: Number(rows[0]!.rows) });
    }
  }
  const row = info.rows[0]!;
  return { format: 1, database: row.database, serverVersion: row.version, capturedAt: new Date().toISOString(), settings: CHECKSUM_SETTINGS, tables };
}

export interface DetailCheck {
  name: string;
  ok: boolean;
  expected: string | number | null;
  actual: string | number | null;
}

/** Compare details of a backup with those of its restored copy (pure). */
export function compareDetails(expected: BackupDetails, actual: BackupDetails): DetailCheck[] {
  const actualByName = new Map(actual.tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const checks: DetailCheck[] = [];
  for (const table of expected.tables) {
    const qualified = `${table.schema}.${table.name}`;
    const got = actualByName.get(qualified);
    checks.push({ name: `rows ${qualified}`, ok: got?.rows === table.rows, expected: table.rows, actual: got ? got.rows : null });
    if (table.checksum !== undefined) {
      checks.push({ name: `checksum ${qualified}`, ok: got?.checksum === table.checksum, expected: table.checksum, actual: got?.checksum ?? null });
    }
  }
  return checks;
}
