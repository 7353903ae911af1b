// Fixed clocks for tests whose outcome depends on the calendar (retention days, weeks, months).
// Such a test must pass at any hour, so it runs at a fixed instant, and the calendar-sensitive
// suites (prune, retention) run at the instants that once broke them: 17:30 UTC (01:30 in
// Shanghai, the next day there) and 23:59 in Shanghai (15:59 UTC, one minute before the day turns).
// FAPIAO_GUARD_TEST_NOW=<ISO instant> runs them at that one instant instead, to reproduce a report.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const TEST_NOW_ENV = 'FAPIAO_GUARD_TEST_NOW';
/** the default instant: noon in Shanghai */
export const DEFAULT_NOW = '2026-11-28T04:00:00.000Z';
/** the hours that used to fail, as instants */
export const HARD_HOURS = ['2026-11-28T17:30:00.000Z', '2026-11-28T15:59:00.000Z'] as const;

function fromEnv(): Date | undefined {
  const raw = process.env[TEST_NOW_ENV];
  if (!raw) return undefined;
  const at = new Date(raw);
  if (Number.isNaN(at.getTime())) throw new Error(`${TEST_NOW_ENV}: '${raw}' is not an ISO 8601 instant`);
  return at;
}

/** The instant "now" is in a calendar-sensitive test. */
export function testNow(): Date {
  return fromEnv() ?? new Date(DEFAULT_NOW);
}

/** Every instant a calendar-sensitive suite runs at: the env's one, or the default and the hard hours. */
export function testClocks(): Date[] {
  const env = fromEnv();
  return env ? [env] : [DEFAULT_NOW, ...HARD_HOURS].map((s) => new Date(s));
}

const PRELOAD = pathToFileURL(
  path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), 'fixed-clock.mjs'),
).href;

/**
 * Environment for a CLI subprocess whose clock reads `now` at start and then runs on (or, `frozen`,
 * stays at `now`): a preload replaces `Date` (Date.now() and `new Date()`), timers are untouched.
 * The CLI has no clock option of its own, and a test-only one in src would be a path people never run.
 */
export function cliClockEnv(now: Date, { frozen = false } = {}): NodeJS.ProcessEnv {
  const inherited = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : '';
  return {
    NODE_OPTIONS: `${inherited}--import=${PRELOAD}`,
    FAPIAO_GUARD_TEST_CLOCK: now.toISOString(),
    ...(frozen ? { FAPIAO_GUARD_TEST_CLOCK_FROZEN: '1' } : {}),
  };
}
