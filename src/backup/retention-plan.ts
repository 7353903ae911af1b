// GFS retention as a pure plan (restic `forget` semantics): which backups to keep, which to delete,
// and why, for one target. No I/O: backups, policy, clock and time zone in; decisions out.
import { wallTimeOf } from '../core/zoned-time.js';
import type { RetentionPolicy } from './retention-config.js';

export interface PlanInput {
  id: string;
  /** damaged: a manifest that cannot be read (it counts for no rule and is never deleted by prune) */
  status: 'complete' | 'incomplete' | 'damaged';
  /** when the backup started (from its id) */
  startedAt: Date;
  storedBytes: number;
}

export interface PlanEntry extends PlanInput {
  action: 'keep' | 'delete';
  /** every rule that keeps it, or why it goes: one short phrase each */
  reasons: string[];
}

type Period = 'daily' | 'weekly' | 'monthly' | 'yearly';
const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly', 'yearly'];

/** The calendar bucket of an instant in the zone: `2026-11-28`, `2026-W48`, `2026-11`, `2026`. */
export function periodKey(period: Period, at: Date, timeZone: string): string {
  const w = wallTimeOf(at, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (period === 'yearly') return String(w.year);
  if (period === 'monthly') return `${w.year}-${pad(w.month)}`;
  if (period === 'daily') return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
  return isoWeek(w.year, w.month, w.day);
}

/** ISO 8601 week of a calendar date: weeks start on Monday, week 1 holds the first Thursday. */
export function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/**
 * keepLast keeps the newest N complete backups; `daily: N` keeps the newest backup of each of the
 * newest N days that have a backup (likewise weekly/monthly/yearly), so a gap in backups never
 * empties the repository. The newest complete backup is always kept. Incomplete backups are deleted
 * once older than `incompleteAfter` (younger ones may still be running).
 */
export function planRetention(
  backups: readonly PlanInput[],
  policy: RetentionPolicy,
  now: Date,
  timeZone: string,
): PlanEntry[] {
  const reasons = new Map<string, string[]>();
  const keep = (id: string, why: string) => reasons.set(id, [...(reasons.get(id) ?? []), why]);
  const complete = backups.filter((b) => b.status === 'complete').sort(newestFirst);

  if (complete[0]) keep(complete[0].id, 'newest complete backup');
  if (!policy.configured) for (const b of complete) keep(b.id, 'no retention policy configured');
  complete.slice(0, policy.keepLast).forEach((b, i) => keep(b.id, `last ${policy.keepLast} (#${i + 1})`));
  for (const period of PERIODS) {
    const limit = policy[period];
    let last: string | undefined;
    let count = 0;
    for (const b of complete) {
      if (count >= limit) break;
      const key = periodKey(period, b.startedAt, timeZone);
      if (key === last) continue;
      last = key;
      count++;
      keep(b.id, `${period} ${count}/${limit} (${key})`);
    }
  }

  return [...backups].sort(newestFirst).map((b) => {
    if (b.status === 'damaged')
      return {
        ...b,
        action: 'keep',
        reasons: [
          'manifest damaged: kept for inspection (verify --all reports it); remove it by hand once investigated',
        ],
      };
    if (b.status === 'incomplete') {
      const age = (now.getTime() - b.startedAt.getTime()) / 1000;
      return age > policy.incompleteAfter
        ? {
            ...b,
            action: 'delete',
            reasons: [`incomplete (no manifest), older than ${formatAge(policy.incompleteAfter)}`],
          }
        : {
            ...b,
            action: 'keep',
            reasons: [`incomplete but younger than ${formatAge(policy.incompleteAfter)}: may still be running`],
          };
    }
    const why = reasons.get(b.id);
    return why ? { ...b, action: 'keep', reasons: why } : { ...b, action: 'delete', reasons: ['kept by no rule'] };
  });
}

function newestFirst(a: PlanInput, b: PlanInput): number {
  return b.startedAt.getTime() - a.startedAt.getTime() || b.id.localeCompare(a.id);
}

function formatAge(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
