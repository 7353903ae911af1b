// The comparison of two InvoiceSources: minute-slot digests in one pass when both sides offer them,
// else day digests drilled down (hour, key-hash prefix) until small; differing parts are listed and
// diffed exactly, then unmatched keys are looked up on every day. No SQL, no files.
import { pushAll } from '../../core/arrays.js';
import { bucketId } from '../model/bucket-digest.js';
import { type KeyDiff, diffRows, groupByKey, mergeKeyDiffs } from './diff.js';
import { type DayComparison, eachLimit, pairDigests } from './pair.js';
import { planSlots } from './slot-plan.js';
import { type SplitLimits, DEFAULT_LIMITS, childBucket, decideSplit } from './split.js';
import type { BucketRef, Digest, HashMethod, Invoice, InvoiceSource, SplitLevel, Window } from '../model/types.js';

export type { DayComparison } from './pair.js';

export interface EngineOptions {
  window: Window;
  partition: boolean;
  limits?: SplitLimits;
  signal?: AbortSignal;
  /** buckets processed at once (each queries both sides in parallel) */
  concurrency?: number;
  /** force a hash method (default: negotiated, see negotiateHashMethod) */
  hashMethod?: HashMethod;
  /** use minute-slot digests when both sides offer them (default true) */
  slots?: boolean;
  debug?: (message: string, details?: Record<string, unknown>) => void;
}

export interface EngineStats {
  buckets: number;
  differingBuckets: number;
  listedBuckets: number;
  rowsListed: { upstream: number; local: number };
  splitQueries: number;
  lookedUpKeys: number;
  /** how rows were hashed (absent in reports written before it was recorded) */
  hashMethod?: HashMethod;
  /** `slots`: one pass of minute digests per side; `drill-down`: day digests split level by level */
  strategy?: 'slots' | 'drill-down';
  differingSlots?: number;
}

/** The fast PostgreSQL-only hash when both sides compute it, else md5 (which every source computes). */
export function negotiateHashMethod(a: InvoiceSource, b: InvoiceSource): HashMethod {
  return a.hashMethods?.includes('pg-hash') && b.hashMethods?.includes('pg-hash') ? 'pg-hash' : 'md5';
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

  const method = options.hashMethod ?? negotiateHashMethod(upstream, local);
  stats.hashMethod = method;
  const hours: Record<Side, Map<string, Digest[]> | undefined> = { upstream: undefined, local: undefined };

  const childDigests = async (side: Side, bucket: BucketRef, own: Digest, level: SplitLevel): Promise<Digest[]> => {
    if (own.count === 0) return [];
    const pre = level.by === 'hour' && bucket.hour === undefined && bucket.prefix === undefined ? hours[side]?.get(bucketId(bucket)) : undefined;
    if (pre) return pre;
    stats.splitQueries += 1;
    return sources[side].splitDigests(bucket, level, method);
  };

  const listAndDiff = async (what: string, listUp: () => Promise<Invoice[]>, listLo: () => Promise<Invoice[]>): Promise<void> => {
    check();
    const [ur, lr] = await Promise.all([listUp(), listLo()]);
    stats.listedBuckets += 1;
    stats.rowsListed.upstream += ur.length;
    stats.rowsListed.local += lr.length;
    pushAll(diffs, diffRows(ur, lr));
    options.debug?.('listed', { what, upstream: ur.length, local: lr.length });
  };

  const drill = async (bucket: BucketRef, u: Digest, l: Digest): Promise<void> => {
    check();
    const decision = decideSplit(bucket, Math.max(u.count, l.count), limits);
    if (decision.action === 'list') {
      await listAndDiff(bucketId(bucket), async () => (u.count === 0 ? [] : upstream.list(bucket)), async () => (l.count === 0 ? [] : local.list(bucket)));
      return;
    }
    const level = decision.level;
    const [uc, lc] = await Promise.all([childDigests('upstream', bucket, u, level), childDigests('local', bucket, l, level)]);
    const children = pairDigests(uc, lc, (c) => childBucket(bucket, c, level)).filter((c) => !c.equal);
    await eachLimit(children, options.concurrency ?? 2, (c) => drill(c.bucket, c.upstream, c.local));
  };

  let days: DayComparison[] | undefined;
  const us = upstream.slots;
  const ls = local.slots;
  if (us && ls && options.slots !== false) {
    const [uSlots, lSlots] = await Promise.all([us.digests(options.window, options.partition, method), ls.digests(options.window, options.partition, method)]);
    check();
    if (uSlots && lSlots) {
      stats.strategy = 'slots';
      const hourly = pairDigests(uSlots, lSlots, (b) => b);
      days = pairDigests(uSlots, lSlots, (b) => ({ day: b.day, ...(b.partition !== undefined ? { partition: b.partition } : {}) }));
      const plan = planSlots(hourly, { upstream: (h) => us.minutes(h), local: (h) => ls.minutes(h) }, limits.listLimit, limits.listLimit * 10);
      stats.differingSlots = plan.differingSlots;
      options.debug?.('slot digests compared', { method, hours: hourly.length, differingSlots: plan.differingSlots, batches: plan.batches.length, drilledHours: plan.hours.length });
      await eachLimit(plan.batches, options.concurrency ?? 2, (batch) => listAndDiff(`${batch.length} slots`, () => us.list(batch), () => ls.list(batch)));
      await eachLimit(plan.hours, options.concurrency ?? 2, (h) => drill(h.bucket, h.upstream, h.local));
    }
  }
  if (!days) {
    stats.strategy = 'drill-down';
    const [up, lo] = await Promise.all([upstream.windowDigests(options.window, options.partition, method), local.windowDigests(options.window, options.partition, method)]);
    check();
    hours.upstream = hoursByDay(up.hours);
    hours.local = hoursByDay(lo.hours);
    days = pairDigests(up.days, lo.days, (b) => b);
    const differing = days.filter((d) => !d.equal);
    await eachLimit(differing, options.concurrency ?? 2, (d) => drill(d.bucket, d.upstream, d.local));
  }
  stats.buckets = days.length;
  stats.differingBuckets = days.filter((d) => !d.equal).length;

  const merged = await lookupUnmatched(mergeKeyDiffs(diffs), sources, stats);
  return { days, diffs: merged, stats };
}

/** Keys seen on one side only (or twice) may sit on another day, or outside the window: look them up. */
async function lookupUnmatched(diffs: KeyDiff[], sources: Record<Side, InvoiceSource>, stats: EngineStats): Promise<KeyDiff[]> {
  const keys = diffs.filter((d) => d.upstream.length !== 1 || d.local.length !== 1).map((d) => d.key);
  if (keys.length === 0) return diffs;
  stats.lookedUpKeys = keys.length;
  const found: Record<Side, Map<string, Invoice[]> | undefined> = { upstream: undefined, local: undefined };
  // both sides at once: they are different connections, often different servers
  await Promise.all(
    (['upstream', 'local'] as const).map(async (side) => {
      const rows: Invoice[] = [];
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = await sources[side].lookup(keys.slice(i, i + 1000));
        if (chunk === undefined) return;
        pushAll(rows, chunk);
      }
      found[side] = groupByKey(rows);
    }),
  );
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
