// SQL builders for the postgres source (pure: text in, text out, like pg-boss's plans). Every
// digest is an aggregate pushed down to the database; only listings of small buckets return rows.
import { quoteIdent } from '../../core/pg/connect.js';
import { parseTableName, quoteTableName } from '../../core/pg/identifier.js';
import type { AmountKind, TimeKind } from './column-check.js';
import { sqlKeyPrefix, sqlRowHash, sqlRowHashPg } from '../model/bucket-digest.js';
import { sqlCanonicalKey } from '../model/invoice-key.js';
import { sqlStatusExpr, sqlStatusHashExpr } from '../model/invoice-status.js';
import type { BucketRef, DetailField, HashMethod, PgColumns, SplitLevel } from '../model/types.js';

export type { PgColumns };

export interface PgShape {
  /** `schema.table`, or a SELECT (wrapped as a subquery) */
  table?: string;
  query?: string;
  columns: PgColumns;
  statusMap: Readonly<Record<string, string>>;
  /** column that partitions buckets (e.g. seller_tax_id) */
  partitionColumn?: string;
  /** the issuedAt column's type, detected once */
  timeKind: TimeKind;
  /** what the amount columns hold (column-check.ts); absent: numeric yuan */
  amounts?: { total: AmountKind; amount?: AmountKind; tax?: AmountKind };
  /** the status column is an integer type (compared as integers by the pg-hash method) */
  statusInteger?: boolean;
  /** an index leads with the issuedAt column (slot listings then use it per slot) */
  timeIndexed?: boolean;
  /** the total column holds at most 2 decimals by type (integer, numeric(p, ≤2)), so no per-row rounding is needed */
  totalScale2?: boolean;
}

/** Width of a slot (slotDigestSql): ~77 rows at 10M invoices in 90 days, so listing a differing one is cheap. */
export const SLOT = '1 minute';

/** A configured table name (src/core/pg/identifier.ts syntax, checked when the config was read) quoted for SQL. */
export function quoteTable(name: string): string {
  const parsed = parseTableName(name);
  // plain-error-ok: an invariant, the config reader refused a bad table name already (exit 2 there)
  if (!parsed.ok) throw new Error(`table name '${name}' ${parsed.error}`);
  return quoteTableName(parsed.value);
}

/** An amount column in fen, as bigint (numeric → bigint rounds half away from zero, exactly as round() does, one call cheaper). */
function fenOf(expr: string, kind: AmountKind = 'yuan'): string {
  if (kind === 'fen') return `(${expr})::numeric::bigint`;
  if (kind === 'yuan-int') return `((${expr})::bigint * 100)`;
  return `((${expr})::numeric * 100)::bigint`;
}

/** A numeric 税率 column in basis points, as detail-fields.ts parseRateBp reads it: under 0.2 a fraction, else a percentage. */
function rateBpOf(expr: string): string {
  return `(case when (${expr})::numeric < 0.2 then round((${expr})::numeric * 10000) else round((${expr})::numeric * 100) end)::bigint`;
}

/** A tax ID as listed and hashed: text without spaces at either end, null when empty. */
function taxIdOf(expr: string): string {
  return `nullif(btrim((${expr})::text), '')`;
}

/** The detail fields a mapping reads (the issue time unless the column is a date). */
export function pgFields(shape: Pick<PgShape, 'columns' | 'timeKind'>): DetailField[] {
  const c = shape.columns;
  const has: Record<DetailField, boolean> = {
    amount: c.amount !== undefined,
    tax: c.tax !== undefined,
    rate: c.rate !== undefined,
    sellerTaxId: c.sellerTaxId !== undefined,
    buyerTaxId: c.buyerTaxId !== undefined,
    issueTime: shape.timeKind !== 'date',
  };
  return (Object.keys(has) as DetailField[]).filter((f) => has[f]);
}

