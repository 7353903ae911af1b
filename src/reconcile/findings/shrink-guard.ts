// A damaged or partial upstream (a truncated export, an API that lost pages) looks like invoices
// that vanished: resolving open findings from such a run would bury real problems. Each run
// records its upstream rows per day; a run whose upstream holds clearly fewer rows than the
// previous run on the days both covered resolves nothing, and says so. Pure.

export interface UpstreamShrink {
  /** rows on the days both runs covered: now, and in the previous run */
  rows: number;
  previousRows: number;
  previousRun: string;
  /** the configured fraction (reconcile.limits.maxShrink) */
  maxShrink: number;
  days: number;
}

/** Upstream rows per day (partitions summed), as recorded in the run's summary. */
export function rowsPerDay(
  days: ReadonlyArray<{ bucket: { day: string }; upstream: { count: number } }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of days) out[d.bucket.day] = (out[d.bucket.day] ?? 0) + d.upstream.count;
  return out;
}

/**
 * The shrink beyond `maxShrink` since the previous run, on the days of the previous run inside
 * this run's window (a day without rows now counts as zero), or undefined when there is none.
 */
export function upstreamShrink(
  current: Readonly<Record<string, number>>,
  window: { from: string; to: string },
  previous: { run: string; days: Readonly<Record<string, number>> } | undefined,
  maxShrink: number,
): UpstreamShrink | undefined {
  if (!previous) return undefined;
  let rows = 0;
  let previousRows = 0;
  let days = 0;
  for (const [day, count] of Object.entries(previous.days)) {
    if (typeof count !== 'number' || day < window.from || day > window.to) continue;
    days++;
    previousRows += count;
    rows += current[day] ?? 0;
  }
  if (previousRows === 0 || rows >= previousRows * (1 - maxShrink)) return undefined;
  return { rows, previousRows, previousRun: previous.run, maxShrink, days };
}

export function shrinkMessage(s: UpstreamShrink): string {
  const pct = Math.round((1 - s.rows / s.previousRows) * 100);
  return `the upstream shrank by ${pct}% since run ${s.previousRun} (${s.rows} rows instead of ${s.previousRows} on the ${s.days} day(s) both runs covered, more than reconcile.limits.maxShrink ${s.maxShrink}): no finding was resolved by this run`;
}
