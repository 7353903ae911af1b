// The drill-down and classification over in-memory sources: planted differences are found
// exactly (property-based), splits are used, typos pair, pending sync is not failing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, failing, oneEditApart } from '../../src/reconcile/engine/classify.js';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { MemorySource } from '../../src/reconcile/sources/memory-source.js';
import { decideSplit } from '../../src/reconcile/engine/split.js';
import { pairDigests } from '../../src/reconcile/engine/pair.js';
import { planSlots } from '../../src/reconcile/engine/slot-plan.js';
import type { BucketRef, Digest } from '../../src/reconcile/model/types.js';
import { DEFAULT_FAIL_ON, type Invoice } from '../../src/reconcile/model/types.js';
import { propertyRuns } from '../helpers/property-runs.js';

const window = { from: '2026-11-01', to: '2026-11-07', timezone: 'Asia/Shanghai' };
const NOW = new Date('2026-11-08T00:00:00Z');

function invoice(i: number, overrides: Partial<Invoice> = {}): Invoice {
  const day = `2026-11-0${1 + (i % 7)}`;
  const hour = (i * 7) % 24;
  const number = String(10_000_000 + i).slice(-8);
  return {
    key: `031001900111-${number}`,
    number,
    code: '031001900111',
    day,
    hour,
    issuedAt: `${day}T${String(hour).padStart(2, '0')}:00:00+08:00`,
    totalFen: 1000 + ((i * 7919) % 100000),
    status: 'valid',
    ...overrides,
  };
}

const mem = (rows: Invoice[]): MemorySource => new MemorySource({ kind: 'memory', location: 'test' }, rows);

describe('split strategy', () => {
  it('lists small buckets, splits a day by hour, then by a long enough prefix', () => {
    expect(decideSplit({ day: '2026-11-01' }, 2000)).toEqual({ action: 'list' });
    expect(decideSplit({ day: '2026-11-01' }, 2001)).toEqual({ action: 'split', level: { by: 'hour' } });
    expect(decideSplit({ day: '2026-11-01', hour: 3 }, 30_000)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 1 },
    });
    expect(decideSplit({ day: '2026-11-01', hour: 3 }, 600_000)).toEqual({
      action: 'split',
      level: { by: 'prefix', length: 3 },
    });
    expect(decideSplit({ day: '2026-11-01', prefix: 'abcdef12' }, 600_000)).toEqual({ action: 'list' });
  });
});

describe('slot plan', () => {
  const d = (bucket: BucketRef, count: number, hash = 1n): Digest => ({ bucket, count, sumFen: BigInt(count), hash });
  it('lists differing minutes in batches, drills an hour holding a minute too big to list, skips equal ones', () => {
    const h = (hour: number): BucketRef => ({ day: '2026-11-01', hour });
    const m = (hour: number, minute: number): BucketRef => ({ ...h(hour), minute });
    const minutes: Record<string, { upstream: Digest[]; local: Digest[] }> = {
      1: {
        upstream: [d(m(1, 0), 10), d(m(1, 1), 10), d(m(1, 2), 10)],
        local: [d(m(1, 0), 10), d(m(1, 1), 9), d(m(1, 2), 10, 2n)],
      },
      2: { upstream: [d(m(2, 5), 500)], local: [d(m(2, 5), 500, 7n)] },
      3: { upstream: [d(m(3, 0), 30)], local: [] },
    };
    const sum = (list: Digest[], b: BucketRef): Digest =>
      d(
        b,
        list.reduce((n, x) => n + x.count, 0),
        list.reduce((n, x) => n + x.hash!, 0n),
      );
    const hours = pairDigests(
      Object.entries(minutes).map(([k, v]) => sum(v.upstream, h(Number(k)))),
      Object.entries(minutes)
        .filter(([, v]) => v.local.length > 0)
        .map(([k, v]) => sum(v.local, h(Number(k)))),
      (b) => b,
    );
    const plan = planSlots(
      hours,
      { upstream: (b) => minutes[b.hour!]!.upstream, local: (b) => minutes[b.hour!]!.local },
      100,
      35,
    );
    expect(plan.differingSlots).toBe(4);
    expect(plan.hours.map((x) => x.bucket)).toEqual([h(2)]);
    expect(plan.batches).toEqual([[m(1, 1), m(1, 2)], [m(3, 0)]]);
  });
});

describe('typing errors', () => {
  it('one substitution or one adjacent swap, nothing else', () => {
    expect(oneEditApart('031001900111-00012345', '031001900111-00012354')).toBe(true);
    expect(oneEditApart('031001900111-00012345', '031001900111-00012845')).toBe(true);
    expect(oneEditApart('031001900111-00012345', '031001900111-00021354')).toBe(false);
    expect(oneEditApart('031001900111-00012345', '031001900111-0012345')).toBe(false);
  });
});