/** Each detail field as SQL: fen, basis points and epoch seconds as bigint, tax IDs as text (null when absent). */
function fieldExprs(shape: PgShape, instant: string): Record<DetailField, { sql: string; type: 'int8' | 'text' }> {
  const c = shape.columns;
  const opt = (name: string | undefined, expr: (col: string) => string): string => (name ? expr(col(name)) : 'null');
  return {
    amount: { sql: opt(c.amount, (x) => fenOf(x, shape.amounts?.amount)), type: 'int8' },
    tax: { sql: opt(c.tax, (x) => fenOf(x, shape.amounts?.tax)), type: 'int8' },
    rate: { sql: opt(c.rate, rateBpOf), type: 'int8' },
    sellerTaxId: { sql: opt(c.sellerTaxId, taxIdOf), type: 'text' },
    buyerTaxId: { sql: opt(c.buyerTaxId, taxIdOf), type: 'text' },
    issueTime: { sql: `floor(extract(epoch from ${instant}))::bigint`, type: 'int8' },
  };
}

/**
 * The detail fields for the row hash (undefined when none is compared). md5: `'|' || v1 || '|' ||
 * v2…` as text, detail-fields.ts fieldsText in SQL. pg-hash: a bigint chaining each field's typed
 * hash, no text built (a null amount hashes as a sentinel no amount takes).
 */
function extraHash(
  shape: PgShape,
  fields: readonly DetailField[],
  instant: string,
  method: HashMethod,
): string | undefined {
  if (fields.length === 0) return undefined;
  const e = fieldExprs(shape, instant);
  if (method === 'md5') return `(${fields.map((f) => `'|' || coalesce((${e[f].sql})::text, '')`).join(' || ')})`;
  let h = '0::bigint';
  for (const f of fields) {
    h =
      e[f].type === 'int8'
        ? `hashint8extended(coalesce(${e[f].sql}, ${INT8_NULL}), ${h})`
        : `hashtextextended(coalesce(${e[f].sql}, ''), ${h})`;
  }
  return h;
}

const INT8_NULL = '(-9223372036854775807)::bigint';

/**
 * An ISO text issue time: with an offset (Z, +08, +08:00) the instant it names, without one a wall
 * time in the zone ($1). A value that is not a time fails the query, naming the value.
 */
function textInstant(t: string): string {
  return `(case when (${t}) ~ '[T ][0-9:.]+([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' then (${t})::timestamptz else ((${t})::timestamp at time zone $1::text) end)`;
}

const col = (name: string): string => `src.${quoteIdent(name)}`;

/** The canonical key of a row of `src` (the one definition every query and the backup's key index use). */
function keyExpr(c: Pick<PgColumns, 'code' | 'number'>): string {
  return sqlCanonicalKey(c.code ? col(c.code) : 'null', col(c.number));
}

/**
 * Every canonical key of a table in byte order (`collate "C"`: defined by the bytes alone, and
 * cheaper to sort than a locale's order), for the key index a backup stores (invoice-keys.age).
 */
export function keyExportSql(side: { table: string; columns: Pick<PgColumns, 'code' | 'number'> }): string {
  return `select ${keyExpr(side.columns)} collate "C" as key from ${quoteTable(side.table)} as src order by 1`;
}

