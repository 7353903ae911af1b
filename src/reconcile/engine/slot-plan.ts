// What to do with differing hours of minute-slot digests (pure): compare their minutes, list the
// differing minutes in batches of about `batchRows` rows a side; an hour holding a differing minute
// too big to list is drilled down instead (by key-hash prefix), whole.
import type { DayComparison } from './pair.js';
import { pairDigests } from './pair.js';
import type { BucketRef, Digest } from '../model/types.js';

export interface SlotPlan {
  /** minutes (× partition) listed together, one query per side per batch */
  batches: BucketRef[][];
  /** hour (× partition) buckets to drill down by key-hash prefix */
  hours: DayComparison[];
  differingSlots: number;
}

/** `hours`: paired hour digests; `minutes`: a side's minute digests of an hour (parsed on demand). */
export function planSlots(
  hours: readonly DayComparison[],
  minutes: { upstream: (h: BucketRef) => Digest[]; local: (h: BucketRef) => Digest[] },
  listLimit: number,
  batchRows: number,
): SlotPlan {
  const plan: SlotPlan = { batches: [], hours: [], differingSlots: 0 };
  let batch: BucketRef[] = [];
  let rows = 0;
  const size = (s: DayComparison): number => Math.max(s.upstream.count, s.local.count);
  for (const h of hours) {
    if (h.equal) continue;
    const differing = pairDigests(
      h.upstream.count === 0 ? [] : minutes.upstream(h.bucket),
      h.local.count === 0 ? [] : minutes.local(h.bucket),
      (b) => b,
    ).filter((m) => !m.equal);
    plan.differingSlots += differing.length;
    // a slot listing and a drilled hour never cover the same rows: an hour is one or the other
    if (differing.some((m) => size(m) > listLimit)) {
      plan.hours.push(h);
      continue;
    }
    for (const m of differing) {
      if (batch.length > 0 && rows + size(m) > batchRows) {
        plan.batches.push(batch);
        batch = [];
        rows = 0;
      }
      batch.push(m.bucket);
      rows += size(m);
    }
  }
  if (batch.length > 0) plan.batches.push(batch);
  return plan;
}
