// The exact diff of listed buckets (src/reconcile/engine/diff.ts): a key is kept when its rows differ in
// any compared field (total, status, day, partition) or in number; merged across buckets by key.
import { describe, expect, it } from 'vitest';
import { diffRows, groupByKey, mergeKeyDiffs } from '../../src/reconcile/engine/diff.js';
import type { Invoice } from '../../src/reconcile/model/types.js';

const inv = (key: string, over: Partial<Invoice> = {}): Invoice => ({
  key,
  number: key,
  day: '2026-11-20',
  hour: 9,
  issuedAt: '2026-11-20T01:00:00Z',
  totalFen: 11_300,
  status: 'issued',
  ...over,
});

describe('diffRows', () => {
  it('identical single rows on both sides are no difference', () => {
    expect(diffRows([inv('A'), inv('B', { partition: 'p1' })], [inv('B', { partition: 'p1' }), inv('A')])).toEqual([]);
  });

  it.each([
    ['total', { totalFen: 11_301 }],
    ['status', { status: 'red_flushed' }],
    ['day', { day: '2026-11-21' }],
    ['partition', { partition: 'shop-2' }],
  ])('a different %s is a difference', (_field, change) => {
    const up = inv('A', { partition: 'shop-1' });
    const lo = inv('A', { partition: 'shop-1', ...change });
    expect(diffRows([up, inv('B')], [lo, inv('B')])).toEqual([{ key: 'A', upstream: [up], local: [lo] }]);
  });

  it('no partition and an empty partition are the same; fields not compared (hour, issuedAt, origin) do not count', () => {
    expect(diffRows([inv('A')], [inv('A', { partition: '' })])).toEqual([]);
    expect(diffRows([inv('A', { partition: '' })], [inv('A')])).toEqual([]);
    expect(diffRows([inv('A')], [inv('A', { hour: 10, issuedAt: '2026-11-20T02:00:00Z', origin: 'x.csv:2' })])).toEqual(
      [],
    );
  });

  it('a key on one side only, and a key with two rows on a side, are differences', () => {
    const a = inv('A');
    const b = inv('B');
    const c1 = inv('C', { origin: 'x.csv:1' });
    const c2 = inv('C', { origin: 'x.csv:2' });
    expect(diffRows([a, c1], [b, c1, c2])).toEqual([
      { key: 'A', upstream: [a], local: [] },
      { key: 'C', upstream: [c1], local: [c1, c2] },
      { key: 'B', upstream: [], local: [b] },
    ]);
    // the same duplicate on both sides is still a difference (two rows are never "the same")
    expect(diffRows([c1, c2], [c1, c2])).toEqual([{ key: 'C', upstream: [c1, c2], local: [c1, c2] }]);
    // two rows on one side and one of them on the other: a difference, whichever side has two
    expect(diffRows([c1, c2], [c1])).toEqual([{ key: 'C', upstream: [c1, c2], local: [c1] }]);
    expect(diffRows([c1], [c1, c2])).toEqual([{ key: 'C', upstream: [c1], local: [c1, c2] }]);
  });

  it('a compared detail field counts only when asked for; without fields only the four columns do', () => {
    const up = inv('A', { amountFen: 10_000, sellerTaxId: '91310000MA1FL0001X' });
    const lo = inv('A', { amountFen: 10_001, sellerTaxId: '91310000MA1FL0001X' });
    expect(diffRows([up], [lo])).toEqual([]);
    expect(diffRows([up], [lo], ['sellerTaxId'])).toEqual([]);
    expect(diffRows([up], [lo], ['amount'])).toEqual([{ key: 'A', upstream: [up], local: [lo] }]);
    expect(diffRows([up], [lo], ['sellerTaxId', 'amount'])).toEqual([{ key: 'A', upstream: [up], local: [lo] }]);
  });
});

describe('groupByKey', () => {
  it('keeps the rows of each key in input order, keys in first-seen order', () => {
    const rows = [inv('B', { origin: '1' }), inv('A', { origin: '2' }), inv('B', { origin: '3' })];
    expect([...groupByKey(rows).entries()]).toEqual([
      ['B', [rows[0], rows[2]]],
      ['A', [rows[1]]],
    ]);
  });
});

describe('mergeKeyDiffs', () => {
  it('joins the diffs of one key found in two buckets, and copies instead of sharing input arrays', () => {
    const up = inv('A', { day: '2026-11-20' });
    const lo = inv('A', { day: '2026-11-21' });
    const other = { key: 'B', upstream: [inv('B')], local: [] };
    const first = { key: 'A', upstream: [up], local: [] };
    const merged = mergeKeyDiffs([first, other, { key: 'A', upstream: [], local: [lo] }]);
    expect(merged).toEqual([
      { key: 'A', upstream: [up], local: [lo] },
      { key: 'B', upstream: [other.upstream[0]], local: [] },
    ]);
    expect(first).toEqual({ key: 'A', upstream: [up], local: [] });
    expect(merged[0]!.upstream).not.toBe(first.upstream);
  });

  it('a key seen once keeps the rows of both its sides', () => {
    const up = inv('C', { totalFen: 1 });
    const lo = inv('C', { totalFen: 2 });
    const only = { key: 'C', upstream: [up], local: [lo] };
    const merged = mergeKeyDiffs([only]);
    expect(merged).toEqual([{ key: 'C', upstream: [up], local: [lo] }]);
    expect(merged[0]!.local).not.toBe(only.local);
  });
});
