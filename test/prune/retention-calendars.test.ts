// GFS retention on hand-written calendars: each case lists backup instants and the instants that
// must be kept, worked out by hand (not computed by src). Month and year boundaries, a leap day,
// ISO weeks across New Year, the Shanghai/UTC day split and Europe/Berlin's DST changes.
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../src/backup/retention-config.js';
import { type PlanInput, planRetention } from '../../src/backup/retention-plan.js';
import { makeBackupId } from '../../src/core/run-id.js';
import { testNow } from '../helpers/clock.js';

function policy(p: Partial<RetentionPolicy>): RetentionPolicy {
  return { configured: true, keepLast: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, incompleteAfter: 86400, ...p };
}

/** the instants (ISO, UTC) planRetention keeps, newest first */
function kept(instants: string[], p: Partial<RetentionPolicy>, tz: string): string[] {
  const backups: PlanInput[] = instants.map((s, i) => ({
    id: makeBackupId(new Date(s), i.toString(16).padStart(4, '0')),
    status: 'complete',
    startedAt: new Date(s),
    storedBytes: 1,
  }));
  const byId = new Map(backups.map((b) => [b.id, b.startedAt.toISOString()]));
  return planRetention(backups, policy(p), testNow(), tz)
    .filter((e) => e.action === 'keep')
    .map((e) => byId.get(e.id)!);
}

const iso = (s: string) => new Date(s).toISOString();
const isos = (list: string[]) => list.map(iso);

