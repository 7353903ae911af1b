// Retention plans as pure functions over generated backup histories (fast-check): the newest complete
// backup always stays, nothing a rule keeps is deleted, plans are stable, incomplete ones age out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeBackupId } from '../../src/core/run-id.js';
import type { RetentionPolicy } from '../../src/backup/retention-config.js';
import { type PlanInput, isoWeek, planRetention } from '../../src/backup/retention-plan.js';
import { testClocks, testNow } from '../helpers/clock.js';
import { propertyRuns } from '../helpers/property-runs.js';

const TZ = 'Asia/Shanghai';
const NOW = testNow();
const DAY = 86_400_000;

function policy(p: Partial<RetentionPolicy> = {}): RetentionPolicy {
  return { configured: true, keepLast: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, incompleteAfter: 86400, ...p };
}

function backup(at: Date, status: PlanInput['status'] = 'complete', suffix?: string): PlanInput {
  return {
    id: makeBackupId(at, suffix),
    status,
    startedAt: new Date(Math.floor(at.getTime() / 1000) * 1000),
    storedBytes: 1000,
  };
}

const historyArb = (NOW: Date) =>
  fc
    .array(
      fc.record({
        offsetMs: fc.integer({ min: 0, max: 3 * 365 * DAY }),
        complete: fc.boolean(),
        suffix: fc.integer({ min: 0, max: 0xffff }),
      }),
      { maxLength: 60 },
    )
    .map((items) =>
      items.map((i) =>
        backup(
          new Date(NOW.getTime() - i.offsetMs),
          i.complete || i.suffix % 5 !== 0 ? 'complete' : 'incomplete' /* about 1 in 10 incomplete */,
          i.suffix.toString(16).padStart(4, '0'),
        ),
      ),
    )
    .map((list) => [...new Map(list.map((b) => [b.id, b])).values()]);
const policyArb = fc.record({
  configured: fc.boolean(),
  keepLast: fc.integer({ min: 0, max: 5 }),
  daily: fc.integer({ min: 0, max: 10 }),
  weekly: fc.integer({ min: 0, max: 6 }),
  monthly: fc.integer({ min: 0, max: 14 }),
  yearly: fc.integer({ min: 0, max: 3 }),
  incompleteAfter: fc.constantFrom(3600, 86400, 7 * 86400),
});
const tzArb = fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/Berlin');

/**
 * The oracle's own calendar buckets, written apart from src (a bug in src's periodKey must not be
 * shared by the oracle): the zone's date from Intl, the ISO week by the ordinal-day formula.
 */
const oracleDates = new Map<string, Intl.DateTimeFormat>();
function oracleKey(period: 'daily' | 'weekly' | 'monthly' | 'yearly', at: Date, tz: string): string {
  let f = oracleDates.get(tz);
  if (!f)
    oracleDates.set(
      tz,
      (f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })),
    );
  const [y, m, d] = f.format(at).split('-').map(Number) as [number, number, number];
  if (period === 'yearly') return `Y${y}`;
  if (period === 'monthly') return `M${y}/${m}`;
  if (period === 'daily') return `D${y}/${m}/${d}`;
  const p = (year: number) => (year + Math.floor(year / 4) - Math.floor(year / 100) + Math.floor(year / 400)) % 7;
  const weeksIn = (year: number) => (p(year) === 4 || p(year - 1) === 3 ? 53 : 52);
  const ordinal = (Date.UTC(y, m - 1, d) - Date.UTC(y, 0, 1)) / DAY + 1;
  const weekday = ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1; // Monday 1 .. Sunday 7
  const w = Math.floor((ordinal - weekday + 10) / 7);
  if (w < 1) return `W${y - 1}/${weeksIn(y - 1)}`;
  if (w > weeksIn(y)) return `W${y + 1}/1`;
  return `W${y}/${w}`;
}

/** An independent oracle: for each rule, the ids it must keep. */
function mustKeep(history: PlanInput[], p: RetentionPolicy, tz: string): Set<string> {
  const complete = history
    .filter((b) => b.status === 'complete')
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id.localeCompare(a.id));
  const keep = new Set<string>(complete.slice(0, Math.max(1, p.keepLast)).map((b) => b.id));
  if (!p.configured) complete.forEach((b) => keep.add(b.id));
  for (const period of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
    const newestPerPeriod = new Map<string, string>();
    for (const b of complete)
      if (!newestPerPeriod.has(oracleKey(period, b.startedAt, tz)))
        newestPerPeriod.set(oracleKey(period, b.startedAt, tz), b.id);
    [...newestPerPeriod.values()].slice(0, p[period]).forEach((id) => keep.add(id));
  }
  return keep;
}

