// How to narrow a differing bucket: list it when small, else split by hour, then by a key-hash
// prefix long enough that each child holds about `listLimit` rows (data-diff's bisection).
import type { BucketRef, SplitLevel } from '../model/types.js';

export interface SplitLimits {
  /** list a bucket exactly once it holds at most this many rows on the larger side */
  listLimit: number;
  /** longest key-hash prefix (hex digits); past it a bucket is listed whatever its size */
  maxPrefix: number;
}

export const DEFAULT_LIMITS: SplitLimits = { listLimit: 2000, maxPrefix: 8 };

export type SplitDecision = { action: 'list' } | { action: 'split'; level: SplitLevel };

export function decideSplit(bucket: BucketRef, rows: number, limits: SplitLimits = DEFAULT_LIMITS): SplitDecision {
  if (rows <= limits.listLimit) return { action: 'list' };
  if (bucket.hour === undefined && bucket.prefix === undefined) return { action: 'split', level: { by: 'hour' } };
  const current = bucket.prefix?.length ?? 0;
  if (current >= limits.maxPrefix) return { action: 'list' };
  // 16 children per hex digit: enough digits that an even spread lands under the limit
  const digits = Math.max(1, Math.ceil(Math.log(rows / limits.listLimit) / Math.log(16)));
  return { action: 'split', level: { by: 'prefix', length: Math.min(limits.maxPrefix, current + digits) } };
}

/** The child of `parent` that a child digest's bucket names (hour or prefix added). */
export function childBucket(parent: BucketRef, child: BucketRef, level: SplitLevel): BucketRef {
  return level.by === 'hour' ? { ...parent, hour: child.hour! } : { ...parent, prefix: child.prefix! };
}