describe('GFS calendars (expected keep sets written out)', () => {
  it('monthly across New Year in Shanghai: the newest of 2026-01, 2025-12 and 2025-11', () => {
    const backups = [
      '2025-11-29T12:00:00+08:00',
      '2025-11-30T12:00:00+08:00',
      '2025-12-30T12:00:00+08:00',
      '2025-12-31T12:00:00+08:00',
      '2026-01-01T12:00:00+08:00',
      '2026-01-02T12:00:00+08:00',
    ];
    expect(kept(backups, { monthly: 3 }, 'Asia/Shanghai')).toEqual(
      isos(['2026-01-02T12:00:00+08:00', '2025-12-31T12:00:00+08:00', '2025-11-30T12:00:00+08:00']),
    );
    expect(kept(backups, { yearly: 3 }, 'Asia/Shanghai')).toEqual(
      isos(['2026-01-02T12:00:00+08:00', '2025-12-31T12:00:00+08:00']),
    );
  });

  it('the month turns at midnight in the zone: 00:30 on 1 March in Shanghai is March there, February in UTC', () => {
    const backups = ['2026-02-27T12:00:00+08:00', '2026-02-28T23:30:00+08:00', '2026-03-01T00:30:00+08:00'];
    expect(kept(backups, { monthly: 2 }, 'Asia/Shanghai')).toEqual(
      isos(['2026-03-01T00:30:00+08:00', '2026-02-28T23:30:00+08:00']),
    );
    expect(kept(backups, { monthly: 2 }, 'UTC')).toEqual(isos(['2026-03-01T00:30:00+08:00']));
  });

  it('leap year: 29 February 2024 is its own day and February; the week of 26 February holds all three', () => {
    const backups = ['2024-02-28T12:00:00Z', '2024-02-29T12:00:00Z', '2024-03-01T12:00:00Z'];
    expect(kept(backups, { daily: 3 }, 'UTC')).toEqual(
      isos(['2024-03-01T12:00:00Z', '2024-02-29T12:00:00Z', '2024-02-28T12:00:00Z']),
    );
    expect(kept(backups, { monthly: 2 }, 'UTC')).toEqual(isos(['2024-03-01T12:00:00Z', '2024-02-29T12:00:00Z']));
    expect(kept(backups, { weekly: 2 }, 'UTC')).toEqual(isos(['2024-03-01T12:00:00Z'])); // 2024-W09, Monday 26 Feb to Sunday 3 Mar
    // 2023 has no 29 February: 28 Feb and 1 Mar are consecutive days
    expect(kept(['2023-02-27T12:00:00Z', '2023-02-28T12:00:00Z', '2023-03-01T12:00:00Z'], { daily: 2 }, 'UTC')).toEqual(
      isos(['2023-03-01T12:00:00Z', '2023-02-28T12:00:00Z']),
    );
  });

  it('ISO weeks across New Year: 31 Dec 2026 and 1 Jan 2027 are both 2026-W53, 4 Jan 2027 is 2027-W01', () => {
    const backups = [
      '2026-12-24T12:00:00+08:00',
      '2026-12-31T12:00:00+08:00',
      '2027-01-01T12:00:00+08:00',
      '2027-01-04T12:00:00+08:00',
    ];
    expect(kept(backups, { weekly: 2 }, 'Asia/Shanghai')).toEqual(
      isos(['2027-01-04T12:00:00+08:00', '2027-01-01T12:00:00+08:00']),
    );
    expect(kept(backups, { weekly: 3 }, 'Asia/Shanghai')).toEqual(
      isos(['2027-01-04T12:00:00+08:00', '2027-01-01T12:00:00+08:00', '2026-12-24T12:00:00+08:00']),
    );
    expect(kept(backups, { yearly: 2 }, 'Asia/Shanghai')).toEqual(
      isos(['2027-01-04T12:00:00+08:00', '2026-12-31T12:00:00+08:00']),
    );
  });

  it('Shanghai/UTC split: the week and the year turn eight hours earlier in Shanghai', () => {
    // Sunday 23:30 and Monday 00:30 in Shanghai are different ISO weeks; in UTC both are Sunday
    const week = ['2026-11-22T23:30:00+08:00', '2026-11-23T00:30:00+08:00'];
    expect(kept(week, { weekly: 2 }, 'Asia/Shanghai')).toEqual(
      isos(['2026-11-23T00:30:00+08:00', '2026-11-22T23:30:00+08:00']),
    );
    expect(kept(week, { weekly: 2 }, 'UTC')).toEqual(isos(['2026-11-23T00:30:00+08:00']));
    // New Year's Eve 23:30 and New Year 00:30 in Shanghai: two years there, one (2023) in UTC
    const year = ['2023-12-31T23:30:00+08:00', '2024-01-01T00:30:00+08:00'];
    expect(kept(year, { yearly: 2 }, 'Asia/Shanghai')).toEqual(
      isos(['2024-01-01T00:30:00+08:00', '2023-12-31T23:30:00+08:00']),
    );
    expect(kept(year, { yearly: 2 }, 'UTC')).toEqual(isos(['2024-01-01T00:30:00+08:00']));
    // and the day: 07:59 and 08:00 UTC are one UTC day, but 15:59 and 16:00 UTC are two Shanghai days
    const day = ['2026-11-27T15:59:00Z', '2026-11-27T16:00:00Z'];
    expect(kept(day, { daily: 2 }, 'Asia/Shanghai')).toEqual(isos(['2026-11-27T16:00:00Z', '2026-11-27T15:59:00Z']));
    expect(kept(day, { daily: 2 }, 'UTC')).toEqual(isos(['2026-11-27T16:00:00Z']));
  });

  it('Europe/Berlin, spring forward (29 March 2026, 02:00 CET -> 03:00 CEST): days and months follow the wall clock', () => {
    const days = [
      '2026-03-28T21:30:00Z' /* 22:30 CET 28th */,
      '2026-03-28T22:30:00Z' /* 23:30 CET 28th */,
      '2026-03-28T23:30:00Z' /* 00:30 CET 29th */,
      '2026-03-29T01:30:00Z' /* 03:30 CEST 29th */,
    ];
    expect(kept(days, { daily: 2 }, 'Europe/Berlin')).toEqual(isos(['2026-03-29T01:30:00Z', '2026-03-28T22:30:00Z']));
    expect(kept(days, { daily: 2 }, 'UTC')).toEqual(isos(['2026-03-29T01:30:00Z', '2026-03-28T23:30:00Z']));
    const months = ['2026-03-31T21:30:00Z' /* 23:30 CEST 31 Mar */, '2026-03-31T22:30:00Z' /* 00:30 CEST 1 Apr */];
    expect(kept(months, { monthly: 2 }, 'Europe/Berlin')).toEqual(
      isos(['2026-03-31T22:30:00Z', '2026-03-31T21:30:00Z']),
    );
    expect(kept(months, { monthly: 2 }, 'UTC')).toEqual(isos(['2026-03-31T22:30:00Z']));
  });

  it('Europe/Berlin, fall back (25 October 2026, 03:00 CEST -> 02:00 CET): the 25-hour day is one day', () => {
    const backups = [
      '2026-10-24T21:30:00Z', // 23:30 CEST on the 24th
      '2026-10-24T22:30:00Z', // 00:30 CEST on the 25th
      '2026-10-25T00:30:00Z', // 02:30 CEST on the 25th (first pass)
      '2026-10-25T01:30:00Z', // 02:30 CET on the 25th (second pass)
      '2026-10-25T22:30:00Z', // 23:30 CET on the 25th
      '2026-10-25T23:30:00Z', // 00:30 CET on the 26th
    ];
    expect(kept(backups, { daily: 3 }, 'Europe/Berlin')).toEqual(
      isos(['2026-10-25T23:30:00Z', '2026-10-25T22:30:00Z', '2026-10-24T21:30:00Z']),
    );
    expect(kept(backups, { daily: 3 }, 'UTC')).toEqual(isos(['2026-10-25T23:30:00Z', '2026-10-24T22:30:00Z']));
    // Monday 26 October starts 2026-W44 in Berlin; in UTC every one of them is still in W43
    expect(kept(backups, { weekly: 2 }, 'Europe/Berlin')).toEqual(
      isos(['2026-10-25T23:30:00Z', '2026-10-25T22:30:00Z']),
    );
    expect(kept(backups, { weekly: 2 }, 'UTC')).toEqual(isos(['2026-10-25T23:30:00Z']));
  });

  it('keepLast and the periods add up: each rule keeps its own, overlapping keeps count once', () => {
    const backups = [
      '2026-09-15T12:00:00+08:00',
      '2026-10-15T12:00:00+08:00',
      '2026-11-26T12:00:00+08:00',
      '2026-11-27T12:00:00+08:00',
      '2026-11-28T12:00:00+08:00',
    ];
    expect(kept(backups, { keepLast: 1, daily: 2, monthly: 3 }, 'Asia/Shanghai')).toEqual(
      isos([
        '2026-11-28T12:00:00+08:00',
        '2026-11-27T12:00:00+08:00',
        '2026-10-15T12:00:00+08:00',
        '2026-09-15T12:00:00+08:00',
      ]),
    );
  });
});
