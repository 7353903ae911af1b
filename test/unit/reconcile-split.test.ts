// How a differing bucket is narrowed (src/reconcile/engine/split.ts): list, split by hour, or split by a
// key-hash prefix sized so each child holds about listLimit rows; the expected levels are written out.
import { describe, expect, it } from 'vitest';
import { childBucket, decideSplit, DEFAULT_LIMITS } from '../../src/reconcile/engine/split.js';

const day = { day: '2026-11-20' };

describe('decideSplit', () => {
  it('defaults: list up to 2000 rows, prefixes up to 8 hex digits', () => {
    expect(DEFAULT_LIMITS).toEqual({ listLimit: 2000, maxPrefix: 8 });
    expect(decideSplit(day, 2000)).toEqual({ action: 'list' });
    expect(decideSplit(day, 2001)).toEqual({ action: 'split', level: { by: 'hour' } });
  });

  it('a day over the limit splits by hour first; an hour splits by prefix', () => {
    const limits = { listLimit: 100, maxPrefix: 4 };
    expect(decideSplit(day, 100, limits)).toEqual({ action: 'list' });
    expect(decideSplit(day, 101, limits)).toEqual({ action: 'split', level: { by: 'hour' } });
    expect(decideSplit({ ...day, hour: 0 }, 101, limits)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 1 },
    });
    // a bucket that already has a prefix (and no hour) splits by a longer prefix, not by hour
    expect(decideSplit({ ...day, prefix: 'a' }, 101, limits)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 2 },
    });
  });

  it('adds enough hex digits that an even spread lands under the limit', () => {
    const limits = { listLimit: 100, maxPrefix: 8 };
    const hour = { ...day, hour: 3 };
    expect(decideSplit(hour, 1_600, limits)).toEqual({ action: 'split', level: { by: 'prefix', length: 1 } });
    expect(decideSplit(hour, 1_601, limits)).toEqual({ action: 'split', level: { by: 'prefix', length: 2 } });
    expect(decideSplit(hour, 25_600, limits)).toEqual({ action: 'split', level: { by: 'prefix', length: 2 } });
    expect(decideSplit(hour, 25_601, limits)).toEqual({ action: 'split', level: { by: 'prefix', length: 3 } });
    expect(decideSplit({ ...hour, prefix: '0f' }, 1_700, limits)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 4 },
    });
  });

  it('never asks for more than maxPrefix digits, and lists once a bucket has them', () => {
    const limits = { listLimit: 10, maxPrefix: 3 };
    expect(decideSplit({ ...day, hour: 1 }, 10_000_000, limits)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 3 },
    });
    expect(decideSplit({ ...day, hour: 1, prefix: 'ab' }, 10_000_000, limits)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 3 },
    });
    expect(decideSplit({ ...day, hour: 1, prefix: 'abc' }, 10_000_000, limits)).toEqual({ action: 'list' });
    expect(decideSplit({ ...day, hour: 1, prefix: 'abcd' }, 10_000_000, limits)).toEqual({ action: 'list' });
  });
});

describe('childBucket', () => {
  it('adds the child hour or the child prefix to the parent, keeping day and partition', () => {
    const parent = { day: '2026-11-20', partition: 'shop-1' };
    expect(childBucket(parent, { day: '2026-11-20', hour: 7, prefix: 'ignored' }, { by: 'hour' })).toEqual({
      day: '2026-11-20',
      partition: 'shop-1',
      hour: 7,
    });
    expect(
      childBucket({ ...parent, hour: 7 }, { day: 'x', hour: 99, prefix: '3f' }, { by: 'prefix', length: 2 }),
    ).toEqual({
      day: '2026-11-20',
      partition: 'shop-1',
      hour: 7,
      prefix: '3f',
    });
  });
});
