// Looking back along a cron schedule: the latest fire time at or before now (for catch-up and for
// "overdue" in status). node-cron only walks forward, so we step back minute by minute, trying only
// the seconds the expression allows.
import cron from 'node-cron';

export interface CronMatcher {
  match(date: Date): boolean;
  /** seconds of the minute the expression can fire on (0 for five-field expressions) */
  seconds: readonly number[];
}

/** A matcher for an expression in a time zone; the node-cron task behind it is never started. */
export function cronMatcher(expression: string, timeZone: string): CronMatcher {
  const task = cron.createTask(expression, () => undefined, { timezone: timeZone });
  const seconds = [...cron.parse(expression).second].sort((a, b) => b - a);
  const matcher = { match: (d: Date) => task.match(d), seconds };
  void task.destroy();
  return matcher;
}

/** The latest fire time t with after < t <= now, or undefined. Cost: minutes between them × seconds. */
export function previousFireTime(m: CronMatcher, now: Date, after: Date): Date | undefined {
  const nowMs = Math.floor(now.getTime() / 1000) * 1000;
  for (let minute = Math.floor(nowMs / 60_000) * 60_000; minute > after.getTime() - 60_000; minute -= 60_000) {
    for (const s of m.seconds) {
      const t = minute + s * 1000;
      if (t > nowMs || t <= after.getTime()) continue;
      if (m.match(new Date(t))) return new Date(t);
    }
  }
  return undefined;
}
