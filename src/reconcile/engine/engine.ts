// The comparison of two InvoiceSources: minute-slot digests in one pass when both sides offer them,
// else day digests drilled down (hour, key-hash prefix) until small; differing parts are listed and
// diffed exactly (total, status, day and the detail fields both sides read), then unmatched keys are
// looked up on every day. No SQL, no files.
import { pushAll } from '../../core/arrays.js';
import { bucketId } from '../model/bucket-digest.js';
import { sharedFields } from '../model/detail-fields.js';
import { type KeyDiff, diffRows, groupByKey, mergeKeyDiffs, sameRow } from './diff.js';
import { type DayComparison, eachLimit, pairDigests } from './pair.js';
import { planSlots } from './slot-plan.js';
import { type SplitLimits, DEFAULT_LIMITS, childBucket, decideSplit } from './split.js';
import type {
  BucketRef,
  DetailField,
  Digest,
  HashMethod,
  Invoice,
  InvoiceSource,
  SplitLevel,
  Window,
} from '../model/types.js';

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
  /** compare only these detail fields (default: every one both sides read; [] for key, day, total and status only) */
  fields?: readonly DetailField[];
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
  /** the detail fields both sides read, hashed into the digests and compared per key (detail-fields.ts) */
  fields: DetailField[];
}

type Side = 'upstream' | 'local';

/**
 * Compare two sources: agree on how rows are hashed and which fields count, compare minute slots
 * in one pass where both sides offer them, else day digests drilled down; then look unmatched keys
 * up on every day.
 */
export async function compareSources(
  upstream: InvoiceSource,
  local: InvoiceSource,
  options: EngineOptions,
): Promise<EngineResult> {
  const run = new Comparison({ upstream, local }, options);
  const days = (await run.compareSlots()) ?? (await run.drillDownDays());
  run.countBuckets(days);
  const diffs = await run.lookUpUnmatched();
  return { days, diffs, stats: run.stats, fields: run.fields };
}

/** The state of one comparison and its steps (compareSources reads them in order). */
class Comparison {
  readonly stats: EngineStats = {
    buckets: 0,
    differingBuckets: 0,
    listedBuckets: 0,
    rowsListed: { upstream: 0, local: 0 },
    splitQueries: 0,
    lookedUpKeys: 0,
  };
  readonly method: HashMethod;
  readonly fields: DetailField[];
  private readonly diffs: KeyDiff[] = [];
  private readonly limits: SplitLimits;
  private readonly concurrency: number;
  /** hour digests the day digests came with (drill-down), so the first split costs no query */
  private readonly hours: Record<Side, Map<string, Digest[]> | undefined> = { upstream: undefined, local: undefined };