describe('compareSources + classify', () => {
  it('finds each planted kind with its evidence and cause', async () => {
    const base = Array.from({ length: 5000 }, (_, i) => invoice(i));
    const local = base.map((r) => ({ ...r }));
    const upstream = base.map((r) => ({ ...r }));
    upstream[10]!.totalFen += 1; // amount_mismatch
    upstream[20]!.status = 'voided'; // status_mismatch
    local.splice(30, 1); // missing
    upstream.splice(40, 1); // extra (upstream index shifts, fine)
    upstream.push({ ...upstream[50]! }); // duplicate upstream
    const typo = upstream[60]!; // probable typo: one digit mistyped upstream (base[61], after the splice)
    const swapped = `${typo.number.slice(0, 3)}9${typo.number.slice(4)}`;
    upstream[60] = { ...typo, number: swapped, key: `031001900111-${swapped}` };
    const pending = invoice(99_999, {
      day: '2026-11-07',
      hour: 7,
      issuedAt: '2026-11-07T23:30:00Z',
      key: '26312000000000099999',
      number: '26312000000000099999',
    });
    delete pending.code;
    upstream.push(pending);

    const result = await compareSources(mem(upstream), mem(local), {
      window,
      partition: false,
      limits: { listLimit: 50, maxPrefix: 6 },
    });
    expect(result.stats.listedBuckets).toBeGreaterThan(0);
    expect(result.stats.rowsListed.local).toBeLessThan(local.length); // splitting narrowed the listings
    const findings = classify(result.diffs, { now: new Date('2026-11-08T00:00:00Z'), syncLagSeconds: 7200 });
    const brief = findings.map((f) => [f.kind, f.key, f.cause ?? null]);
    expect(brief).toEqual(
      expect.arrayContaining([
        ['amount_mismatch', base[10]!.key, null],
        ['status_mismatch', base[20]!.key, null],
        ['missing', base[30]!.key, null],
        ['extra', base[40]!.key, null],
        ['duplicate', base[51]!.key, null],
        ['missing', `031001900111-${swapped}`, 'probable_typo'],
        ['extra', base[61]!.key, 'probable_typo'],
        ['missing', '26312000000000099999', 'pending_sync'],
      ]),
    );
    expect(findings).toHaveLength(8);
    expect(findings.find((f) => f.kind === 'amount_mismatch')!.evidence).toEqual({
      upstreamFen: base[10]!.totalFen + 1,
      localFen: base[10]!.totalFen,
      differenceFen: -1,
    });
    expect(findings.find((f) => f.cause === 'probable_typo' && f.kind === 'missing')!.evidence.pairedWith).toBe(
      base[61]!.key,
    );
    expect(failing(findings, DEFAULT_FAIL_ON)).toHaveLength(7); // pending sync does not fail the run
  });

  it('catches a missing-plus-extra swap that leaves count and sum equal (the hash does)', async () => {
    const a = invoice(1, { totalFen: 5000 });
    const b = invoice(2, { totalFen: 5000, day: a.day, hour: a.hour });
    const result = await compareSources(mem([a]), mem([b]), { window, partition: false });
    expect(result.days.find((d) => d.bucket.day === a.day)!.equal).toBe(false);
    expect(
      classify(result.diffs, { now: NOW, syncLagSeconds: 0 })
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['extra', 'missing']);
  });

  it('an invoice dated on different days by the two sides is one date_mismatch, not a missing and an extra', async () => {
    const u = invoice(3);
    const l = { ...u, day: '2026-11-06', issuedAt: '2026-11-06T01:00:00+08:00' };
    const result = await compareSources(mem([u]), mem([l]), { window, partition: false });
    const findings = classify(result.diffs, { now: NOW, syncLagSeconds: 0 });
    expect(findings.map((f) => [f.kind, f.key])).toEqual([['date_mismatch', u.key]]);
    expect(findings[0]!.evidence).toMatchObject({ upstreamDay: u.day, localDay: '2026-11-06' });
  });

  it('property: random sets with planted differences are found exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 399 }), { maxLength: 30 }),
        fc.integer({ min: 5, max: 60 }),
        async (n, victims, listLimit) => {
          const base = Array.from({ length: n }, (_, i) => invoice(i));
          const local = base.map((r) => ({ ...r }));
          const upstream = base.map((r) => ({ ...r }));
          const expected = new Map<string, string>();
          victims
            .filter((v) => v < n)
            .forEach((v, j) => {
              const kind = ['missing', 'extra', 'amount_mismatch', 'status_mismatch'][j % 4]!;
              expected.set(base[v]!.key, kind);
              if (kind === 'missing') local[v] = undefined as unknown as Invoice;
              if (kind === 'extra') upstream[v] = undefined as unknown as Invoice;
              if (kind === 'amount_mismatch') upstream[v]!.totalFen += 1 + j;
              if (kind === 'status_mismatch') upstream[v]!.status = 'red_flushed';
            });
          const result = await compareSources(mem(upstream.filter(Boolean)), mem(local.filter(Boolean)), {
            window,
            partition: false,
            limits: { listLimit, maxPrefix: 6 },
          });
          const findings = classify(result.diffs, { now: NOW, syncLagSeconds: 0 });
          const found = new Map(findings.map((f) => [f.key, f.kind as string]));
          // typo pairing may explain a missing/extra pair, but never changes their kinds
          expect(found).toEqual(expected);
        },
      ),
      { numRuns: propertyRuns(60) },
    );
  });
});
