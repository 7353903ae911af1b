// The retention plan's decisions read as the user sees them (src/backup/retention-plan.ts): every
// reason phrase, the period keys it names, ties, the incomplete-age boundary and its wording.
// Backups, clock and expected plans are written out; nothing expected is computed by src.
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../src/backup/retention-config.js';
import { isoWeek, periodKey, type PlanInput, planRetention } from '../../src/backup/retention-plan.js';

const NOW = new Date('2026-11-28T04:00:00Z');
const policy = (p: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  configured: true,
  keepLast: 0,
  daily: 0,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  incompleteAfter: 86400,
  ...p,
});
const b = (id: string, at: string, status: PlanInput['status'] = 'complete'): PlanInput => ({
  id,
  status,
  startedAt: new Date(at),
  storedBytes: 1,
});
const rows = (plan: ReturnType<typeof planRetention>) => plan.map((e) => [e.id, e.action, e.reasons]);

describe('planRetention reasons', () => {
  it('names each rule that keeps a backup, with its count and period key', () => {
    const backups = [
      b('b6', '2025-01-01T02:00:00Z'),
      b('b4', '2026-10-15T02:00:00Z'),
      b('b1', '2026-11-28T02:00:00Z'),
      b('b3', '2026-11-20T02:00:00Z'),
      b('b5', '2025-06-01T02:00:00Z'),
      b('b2', '2026-11-27T02:00:00Z'),
    ];
    const plan = planRetention(
      backups,
      policy({ keepLast: 2, daily: 2, weekly: 2, monthly: 2, yearly: 2 }),
      NOW,
      'UTC',
    );
    expect(rows(plan)).toEqual([
      [
        'b1',
        'keep',
        [
          'newest complete backup',
          'last 2 (#1)',
          'daily 1/2 (2026-11-28)',
          'weekly 1/2 (2026-W48)',
          'monthly 1/2 (2026-11)',
          'yearly 1/2 (2026)',
        ],
      ],
      ['b2', 'keep', ['last 2 (#2)', 'daily 2/2 (2026-11-27)']],
      ['b3', 'keep', ['weekly 2/2 (2026-W47)']],
      ['b4', 'keep', ['monthly 2/2 (2026-10)']],
      ['b5', 'keep', ['yearly 2/2 (2025)']],
      ['b6', 'delete', ['kept by no rule']],
    ]);
    expect(plan.find((e) => e.id === 'b6')).toEqual({
      id: 'b6',
      status: 'complete',
      startedAt: new Date('2025-01-01T02:00:00Z'),
      storedBytes: 1,
      action: 'delete',
      reasons: ['kept by no rule'],
    });
  });

  it('a count of 0 keeps nothing by that rule; only the newest stays', () => {
    const plan = planRetention([b('a', '2026-11-27T02:00:00Z'), b('c', '2026-11-28T02:00:00Z')], policy(), NOW, 'UTC');
    expect(rows(plan)).toEqual([
      ['c', 'keep', ['newest complete backup']],
      ['a', 'delete', ['kept by no rule']],
    ]);
  });

  it('without a configured policy every complete backup says so', () => {
    const plan = planRetention(
      [b('a', '2020-01-01T00:00:00Z'), b('c', '2026-11-28T02:00:00Z')],
      policy({ configured: false }),
      NOW,
      'UTC',
    );
    expect(rows(plan)).toEqual([
      ['c', 'keep', ['newest complete backup', 'no retention policy configured']],
      ['a', 'keep', ['no retention policy configured']],
    ]);
  });

  it('backups started in the same second are ordered by id, the greater first', () => {
    const plan = planRetention(
      [b('x1', '2026-11-28T02:00:00Z'), b('x3', '2026-11-28T02:00:00Z'), b('x2', '2026-11-28T02:00:00Z')],
      policy({ keepLast: 2 }),
      NOW,
      'UTC',
    );
    expect(rows(plan)).toEqual([
      ['x3', 'keep', ['newest complete backup', 'last 2 (#1)']],
      ['x2', 'keep', ['last 2 (#2)']],
      ['x1', 'delete', ['kept by no rule']],
    ]);
  });

  it('damaged and incomplete backups count for no rule; damaged ones are kept for inspection', () => {
    const plan = planRetention(
      [
        b('d', '2026-11-28T03:00:00Z', 'damaged'),
        b('i', '2026-11-28T03:30:00Z', 'incomplete'),
        b('c', '2026-11-20T00:00:00Z'),
      ],
      policy({ keepLast: 1, daily: 1 }),
      NOW,
      'UTC',
    );
    expect(rows(plan)).toEqual([
      ['i', 'keep', ['incomplete but younger than 1d: may still be running']],
      [
        'd',
        'keep',
        ['manifest damaged: kept for inspection (verify --all reports it); remove it by hand once investigated'],
      ],
      ['c', 'keep', ['newest complete backup', 'last 1 (#1)', 'daily 1/1 (2026-11-20)']],
    ]);
  });

  it.each([
    [5400, '90m', 5400, 5401],
    [7200, '2h', 7200, 7201],
    [172_800, '2d', 172_800, 172_801],
    [45, '45s', 45, 46],
    [3660, '61m', 3660, 3661],
  ])(
    'incomplete after %d s reads %s; exactly that old is kept, a second older is deleted',
    (after, text, keptAge, deletedAge) => {
      const at = (age: number) => new Date(NOW.getTime() - age * 1000).toISOString();
      const plan = planRetention(
        [b('young', at(keptAge), 'incomplete'), b('old', at(deletedAge), 'incomplete')],
        policy({ incompleteAfter: after }),
        NOW,
        'UTC',
      );
      expect(rows(plan)).toEqual([
        ['young', 'keep', [`incomplete but younger than ${text}: may still be running`]],
        ['old', 'delete', [`incomplete (no manifest), older than ${text}`]],
      ]);
    },
  );
});

describe('periodKey and isoWeek', () => {
  it('pads months and days to two digits, in the zone', () => {
    const at = new Date('2026-03-05T12:00:00Z');
    expect(periodKey('daily', at, 'UTC')).toBe('2026-03-05');
    expect(periodKey('weekly', at, 'UTC')).toBe('2026-W10');
    expect(periodKey('monthly', at, 'UTC')).toBe('2026-03');
    expect(periodKey('yearly', at, 'UTC')).toBe('2026');
    const lateDecember = new Date('2026-12-31T20:00:00Z'); // 04:00 on 1 January 2027 in Shanghai
    expect(periodKey('daily', lateDecember, 'Asia/Shanghai')).toBe('2027-01-01');
    expect(periodKey('monthly', lateDecember, 'Asia/Shanghai')).toBe('2027-01');
    expect(periodKey('yearly', lateDecember, 'Asia/Shanghai')).toBe('2027');
    expect(periodKey('weekly', lateDecember, 'Asia/Shanghai')).toBe('2026-W53');
  });

  it.each([
    [2026, 11, 29, '2026-W48'], // a Sunday ends its week
    [2026, 11, 30, '2026-W49'], // and Monday starts the next
    [2021, 1, 3, '2020-W53'], // a Sunday in January can belong to last year's week 53
    [2026, 1, 1, '2026-W01'],
    [2025, 12, 29, '2026-W01'], // a Monday in December can belong to next year's week 1
    [2027, 1, 4, '2027-W01'],
    [2026, 1, 5, '2026-W02'],
    [2026, 1, 11, '2026-W02'],
    [2026, 1, 12, '2026-W03'],
  ])('%d-%d-%d is %s', (y, m, d, week) => {
    expect(isoWeek(y, m, d)).toBe(week);
  });
});