/** Expressions over `src`; `$1` is always the time zone; `hash` is the row hash of `method`. */
export function expressions(
  shape: PgShape,
  method: HashMethod = 'md5',
  fields: readonly DetailField[] = [],
): {
  from: string;
  key: string;
  fen: string;
  amount: string;
  status: string;
  zoned: string;
  instant: string;
  hash: string;
  partition: string;
  extra?: string;
} {
  const c = shape.columns;
  const from = shape.query ? `(${shape.query}) as src` : `${quoteTable(shape.table!)} as src`;
  const key = keyExpr(c);
  const totalKind = shape.amounts?.total ?? 'yuan';
  const fen = `coalesce(${fenOf(col(c.total), totalKind)}, 0)`;
  // the total in yuan rounded to fen, as numeric: hashing and summing it skips the multiplication and
  // cast to bigint, the costliest per-row step of the pg-hash method (a no-op when the type allows ≤ 2 decimals);
  // numeric hashing ignores trailing zeros, so fen / 100 hashes as the same yuan amount
  const amount =
    totalKind === 'fen'
      ? `coalesce(round((${col(c.total)})::numeric) / 100, 0)`
      : shape.totalScale2
        ? `coalesce((${col(c.total)})::numeric, 0)`
        : `coalesce(round((${col(c.total)})::numeric, 2), 0)`;
  const status = sqlStatusExpr(col(c.status), shape.statusMap);
  const t = col(c.issuedAt);
  const instant =
    shape.timeKind === 'timestamptz'
      ? t
      : shape.timeKind === 'timestamp'
        ? `(${t} at time zone $1::text)`
        : shape.timeKind === 'date'
          ? `(${t}::timestamp at time zone $1::text)`
          : textInstant(t);
  const zoned =
    shape.timeKind === 'timestamptz'
      ? `(${t} at time zone $1::text)`
      : shape.timeKind === 'timestamp'
        ? t
        : shape.timeKind === 'date'
          ? `${t}::timestamp`
          : `(${textInstant(t)} at time zone $1::text)`;
  const partition = shape.partitionColumn ? `coalesce((${col(shape.partitionColumn)})::text, '')` : `''`;
  const extra = extraHash(shape, fields, instant, method);
  const hash =
    method === 'pg-hash'
      ? sqlRowHashPg(
          c.code ? col(c.code) : 'null',
          col(c.number),
          sqlStatusHashExpr(col(c.status), shape.statusMap, shape.statusInteger === true),
          amount,
          extra,
        )
      : sqlRowHash(key, fen, status, extra);
  return { from, key, fen, amount, status, zoned, instant, hash, partition, ...(extra ? { extra } : {}) };
}

/** Bounds on the raw column (so an index on it is used): wall times [fromParam, toParam) in the zone. */
function timeRange(shape: PgShape, fromParam: string, toParam: string): string {
  const t = col(shape.columns.issuedAt);
  if (shape.timeKind === 'timestamptz')
    return `${t} >= (${fromParam}::timestamp at time zone $1::text) and ${t} < (${toParam}::timestamp at time zone $1::text)`;
  if (shape.timeKind === 'text') {
    const i = textInstant(t);
    return `${i} >= (${fromParam}::timestamp at time zone $1::text) and ${i} < (${toParam}::timestamp at time zone $1::text)`;
  }
  // wall times need no zone, but $1 (the zone) is passed to every query: name its type, or
  // PostgreSQL cannot determine the type of an unused parameter
  if (shape.timeKind === 'timestamp')
    return `${t} >= ${fromParam}::timestamp and ${t} < ${toParam}::timestamp and $1::text is not null`;
  return `${t} >= ${fromParam}::date and ${t} < ${toParam}::date and $1::text is not null`;
}

/** Day × hour (× partition) digests over [$2, $3): one scan; days are sums of their hours. */
export function windowDigestSql(
  shape: PgShape,
  partition: boolean,
  method: HashMethod = 'md5',
  fields: readonly DetailField[] = [],
): string {
  const e = expressions(shape, method, fields);
  // Group on the truncated hour and format only the groups: to_char per row costs more than md5.
  return `select to_char(z, 'YYYY-MM-DD') as day, extract(hour from z)::int as hour, p as partition, n, sum_fen, hash
from (select date_trunc('hour', ${e.zoned}) as z, ${partition ? e.partition : `''`} as p,
        count(*)::int as n, coalesce(sum(${e.fen}), 0)::text as sum_fen, coalesce(sum(${e.hash}), 0)::text as hash
      from ${e.from} where ${timeRange(shape, '$2', '$3')} group by 1, 2) g`;
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
    conds.push(
      timeRange(
        shape,
        p(bucket.hour === 0 ? `${bucket.day} 00:00:00` : pad(bucket.hour - 1)),
        p(bucket.hour >= 22 ? `${next} 00:00:00` : pad(bucket.hour + 2)),
      ),
    );
    conds.push(`extract(hour from ${e.zoned}) = ${p(bucket.hour)}`);
  }
  if (bucket.partition !== undefined) conds.push(`${e.partition} = ${p(bucket.partition)}`);
  if (bucket.prefix !== undefined) conds.push(`${sqlKeyPrefix(e.key, bucket.prefix.length)} = ${p(bucket.prefix)}`);
  return { where: conds.join(' and '), params };
}

