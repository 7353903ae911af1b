// SQL builders for the postgres source (pure: text in, text out, like pg-boss's plans). Every
// digest is an aggregate pushed down to the database; only listings of small buckets return rows.
import { quoteIdent } from '../pg/connect.js';
import { sqlKeyPrefix, sqlRowHash } from './digest.js';
import { sqlCanonicalKey } from './invoice-key.js';
import { sqlStatusExpr } from './status.js';
import type { BucketRef, SplitLevel } from './types.js';

export interface PgColumns {
  code?: string;
  number: string;
  issuedAt: string;
  total: string;
  status: string;
  sellerTaxId?: string;
  buyerTaxId?: string;
  amount?: string;
  tax?: string;
}

export interface PgShape {
  /** `schema.table`, or a SELECT (wrapped as a subquery) */
  table?: string;
  query?: string;
  columns: PgColumns;
  statusMap: Readonly<Record<string, string>>;
  /** column that partitions buckets (e.g. seller_tax_id) */
  partitionColumn?: string;
  /** the issuedAt column's type, detected once */
  timeKind: 'timestamptz' | 'timestamp' | 'date';
}

export function quoteTable(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

const col = (name: string): string => `src.${quoteIdent(name)}`;

/** Expressions over `src`; `$1` is always the time zone. */
export function expressions(shape: PgShape): { from: string; key: string; fen: string; status: string; zoned: string; instant: string; hash: string; partition: string } {
  const c = shape.columns;
  const from = shape.query ? `(${shape.query}) as src` : `${quoteTable(shape.table!)} as src`;
  const key = sqlCanonicalKey(c.code ? col(c.code) : 'null', col(c.number));
  const fen = `coalesce(round((${col(c.total)})::numeric * 100)::bigint, 0)`;
  const status = sqlStatusExpr(col(c.status), shape.statusMap);
  const t = col(c.issuedAt);
  const instant = shape.timeKind === 'timestamptz' ? t : shape.timeKind === 'timestamp' ? `(${t} at time zone $1)` : `(${t}::timestamp at time zone $1)`;
  const zoned = shape.timeKind === 'timestamptz' ? `(${t} at time zone $1)` : shape.timeKind === 'timestamp' ? t : `${t}::timestamp`;
  const partition = shape.partitionColumn ? `coalesce((${col(shape.partitionColumn)})::text, '')` : `''`;
  return { from, key, fen, status, zoned, instant, hash: sqlRowHash(key, fen, status), partition };
}

/** Bounds on the raw column (so an index on it is used): wall times [fromParam, toParam) in the zone. */
function timeRange(shape: PgShape, fromParam: string, toParam: string): string {
  const t = col(shape.columns.issuedAt);
  if (shape.timeKind === 'timestamptz') return `${t} >= (${fromParam}::timestamp at time zone $1) and ${t} < (${toParam}::timestamp at time zone $1)`;
  if (shape.timeKind === 'timestamp') return `${t} >= ${fromParam}::timestamp and ${t} < ${toParam}::timestamp`;
  return `${t} >= ${fromParam}::date and ${t} < ${toParam}::date`;
}

/** Day × hour (× partition) digests over [$2, $3): one scan; days are sums of their hours. */
export function windowDigestSql(shape: PgShape, partition: boolean): string {
  const e = expressions(shape);
  return `select to_char(z, 'YYYY-MM-DD') as day, extract(hour from z)::int as hour, p as partition,
  count(*)::int as n, coalesce(sum(fen), 0)::text as sum_fen, coalesce(sum(h), 0)::text as hash
from (select ${e.zoned} as z, ${partition ? e.partition : `''`} as p, ${e.fen} as fen, ${e.hash} as h
      from ${e.from} where ${timeRange(shape, '$2', '$3')}) s
group by 1, 2, 3`;
}

/**
 * Conditions selecting a bucket. Params from $2: day start, day end[, partition][, hour start,
 * hour end][, prefix]. Hour bounds are padded by an hour each side (DST) and then filtered exactly.
 */
export function bucketWhere(shape: PgShape, bucket: BucketRef): { where: string; params: unknown[] } {
  const e = expressions(shape);
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length + 1}`;
  };
  const conds: string[] = [];
  const next = nextDay(bucket.day);
  if (bucket.hour === undefined) conds.push(timeRange(shape, p(bucket.day), p(next)));
  else {
    const pad = (h: number): string => `${bucket.day} ${String(h).padStart(2, '0')}:00:00`;
    conds.push(timeRange(shape, p(`${bucket.day} 00:00:00`), p(`${next} 00:00:00`)));
    conds.push(timeRange(shape, p(bucket.hour === 0 ? `${bucket.day} 00:00:00` : pad(bucket.hour - 1)), p(bucket.hour >= 22 ? `${next} 00:00:00` : pad(bucket.hour + 2))));
    conds.push(`extract(hour from ${e.zoned}) = ${p(bucket.hour)}`);
  }
  if (bucket.partition !== undefined) conds.push(`${e.partition} = ${p(bucket.partition)}`);
  if (bucket.prefix !== undefined) conds.push(`${sqlKeyPrefix(e.key, bucket.prefix.length)} = ${p(bucket.prefix)}`);
  return { where: conds.join(' and '), params };
}

export function splitDigestSql(shape: PgShape, bucket: BucketRef, level: SplitLevel): { sql: string; params: unknown[] } {
  const e = expressions(shape);
  const { where, params } = bucketWhere(shape, bucket);
  const child = level.by === 'hour' ? `extract(hour from ${e.zoned})::int` : sqlKeyPrefix(e.key, level.length);
  return {
    sql: `select c as child, count(*)::int as n, coalesce(sum(fen), 0)::text as sum_fen, coalesce(sum(h), 0)::text as hash
from (select ${child} as c, ${e.fen} as fen, ${e.hash} as h from ${e.from} where ${where}) s group by 1`,
    params,
  };
}

/** The listed columns of an invoice, shared by listings and key look-ups. */
function listColumns(shape: PgShape): string {
  const e = expressions(shape);
  const c = shape.columns;
  const opt = (name: string | undefined, as: string): string => (name ? `(${col(name)})::text as ${as}` : `null::text as ${as}`);
  return `${e.key} as key, ${opt(c.code, 'code')}, (${col(c.number)})::text as number,
  to_char(${e.instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as issued_at,
  to_char(${e.zoned}, 'YYYY-MM-DD') as day, extract(hour from ${e.zoned})::int as hour,
  ${e.fen}::text as total_fen, ${e.status} as status, ${(c.amount ? `round((${col(c.amount)})::numeric * 100)::bigint::text` : 'null::text')} as amount_fen,
  ${(c.tax ? `round((${col(c.tax)})::numeric * 100)::bigint::text` : 'null::text')} as tax_fen,
  ${opt(c.sellerTaxId, 'seller_tax_id')}, ${opt(c.buyerTaxId, 'buyer_tax_id')}, ${e.partition} as partition`;
}

export function listSql(shape: PgShape, bucket: BucketRef): { sql: string; params: unknown[] } {
  const e = expressions(shape);
  const { where, params } = bucketWhere(shape, bucket);
  return { sql: `select ${listColumns(shape)} from ${e.from} where ${where}`, params };
}

/**
 * Rows with these keys on any day. Filtering on the raw code and number first lets an index on
 * (coalesce(code, ''), number) or on number do the work; the key expression then decides exactly.
 */
export function lookupSql(shape: PgShape): string {
  const e = expressions(shape);
  const c = shape.columns;
  const codeCond = c.code ? `coalesce(${col(c.code)}, '') = any($2::text[]) and ` : '';
  return `select ${listColumns(shape)} from ${e.from} where ${codeCond}${col(c.number)} = any($3::text[]) and ${e.key} = any($4::text[])`;
}

function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}
