// Bucket digests (count, sum of totals, multiset hash) computed identically on both sides: the md5
// hash (data-diff's sum of 60-bit md5 slices) in JS and SQL, the cheaper pg-hash in SQL only.
import { createHash } from 'node:crypto';
import { fieldsText } from './detail-fields.js';
import type { BucketRef, DetailField, Digest, Invoice } from './types.js';

/**
 * The hashed text of one row: `key|totalFen|status`, then `|value` per compared detail field
 * (detail-fields.ts; none for the HTTP contract's hash, which stays `key|totalFen|status`).
 */
export function rowText(key: string, totalFen: number, status: string, extra = ''): string {
  return `${key}|${totalFen}|${status}${extra}`;
}

/** The last 15 hex digits (60 bits) of md5: small enough that PostgreSQL sums them as bigint → numeric. */
export function rowHash(key: string, totalFen: number, status: string, extra = ''): bigint {
  return BigInt(
    `0x${createHash('md5')
      .update(rowText(key, totalFen, status, extra))
      .digest('hex')
      .slice(17)}`,
  );
}

/** The key-hash prefix that places a key in a sub-bucket (same on both sides whatever the amount). */
export function keyPrefix(key: string, length: number): string {
  return createHash('md5').update(key).digest('hex').slice(0, length);
}

/** SQL for the same 60-bit slice; the arguments are SQL expressions of type text (`extraExpr`: the `|v…` of the detail fields). */
export function sqlRowHash(keyExpr: string, fenExpr: string, statusExpr: string, extraExpr?: string): string {
  return `('x' || substr(md5(${keyExpr} || '|' || (${fenExpr})::text || '|' || ${statusExpr}${extraExpr ? ` || ${extraExpr}` : ''}), 18, 15))::bit(60)::bigint`;
}

/**
 * SQL for the `pg-hash` row hash: `hashbpcharextended` chained over the number, the code and the
 * total's `hash_numeric_extended` seeded by the canonical status's hash, so no per-row text is built
 * (md5 of a built string is most of the md5 method's cost). The total is numeric yuan rounded to
 * fen; numeric hashing ignores trailing zeros, so 12.3 and 12.30 agree. bpchar hashing ignores
 * trailing spaces as the canonical key's btrim does; leading spaces are not ignored, which only makes
 * such rows differ in the digest, after which they are listed and compared by canonical key, so
 * findings stay exact. Arguments are SQL expressions (code may be `null`).
 */
export function sqlRowHashPg(
  codeExpr: string,
  numberExpr: string,
  statusHashExpr: string,
  amountExpr: string,
  extraExpr?: string,
): string {
  const bp = (e: string): string => `coalesce((${e})::text, '')::bpchar`;
  const base = `hashbpcharextended(${bp(numberExpr)}, hashbpcharextended(${bp(codeExpr)}, hash_numeric_extended(${amountExpr}, ${statusHashExpr})))`;
  // the detail fields' own chained hash (pg-sql.ts extraHash), a bigint both sides compute with the same SQL
  return extraExpr ? `hashint8extended(${extraExpr}, ${base})` : base;
}

export function sqlKeyPrefix(keyExpr: string, length: number): string {
  return `substr(md5(${keyExpr}), 1, ${Math.trunc(length)})`;
}

export function emptyDigest(bucket: BucketRef): Digest {
  return { bucket, count: 0, sumFen: 0n, hash: 0n };
}

export function addRow(d: Digest, inv: Invoice, fields: readonly DetailField[] = []): void {
  d.count += 1;
  d.sumFen += BigInt(inv.totalFen);
  if (d.hash !== null)
    d.hash += rowHash(inv.key, inv.totalFen, inv.status, fields.length > 0 ? fieldsText(inv, fields) : '');
}

/** Digests are additive: a day is the sum of its hours. */
export function addDigest(into: Digest, d: Digest): void {
  into.count += d.count;
  into.sumFen += d.sumFen;
  into.hash = into.hash === null || d.hash === null ? null : into.hash + d.hash;
}

/** Equal when count, sum and (where both have one) hash agree; a missing hash never proves equality. */
export function digestsEqual(a: Digest | undefined, b: Digest | undefined): boolean {
  const ca = a?.count ?? 0;
  const cb = b?.count ?? 0;
  if (ca === 0 && cb === 0) return true;
  if (!a || !b || ca !== cb || a.sumFen !== b.sumFen) return false;
  if (a.hash === null || b.hash === null) return false;
  return a.hash === b.hash;
}

/** A stable string id of a bucket: `2026-11-03`, `2026-11-03|9131…`, `2026-11-03 h14 p3f`, `2026-11-03 h14 m05`. */
export function bucketId(b: BucketRef): string {
  return `${b.day}${b.partition !== undefined ? `|${b.partition}` : ''}${b.hour !== undefined ? ` h${String(b.hour).padStart(2, '0')}` : ''}${b.prefix !== undefined ? ` p${b.prefix}` : ''}${b.minute !== undefined ? ` m${String(b.minute).padStart(2, '0')}` : ''}`;
}

/** Does a row belong to a bucket? (for in-memory sources) */
export function inBucket(inv: Invoice, b: BucketRef): boolean {
  if (inv.day !== b.day) return false;
  if (b.partition !== undefined && (inv.partition ?? '') !== b.partition) return false;
  if (b.hour !== undefined && inv.hour !== b.hour) return false;
  if (b.prefix !== undefined && keyPrefix(inv.key, b.prefix.length) !== b.prefix) return false;
  return true;
}

/** Group rows into digests by a bucket function. */
export function digestRows(
  rows: Iterable<Invoice>,
  bucketOf: (inv: Invoice) => BucketRef,
  fields: readonly DetailField[] = [],
): Digest[] {
  const out = new Map<string, Digest>();
  for (const inv of rows) {
    const b = bucketOf(inv);
    const id = bucketId(b);
    let d = out.get(id);
    if (!d) out.set(id, (d = emptyDigest(b)));
    addRow(d, inv, fields);
  }
  return [...out.values()];
}