export function splitDigestSql(
  shape: PgShape,
  bucket: BucketRef,
  level: SplitLevel,
  method: HashMethod = 'md5',
  fields: readonly DetailField[] = [],
): { sql: string; params: unknown[] } {
  const e = expressions(shape, method, fields);
  const { where, params } = bucketWhere(shape, bucket);
  const child = level.by === 'hour' ? `extract(hour from ${e.zoned})::int` : sqlKeyPrefix(e.key, level.length);
  return {
    sql: `select c as child, count(*)::int as n, coalesce(sum(fen), 0)::text as sum_fen, coalesce(sum(h), 0)::text as hash
from (select ${child} as c, ${e.fen} as fen, ${e.hash} as h from ${e.from} where ${where}) s group by 1`,
    params,
  };
}

/** The slot of a row: its instant (timestamptz) or wall time (timestamp) binned to whole minutes; pure arithmetic, no zone lookup. */
function slotExpr(shape: PgShape): string {
  return shape.timeKind === 'timestamptz'
    ? `date_bin('${SLOT}', ${col(shape.columns.issuedAt)}, timestamptz '2000-01-01 00:00:00+00')`
    : `date_bin('${SLOT}', ${col(shape.columns.issuedAt)}, timestamp '2000-01-01 00:00:00')`;
}

/**
 * Minute-slot (× partition) digests over [$2, $3) in one scan, delivered per wall-clock hour: the
 * hour's totals plus its minutes as text (`minute n sumFen hash epoch,…`), which the caller parses
 * only for differing hours (shipping ~130k slot rows as rows costs more than the scan saves). The
 * fine grain lets a differing minute be listed by an index range, with no second pass per split
 * level. Per row: the slot (pure arithmetic, no zone lookup), the amount (computed once: `offset 0`
 * keeps the planner from inlining it into both aggregates) and the hash; zone conversion and
 * formatting happen per group. `whole` is false when the zone's offset is not whole minutes, so a
 * slot could straddle two wall-clock hours (the caller then falls back). Not for date columns.
 */
export function slotDigestSql(
  shape: PgShape,
  partition: boolean,
  method: HashMethod,
  fields: readonly DetailField[] = [],
): string {
  const e = expressions(shape, method, fields);
  const c = shape.columns;
  const wall = shape.timeKind === 'timestamptz' ? `(s at time zone $1)` : 's';
  // what the hash and the sum need per row, computed in the inner query so nothing is computed twice
  const extraCol = e.extra ? `, ${e.extra} as x` : '';
  const parts =
    method === 'pg-hash'
      ? {
          cols: `${e.amount} as v, ${c.code ? col(c.code) : 'null::text'} as code, ${col(c.number)} as number, ${sqlStatusHashExpr(col(c.status), shape.statusMap, shape.statusInteger === true)} as st${extraCol}`,
          hash: sqlRowHashPg('r.code', 'r.number', 'r.st', 'r.v', e.extra ? 'r.x' : undefined),
          fen: 'trunc(sum(r.v) * 100)',
        }
      : {
          cols: `${e.fen} as v, ${e.key} as key, ${e.status} as status${extraCol}`,
          hash: sqlRowHash('r.key', 'r.v', 'r.status', e.extra ? 'r.x' : undefined),
          fen: 'sum(r.v)',
        };
  return `select to_char(h, 'YYYY-MM-DD') as day, extract(hour from h)::int as hour, p as partition,
  sum(n)::int as n, sum(sum_fen)::text as sum_fen, sum(hash)::text as hash, bool_and(date_trunc('minute', w) = w) as whole,
  string_agg(concat_ws(' ', extract(minute from w)::int, n, sum_fen, hash, extract(epoch from s)::bigint), ',') as minutes
from (select s, w, date_trunc('hour', w) as h, p, n, sum_fen, hash
  from (select s, ${wall} as w, p, n, sum_fen, hash
    from (select r.s, r.p, count(*)::int as n, ${parts.fen} as sum_fen, sum(${parts.hash}) as hash
      from (select ${slotExpr(shape)} as s, ${partition ? e.partition : `''`} as p, ${parts.cols}
            from ${e.from} where ${timeRange(shape, '$2', '$3')} offset 0) r
      group by 1, 2) g) z) y
group by h, p`;
}