// the properties hold at any instant: they run at each fixed clock (test/helpers/clock.ts)
describe.each(testClocks().map((now) => ({ NOW: now, at: now.toISOString() })))(
  'planRetention properties at $at',
  ({ NOW }) => {
    it('never deletes the newest complete backup', () => {
      fc.assert(
        fc.property(historyArb(NOW), policyArb, tzArb, (history, p, tz) => {
          const plan = planRetention(history, p, NOW, tz);
          const newest = history
            .filter((b) => b.status === 'complete')
            .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id.localeCompare(a.id))[0];
          if (newest)
            expect(plan.find((e) => e.id === newest.id)).toMatchObject({
              action: 'keep',
              reasons: expect.arrayContaining(['newest complete backup']),
            });
        }),
        { numRuns: propertyRuns(300) },
      );
    });

    it('keeps exactly what some rule keeps, deletes only complete backups no rule keeps, with a reason for each', () => {
      fc.assert(
        fc.property(historyArb(NOW), policyArb, tzArb, (history, p, tz) => {
          const plan = planRetention(history, p, NOW, tz);
          const oracle = mustKeep(history, p, tz);
          expect(plan).toHaveLength(history.length);
          for (const e of plan) {
            expect(e.reasons.length).toBeGreaterThan(0);
            if (e.status === 'complete') expect(e.action).toBe(oracle.has(e.id) ? 'keep' : 'delete');
          }
        }),
        { numRuns: propertyRuns(300) },
      );
    });

    it('is stable: planning again over what it kept deletes nothing more', () => {
      fc.assert(
        fc.property(historyArb(NOW), policyArb, tzArb, (history, p, tz) => {
          const kept = planRetention(history, p, NOW, tz).filter((e) => e.action === 'keep' && e.status === 'complete');
          const again = planRetention(kept, p, NOW, tz);
          expect(again.filter((e) => e.action === 'delete').map((e) => e.id)).toEqual([]);
        }),
        { numRuns: propertyRuns(200) },
      );
    });

    it('deletes incomplete backups exactly when older than incompleteAfter, and keeps at most the counts + 1', () => {
      fc.assert(
        fc.property(historyArb(NOW), policyArb, tzArb, (history, p, tz) => {
          const plan = planRetention(history, p, NOW, tz);
          for (const e of plan.filter((x) => x.status === 'incomplete')) {
            expect(e.action).toBe(
              (NOW.getTime() - e.startedAt.getTime()) / 1000 > p.incompleteAfter ? 'delete' : 'keep',
            );
          }
          if (p.configured) {
            const keptComplete = plan.filter((e) => e.status === 'complete' && e.action === 'keep').length;
            expect(keptComplete).toBeLessThanOrEqual(1 + p.keepLast + p.daily + p.weekly + p.monthly + p.yearly);
          }
        }),
        { numRuns: propertyRuns(200) },
      );
    });
  },
);

describe('planRetention examples', () => {
  it('daily in the configured zone: 23:30 and 00:30 Shanghai are different days even though both are the same UTC day', () => {
    const late = backup(new Date('2026-11-27T15:30:00Z'), 'complete', 'aaaa'); // 23:30 +08:00 on the 27th
    const early = backup(new Date('2026-11-27T16:30:00Z'), 'complete', 'bbbb'); // 00:30 +08:00 on the 28th
    const older = backup(new Date('2026-11-27T10:00:00Z'), 'complete', 'cccc'); // 18:00 on the 27th
    const plan = planRetention([older, late, early], policy({ daily: 2 }), NOW, TZ);
    expect(plan.map((e) => [e.id, e.action, e.reasons])).toEqual([
      [early.id, 'keep', ['newest complete backup', 'daily 1/2 (2026-11-28)']],
      [late.id, 'keep', ['daily 2/2 (2026-11-27)']],
      [older.id, 'delete', ['kept by no rule']],
    ]);
    // in UTC all three share one day: only the newest is kept by daily
    expect(planRetention([older, late, early], policy({ daily: 2 }), NOW, 'UTC').map((e) => e.action)).toEqual([
      'keep',
      'delete',
      'delete',
    ]);
  });

  it('a gap in backups does not empty the repository: daily counts days that have a backup', () => {
    const old = [40, 41, 42, 43].map((d, i) => backup(new Date(NOW.getTime() - d * DAY), 'complete', `000${i}`));
    const plan = planRetention(old, policy({ daily: 3 }), NOW, TZ);
    expect(plan.map((e) => e.action)).toEqual(['keep', 'keep', 'keep', 'delete']);
  });

  it('without a policy every complete backup is kept; old incomplete ones still go', () => {
    const plan = planRetention(
      [
        backup(new Date(NOW.getTime() - 9 * DAY)),
        backup(new Date(NOW.getTime() - 3 * DAY), 'incomplete'),
        backup(new Date(NOW.getTime() - 3600_000), 'incomplete'),
      ],
      { ...policy(), configured: false },
      NOW,
      TZ,
    );
    expect(plan.map((e) => [e.status, e.action, e.reasons[0]])).toEqual([
      ['incomplete', 'keep', 'incomplete but younger than 1d: may still be running'],
      ['incomplete', 'delete', 'incomplete (no manifest), older than 1d'],
      ['complete', 'keep', 'newest complete backup'],
    ]);
  });

  it('ISO weeks: 2026-12-31 (Thursday) is 2026-W53, 2027-01-01 too; 2024-12-30 is 2025-W01', () => {
    expect(isoWeek(2026, 12, 31)).toBe('2026-W53');
    expect(isoWeek(2027, 1, 1)).toBe('2026-W53');
    expect(isoWeek(2024, 12, 30)).toBe('2025-W01');
    expect(isoWeek(2026, 11, 28)).toBe('2026-W48');
  });
});
