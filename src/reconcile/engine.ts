// The drill-down over two InvoiceSources: compare day digests, split differing buckets until
// small, list and diff those exactly, then look unmatched keys up on every day. No SQL, no files.
import { addDigest, bucketId, digestsEqual, emptyDigest } from './digest.js';
import { type KeyDiff, diffRows, groupByKey, mergeKeyDiffs } from './diff.js';
import { type SplitLimits, DEFAULT_LIMITS, childBucket, decideSplit } from './split.js';
import type { BucketRef, Digest, InvoiceSource, SplitLevel, Window } from './types.js';

export interface EngineOptions {
  window: Window;
  partition: boolean;
  limits?: SplitLimits;
  signal?: AbortSignal;
  /** buckets processed at once (each queries both sides in parallel) */
  concurrency?: number;
  debug?: (message: string, details?: Record<string, unknown>) => void;
}

export interface DayComparison {
  bucket: BucketRef;
  upstream: Digest;
  local: Digest;
  equal: boolean;
}

export interface EngineStats {
  buckets: number;
  differingBuckets: number;
  listedBuckets: number;
  rowsListed: { upstream: number; local: number };
  splitQueries: number;
  lookedUpKeys: number;
}

export interface EngineResult {
  days: DayComparison[];
  diffs: KeyDiff[];
  stats: EngineStats;
}

type Side = 'upstream' | 'local';

export async function compareSources(upstream: InvoiceSource, local: InvoiceSource, options: EngineOptions): Promise<EngineResult> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const sources: Record<Side, InvoiceSource> = { upstream, local };
  const stats: EngineStats = { buckets: 0, differingBuckets: 0, listedBuckets: 0, rowsListed: { upstream: 0, local: 0 }, splitQueries: 0, lookedUpKeys: 0 };
  const diffs: KeyDiff[] = [];
  const check = (): void => {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  };

  const [up, lo] = await Promise.all([upstream.windowDigests(options.window, options.partition), local.windowDigests(options.window, options.partition)]);
  check();
  const hours: Record<Side, Map<string, Digest[]> | undefined> = { upstream: hoursByDay(up.hours), local: hoursByDay(lo.hours) };
  const days = pairDigests(up.days, lo.days, (b) => b);
  stats.buckets = days.length;

  const childDigests = async (side: Side, bucket: BucketRef, own: Digest, level: SplitLevel): Promise<Digest[]> => {
    if (own.count === 0) return [];
    const pre = level.by === 'hour' && bucket.hour === undefined && bucket.prefix === undefined ? hours[side]?.get(bucketId(bucket)) : undefined;
    if (pre) return pre;
    stats.splitQueries += 1;
    return sources[side].splitDigests(bucket, level);
  };

  const drill = async (bucket: BucketRef, u: Digest, l: Digest): Promise<void> => {
    check();
    const decision = decideSplit(bucket, Math.max(u.count, l.count), limits);
    if (decision.action === 'list') {
      const [ur, lr] = await Promise.all([u.count === 0 ? [] : upstream.list(bucket), l.count === 0 ? [] : local.list(bucket)]);
      stats.listedBuckets += 1;
      stats.rowsListed.upstream += ur.length;
      stats.rowsListed.local += lr.length;
      diffs.push(...diffRows(ur, lr));
      options.debug?.('listed bucket', { bucket: bucketId(bucket), upstream: ur.length, local: lr.length });
      return;
    }
    const level = decision.level;
    const [uc, lc] = await Promise.all([childDigests('upstream', bucket, u, level), childDigests('local', bucket, l, level)]);
    const children = pairDigests(uc, lc, (c) => childBucket(bucket, c, level)).filter((c) => !c.equal);
    await eachLimit(children, options.concurrency ?? 2, (c) => drill(c.bucket, c.upstream, c.local));
  };

  const differing = days.filter((d) => !d.equal);
  stats.differingBuckets = differing.length;
  await eachLimit(differing, options.concurrency ?? 2, (d) => drill(d.bucket, d.upstream, d.local));

  const merged = await lookupUnmatched(mergeKeyDiffs(diffs), sources, stats);
  return { days, diffs: merged, stats };
}

/** Keys seen on one side only (or twice) may sit on another day, or outside the window: look them up. */
async function lookupUnmatched(diffs: KeyDiff[], sources: Record<Side, InvoiceSource>, stats: EngineStats): Promise<KeyDiff[]> {
  const keys = diffs.filter((d) => d.upstream.length !== 1 || d.local.length !== 1).map((d) => d.key);
  if (keys.length === 0) return diffs;
  stats.lookedUpKeys = keys.length;
  const found: Record<Side, Map<string, import('./types.js').Invoice[]> | undefined> = { upstream: undefined, local: undefined };
  for (const side of ['upstream', 'local'] as const) {
    const rows = [];
    let supported = true;
    for (let i = 0; i < keys.length && supported; i += 1000) {
      const chunk = await sources[side].lookup(keys.slice(i, i + 1000));
      if (chunk === undefined) supported = false;
      else rows.push(...chunk);
    }
    if (supported) found[side] = groupByKey(rows);
  }
  const wanted = new Set(keys);
  return diffs
    .map((d) => {
      if (!wanted.has(d.key)) return d;
      return { key: d.key, upstream: found.upstream ? (found.upstream.get(d.key) ?? []) : d.upstream, local: found.local ? (found.local.get(d.key) ?? []) : d.local };
    })
    .filter((d) => !(d.upstream.length === 1 && d.local.length === 1 && sameRow(d)));
}

function sameRow(d: KeyDiff): boolean {
  const u = d.upstream[0]!;
  const l = d.local[0]!;
  return u.totalFen === l.totalFen && u.status === l.status && u.day === l.day && (u.partition ?? '') === (l.partition ?? '');
}

function hoursByDay(hours: Digest[] | undefined): Map<string, Digest[]> | undefined {
  if (!hours) return undefined;
  const out = new Map<string, Digest[]>();
  for (const h of hours) {
    const day = bucketId({ day: h.bucket.day, ...(h.bucket.partition !== undefined ? { partition: h.bucket.partition } : {}) });
    out.set(day, [...(out.get(day) ?? []), h]);
  }
  return out;
}

/** Line up two digest lists by bucket; a bucket missing on one side is an empty digest there. */
function pairDigests(up: Digest[], lo: Digest[], bucketOf: (b: BucketRef) => BucketRef): DayComparison[] {
  const out = new Map<string, DayComparison>();
  const get = (b: BucketRef): DayComparison => {
    const bucket = bucketOf(b);
    const id = bucketId(bucket);
    let c = out.get(id);
    if (!c) out.set(id, (c = { bucket, upstream: emptyDigest(bucket), local: emptyDigest(bucket), equal: false }));
    return c;
  };
  for (const d of up) addDigest(get(d.bucket).upstream, d);
  for (const d of lo) addDigest(get(d.bucket).local, d);
  for (const c of out.values()) c.equal = digestsEqual(c.upstream, c.local);
  return [...out.values()].sort((a, b) => bucketId(a.bucket).localeCompare(bucketId(b.bucket)));
}

async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