/**
 * Every row in these slots ($2: slot starts as epoch seconds, from slotDigestSql; $3: their
 * partitions, used when `partition`). With an index on the time column, a range per slot (the
 * planner then loops over the slots with index scans; offered the equality too, it misjudges the
 * ranges and hash-joins a full scan). Without one, the equality only: one hash join over one scan,
 * rather than a scan per slot.
 */
export function slotListSql(shape: PgShape, partition: boolean): string {
  const e = expressions(shape);
  const t = col(shape.columns.issuedAt);
  const start = shape.timeKind === 'timestamptz' ? 'to_timestamp(slot.e)' : `(to_timestamp(slot.e) at time zone 'UTC')`;
  const on = shape.timeIndexed
    ? `${t} >= ${start} and ${t} < ${start} + interval '${SLOT}'`
    : `${slotExpr(shape)} = ${start}`;
  return `select ${listColumns(shape)} from unnest($2::bigint[], $3::text[]) as slot(e, p) join ${e.from}
  on ${on}${partition ? ` and ${e.partition} = slot.p` : ''}`;
}

/** The listed columns of an invoice, shared by listings and key look-ups. */
function listColumns(shape: PgShape): string {
  const e = expressions(shape);
  const c = shape.columns;
  const opt = (name: string | undefined, as: string): string =>
    name ? `(${col(name)})::text as ${as}` : `null::text as ${as}`;
  return `${e.key} as key, ${opt(c.code, 'code')}, (${col(c.number)})::text as number,
  to_char(${e.instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as issued_at,
  to_char(${e.zoned}, 'YYYY-MM-DD') as day, extract(hour from ${e.zoned})::int as hour,
  ${e.fen}::text as total_fen, ${e.status} as status, ${c.amount ? `${fenOf(col(c.amount), shape.amounts?.amount)}::text` : 'null::text'} as amount_fen,
  ${c.tax ? `${fenOf(col(c.tax), shape.amounts?.tax)}::text` : 'null::text'} as tax_fen,
  ${c.rate ? `${rateBpOf(col(c.rate))}::text` : 'null::text'} as rate_bp,
  ${c.sellerTaxId ? taxIdOf(col(c.sellerTaxId)) : 'null::text'} as seller_tax_id, ${c.buyerTaxId ? taxIdOf(col(c.buyerTaxId)) : 'null::text'} as buyer_tax_id,
  ${e.partition} as partition`;
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
  // every parameter is referenced, typed: PostgreSQL refuses a query with one it cannot type
  const codeCond = c.code ? `coalesce(${col(c.code)}, '') = any($2::text[]) and ` : `$2::text[] is not null and `;
  return `select ${listColumns(shape)} from ${e.from} where ${codeCond}${col(c.number)} = any($3::text[]) and ${e.key} = any($4::text[])`;
}

function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}
