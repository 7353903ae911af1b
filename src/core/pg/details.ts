// Per-table row counts and order-independent content checksums, taken inside the backup's
// snapshot and again after a restore, so a restore can be proven equal to the source.
// Checksums are sums of per-row hashes, so row order does not matter. Two methods:
// - 'hash': hash_record_extended(row, 0), PostgreSQL's own per-type hashing, 4-7x faster than
//   md5 because no value is turned into text; comparable within one major version and byte order.
// - 'md5': a 60-bit slice of md5(row::text) (data-diff's method), portable across versions, under
//   fixed output settings so the text form of every value is the same everywhere. Used where
//   'hash' is unavailable (PostgreSQL < 14, or a column type without an extended hash, e.g. json).
import { pushAll } from '../arrays.js';
import type pg from 'pg';
import { quoteIdent } from './connect.js';
import { type DatabaseShape, type DetailCheck, collectShape, compareShape } from './database-shape.js';
import { displayName } from './identifier.js';
import { type VerifyTable, resolveVerifyTables } from './verify-tables.js';

export type { DetailCheck };

export interface TableDetail {
  schema: string;
  name: string;
  rows: number;
  /** decimal string (it exceeds 2^53); only for configured verify tables */
  checksum?: string;
  /** how `checksum` was computed; absent means 'md5' (the first format) */
  checksumMethod?: ChecksumMethod;
  /** a partitioned table named in verifyTables: rows and checksum of all its partitions */
  partitioned?: true;
}

export type ChecksumMethod = 'hash' | 'md5';

