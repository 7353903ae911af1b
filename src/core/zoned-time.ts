// Calendar days and wall-clock hours in the configured time zone (not the database's, not the
// host's): an invoice issued at 00:30 in Shanghai belongs to that Shanghai day.

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function wallTimeOf(instant: Date, tz: string): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

export function formatDay(w: Pick<WallTime, 'year' | 'month' | 'day'>): string {
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** The zone's day and hour of an instant. */
export function dayHourOf(instant: Date, tz: string): { day: string; hour: number } {
  const w = wallTimeOf(instant, tz);
  return { day: formatDay(w), hour: w.hour };
}

const offsetCache = new Map<string, number>();

/** The instant a wall-clock time in the zone denotes (the earlier one in a DST overlap). */
export function wallToInstant(w: WallTime, tz: string): Date {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const cacheKey = `${tz}|${Math.floor(asUtc / 3_600_000)}`;
  const cached = offsetCache.get(cacheKey);
  if (cached !== undefined) return new Date(asUtc - cached);
  let guess = asUtc;
  for (let i = 0; i < 3; i++) {
    const seen = wallTimeOf(new Date(guess), tz);
    const offset = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second) - guess;
    const next = asUtc - offset;
    if (next === guess) break;
    guess = next;
  }
  if (offsetCache.size > 50_000) offsetCache.clear();
  offsetCache.set(cacheKey, asUtc - guess);
  return new Date(guess);
}

/** YYYY-MM-DD plus n days (pure calendar arithmetic). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return formatDay({ year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() });
}

export function isDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  return addDays(text, 0) === text;
}

export function daysInWindow(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 100_000; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Today in the zone. */
export function today(now: Date, tz: string): string {
  return dayHourOf(now, tz).day;
}
