// Lining up the two sides' digests bucket by bucket, and a small concurrency helper; shared by the
// drill-down and the minute-slot comparison.
import { addDigest, bucketId, digestsEqual, emptyDigest } from '../model/bucket-digest.js';
import type { BucketRef, Digest } from '../model/types.js';

export interface DayComparison {
  bucket: BucketRef;
  upstream: Digest;
  local: Digest;
  equal: boolean;
}

/** Line up two digest lists by bucket (summing those `bucketOf` maps together); a bucket missing on one side is an empty digest there. */
export function pairDigests(up: Digest[], lo: Digest[], bucketOf: (b: BucketRef) => BucketRef): DayComparison[] {
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

export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