  constructor(
    private readonly sources: Record<Side, InvoiceSource>,
    private readonly options: EngineOptions,
  ) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.concurrency = options.concurrency ?? 2;
    this.method = options.hashMethod ?? negotiateHashMethod(sources.upstream, sources.local);
    this.fields = sharedFields(sources.upstream.fields, sources.local.fields).filter(
      (f) => options.fields?.includes(f) ?? true,
    );
    this.stats.hashMethod = this.method;
  }

  private check(): void {
    if (this.options.signal?.aborted) throw this.options.signal.reason ?? new Error('aborted');
  }

  /** Minute-slot digests of both sides in one pass each; undefined when either side cannot. */
  async compareSlots(): Promise<DayComparison[] | undefined> {
    const us = this.sources.upstream.slots;
    const ls = this.sources.local.slots;
    if (!us || !ls || this.options.slots === false) return undefined;
    const { window, partition } = this.options;
    const [uSlots, lSlots] = await Promise.all([
      us.digests(window, partition, this.method, this.fields),
      ls.digests(window, partition, this.method, this.fields),
    ]);
    this.check();
    if (!uSlots || !lSlots) return undefined;
    this.stats.strategy = 'slots';
    const hourly = pairDigests(uSlots, lSlots, (b) => b);
    const days = pairDigests(uSlots, lSlots, (b) => ({
      day: b.day,
      ...(b.partition !== undefined ? { partition: b.partition } : {}),
    }));
    const listLimit = this.limits.listLimit;
    const plan = planSlots(
      hourly,
      { upstream: (h) => us.minutes(h), local: (h) => ls.minutes(h) },
      listLimit,
      listLimit * 10,
    );
    this.stats.differingSlots = plan.differingSlots;
    this.options.debug?.('slot digests compared', {
      method: this.method,
      hours: hourly.length,
      differingSlots: plan.differingSlots,
      batches: plan.batches.length,
      drilledHours: plan.hours.length,
    });
    await eachLimit(plan.batches, this.concurrency, (batch) =>
      this.listAndDiff(
        `${batch.length} slots`,
        () => us.list(batch),
        () => ls.list(batch),
      ),
    );
    await eachLimit(plan.hours, this.concurrency, (h) => this.drill(h.bucket, h.upstream, h.local));
    return days;
  }

  /** Day digests of both sides; differing days drilled down until small enough to list. */
  async drillDownDays(): Promise<DayComparison[]> {
    this.stats.strategy = 'drill-down';
    const { window, partition } = this.options;
    const [up, lo] = await Promise.all([
      this.sources.upstream.windowDigests(window, partition, this.method, this.fields),
      this.sources.local.windowDigests(window, partition, this.method, this.fields),
    ]);
    this.check();
    this.hours.upstream = hoursByDay(up.hours);
    this.hours.local = hoursByDay(lo.hours);
    const days = pairDigests(up.days, lo.days, (b) => b);
    await eachLimit(
      days.filter((d) => !d.equal),
      this.concurrency,
      (d) => this.drill(d.bucket, d.upstream, d.local),
    );
    return days;
  }

  countBuckets(days: readonly DayComparison[]): void {
    this.stats.buckets = days.length;
    this.stats.differingBuckets = days.filter((d) => !d.equal).length;
  }

  /** Keys seen on one side only (or twice) may sit on another day, or outside the window: look them up. */
  async lookUpUnmatched(): Promise<KeyDiff[]> {
    const diffs = mergeKeyDiffs(this.diffs);
    const keys = diffs.filter((d) => d.upstream.length !== 1 || d.local.length !== 1).map((d) => d.key);
    if (keys.length === 0) return diffs;
    this.stats.lookedUpKeys = keys.length;
    // both sides at once: they are different connections, often different servers
    const [up, lo] = await Promise.all([lookupAll(this.sources.upstream, keys), lookupAll(this.sources.local, keys)]);
    const wanted = new Set(keys);
    return diffs
      .map((d) =>
        wanted.has(d.key)
          ? {
              key: d.key,
              upstream: up ? (up.get(d.key) ?? []) : d.upstream,
              local: lo ? (lo.get(d.key) ?? []) : d.local,
            }
          : d,
      )
      .filter(
        (d) => !(d.upstream.length === 1 && d.local.length === 1 && sameRow(d.upstream[0]!, d.local[0]!, this.fields)),
      );
  }

  private async drill(bucket: BucketRef, u: Digest, l: Digest): Promise<void> {
    this.check();
    const decision = decideSplit(bucket, Math.max(u.count, l.count), this.limits);
    if (decision.action === 'list') {
      const { upstream, local } = this.sources;
      await this.listAndDiff(
        bucketId(bucket),
        async () => (u.count === 0 ? [] : upstream.list(bucket)),
        async () => (l.count === 0 ? [] : local.list(bucket)),
      );
      return;
    }
    const level = decision.level;
    const [uc, lc] = await Promise.all([
      this.childDigests('upstream', bucket, u, level),
      this.childDigests('local', bucket, l, level),
    ]);
    const children = pairDigests(uc, lc, (c) => childBucket(bucket, c, level)).filter((c) => !c.equal);
    await eachLimit(children, this.concurrency, (c) => this.drill(c.bucket, c.upstream, c.local));
  }

  private async childDigests(side: Side, bucket: BucketRef, own: Digest, level: SplitLevel): Promise<Digest[]> {
    if (own.count === 0) return [];
    const pre =
      level.by === 'hour' && bucket.hour === undefined && bucket.prefix === undefined
        ? this.hours[side]?.get(bucketId(bucket))
        : undefined;
    if (pre) return pre;
    this.stats.splitQueries += 1;
    return this.sources[side].splitDigests(bucket, level, this.method, this.fields);
  }

  private async listAndDiff(
    what: string,
    listUp: () => Promise<Invoice[]>,
    listLo: () => Promise<Invoice[]>,
  ): Promise<void> {
    this.check();
    const [ur, lr] = await Promise.all([listUp(), listLo()]);
    this.stats.listedBuckets += 1;
    this.stats.rowsListed.upstream += ur.length;
    this.stats.rowsListed.local += lr.length;
    pushAll(this.diffs, diffRows(ur, lr, this.fields));
    this.options.debug?.('listed', { what, upstream: ur.length, local: lr.length });
  }
}

/** Rows of these keys on any day, by key, in chunks; undefined when the source cannot look keys up. */
async function lookupAll(source: InvoiceSource, keys: readonly string[]): Promise<Map<string, Invoice[]> | undefined> {
  const rows: Invoice[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = await source.lookup(keys.slice(i, i + 1000));
    if (chunk === undefined) return undefined;
    pushAll(rows, chunk);
  }
  return groupByKey(rows);
}

function hoursByDay(hours: Digest[] | undefined): Map<string, Digest[]> | undefined {
  if (!hours) return undefined;
  const out = new Map<string, Digest[]>();
  for (const h of hours) {
    const day = bucketId({
      day: h.bucket.day,
      ...(h.bucket.partition !== undefined ? { partition: h.bucket.partition } : {}),
    });
    out.set(day, [...(out.get(day) ?? []), h]);
  }
  return out;
}