export interface BackupDetails {
  format: 1;
  database: string;
  serverVersion: string;
  capturedAt: string;
  settings: Record<string, string>;
  tables: TableDetail[];
  /** tables, partition tree, sequences, materialized views (absent in backups taken before it was recorded) */
  shape?: DatabaseShape;
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

export function checksumSql(schema: string, table: string, method: ChecksumMethod = 'md5'): string {
  const rowHash =
    method === 'hash'
      ? 'hash_record_extended(_fg_row, 0)'
      : `('x' || substr(md5(_fg_row::text), 1, 15))::bit(60)::bigint`;
  return `select count(*)::bigint as rows, coalesce(sum(${rowHash}), 0)::text as checksum
  from ${quoteIdent(schema)}.${quoteIdent(table)} as _fg_row`;
}

/**
 * Row count, and with `checksum` the content checksum of one table, inside the caller's
 * transaction. Without a given method, 'hash' is tried first (in a savepoint) and 'md5' used
 * when the server or a column type cannot hash.
 */
export async function measureTable(
  client: pg.Client,
  table: { schema: string; name: string },
  options: { checksum: boolean; method?: ChecksumMethod },
): Promise<TableDetail> {
  if (!options.checksum) {
    const { rows } = await client.query<{ rows: string }>(
      `select count(*)::bigint as rows from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
    );
    return { ...table, rows: Number(rows[0]!.rows) };
  }
  const run = async (method: ChecksumMethod): Promise<TableDetail> => {
    const { rows } = await client.query<{ rows: string; checksum: string }>(
      checksumSql(table.schema, table.name, method),
    );
    return { ...table, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum, checksumMethod: method };
  };
  if (options.method) return run(options.method);
  if (!(await hashIsPortable(client, table))) return run('md5');
  await client.query('savepoint fg_checksum');
  try {
    const detail = await run('hash');
    await client.query('release savepoint fg_checksum');
    return detail;
  } catch {
    await client.query('rollback to savepoint fg_checksum');
    return run('md5');
  }
}

/** Plain tables (partitions included); with `partitioned`, partitioned parents too. */
/**
 * Whether a row's hash is the same in a restored copy: enums hash by their value's OID, which
 * pg_restore assigns anew (as do oid and reg* columns), so a table holding one, even inside an
 * array, domain, composite or range, is checksummed by its text ('md5') instead.
 */
export async function hashIsPortable(client: pg.Client, table: { schema: string; name: string }): Promise<boolean> {
  const { rows } = await client.query<{ oid_bound: boolean }>(
    `with recursive types(oid) as (
       select a.atttypid from pg_attribute a
        where a.attrelid = format('%I.%I', $1::text, $2::text)::regclass and a.attnum > 0 and not a.attisdropped
       union
       select c.child from types t join pg_type ty on ty.oid = t.oid
        cross join lateral (
          select ty.typelem where ty.typelem <> 0
          union all select ty.typbasetype where ty.typbasetype <> 0
          union all select a.atttypid from pg_attribute a where ty.typrelid <> 0 and a.attrelid = ty.typrelid and a.attnum > 0 and not a.attisdropped
          union all select r.rngsubtype from pg_range r where r.rngtypid = ty.oid or r.rngmultitypid = ty.oid
        ) as c(child)
     )
     select exists (
       select 1 from types t join pg_type ty on ty.oid = t.oid
        where ty.typtype = 'e' or (ty.typnamespace = 'pg_catalog'::regnamespace and (ty.typname = 'oid' or ty.typname like 'reg%'))
     ) as oid_bound`,
    [table.schema, table.name],
  );
  return !rows[0]!.oid_bound;
}

export async function listUserTables(
  client: pg.Client,
  options: { partitioned?: boolean } = {},
): Promise<Array<{ schema: string; name: string }>> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r'${options.partitioned ? ", 'p'" : ''}) and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
        and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
      order by 1, 2`,
  );
  return rows;
}

/** What a backup settles before pg_dump starts: the verify tables (refused here when wrong) and the database's shape. */
export interface PreparedDetails {
  verify: VerifyTable[];
  shape: DatabaseShape;
}

/**
 * Resolve verifyTables (a ConfigError names a wrong entry before anything is written) and read
 * the shape, in the snapshot's transaction, before pg_dump reads sequences.
 */
export async function prepareDetails(client: pg.Client, verifyTables: readonly string[]): Promise<PreparedDetails> {
  const verify = await resolveVerifyTables(client, verifyTables);
  return { verify, shape: await collectShape(client, 'source') };
}

/**
 * Count every user table and checksum the verify tables (a partitioned one as a whole). Must run
 * inside a transaction (the snapshot's, or a fresh one after restore): it sets transaction-local settings.
 */
export async function measureDetails(client: pg.Client, prepared: PreparedDetails): Promise<BackupDetails> {
  await applyChecksumSettings(client);
  const info = await client.query<{ database: string; version: string }>(
    `select current_database() as database, current_setting('server_version') as version`,
  );
  const key = (t: { schema: string; name: string }): string => `${t.schema}\0${t.name}`;
  const verify = new Set(prepared.verify.map(key));
  const all = [
    ...(await listUserTables(client)).map((t) => ({ ...t, partitioned: false })),
    ...prepared.verify.filter((t) => t.partitioned),
  ];
  all.sort((a, b) =>
    a.schema === b.schema ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.schema < b.schema ? -1 : 1,
  );
  const tables: TableDetail[] = [];
  for (const { partitioned, ...t } of all) {
    const detail = await measureTable(client, t, { checksum: verify.has(key(t)) });
    tables.push(partitioned ? { ...detail, partitioned: true } : detail);
  }
  const row = info.rows[0]!;
  return {
    format: 1,
    database: row.database,
    serverVersion: row.version,
    capturedAt: new Date().toISOString(),
    settings: CHECKSUM_SETTINGS,
    tables,
    shape: prepared.shape,
  };
}

/** prepareDetails then measureDetails, in the caller's transaction. */
export async function collectDetails(client: pg.Client, verifyTables: readonly string[]): Promise<BackupDetails> {
  return measureDetails(client, await prepareDetails(client, verifyTables));
}

const major = (version: string): string => /^\d+/.exec(version)?.[0] ?? version;

/** Compare details of a backup with those of its restored copy (pure). */
export function compareDetails(expected: BackupDetails, actual: BackupDetails): DetailCheck[] {
  const actualByName = new Map(actual.tables.map((t) => [displayName(t), t]));
  const crossMajor = major(expected.serverVersion) !== major(actual.serverVersion);
  const checks: DetailCheck[] = [];
  for (const table of expected.tables) {
    const qualified = displayName(table);
    const got = actualByName.get(qualified);
    checks.push({
      name: `rows ${qualified}`,
      ok: got?.rows === table.rows,
      expected: table.rows,
      actual: got ? got.rows : null,
    });
    if (table.checksum !== undefined && table.checksumMethod === 'hash' && crossMajor && got) {
      // PostgreSQL's hash functions are only promised within a major version: say so, don't guess.
      checks.push({
        name: `checksum ${qualified}`,
        ok: true,
        expected: table.checksum,
        actual: `not comparable: hash checksum taken on PostgreSQL ${major(expected.serverVersion)}, restored on ${major(actual.serverVersion)}`,
      });
    } else if (table.checksum !== undefined) {
      checks.push({
        name: `checksum ${qualified}`,
        ok: got?.checksum === table.checksum,
        expected: table.checksum,
        actual: got?.checksum ?? null,
      });
    }
  }
  if (expected.shape && actual.shape) pushAll(checks, compareShape(expected.shape, actual.shape));
  return checks;
}
