// Array helpers that never spread: `a.push(...b)` and `Math.max(...b)` pass every element as a call
// argument and overflow the stack past about 100k elements (a large export). test/security/
// no-unbounded-spread.test.ts keeps such calls out of src/.

/** Appends every item of `items` to `target` (in place) and returns `target`. */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest value, or undefined for an empty list. */
export function maxOf(values: Iterable<number>): number | undefined {
  let max: number | undefined;
  for (const v of values) if (max === undefined || v > max) max = v;
  return max;
}
