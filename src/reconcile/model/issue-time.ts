// Issue times as upstreams write them (`2026-07-10 11:33:22`, `2026/7/10`, ISO with offset, an
// xlsx date serial) → the zone's day and hour plus the UTC instant; never in the future.
import { type WallTime, dayHourOf, formatDay, wallToInstant } from '../../core/zoned-time.js';

export type IssueTime =
  { ok: true; day: string; hour: number; issuedAt: string; year: number } | { ok: false; error: string };

/** Clocks differ a little; an invoice "from the future" beyond this is an input error. */
const FUTURE_SKEW_MS = 5 * 60_000;

const WALL = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/;
const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function parseIssueTime(
  text: string,
  tz: string,
  now: Date,
  options: { numericCell?: boolean } = {},
): IssueTime {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'issue date is empty' };
  let instant: Date;
  let wall: WallTime | undefined;
  if (options.numericCell && /^\d+(\.\d+)?$/.test(t)) {
    wall = fromExcelSerial(Number(t));
    if (!wall) return { ok: false, error: `issue date '${t}' is not a date` };
    instant = wallToInstant(wall, tz);
  } else if (ISO_OFFSET.test(t)) {
    instant = new Date(t);
    if (Number.isNaN(instant.getTime())) return { ok: false, error: `issue date '${t}' is not a date` };
  } else {
    const m = WALL.exec(t);
    if (!m) return { ok: false, error: `issue date '${t}' is not a date like 2026-07-10 11:33:22` };
    wall = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +(m[4] ?? 0), minute: +(m[5] ?? 0), second: +(m[6] ?? 0) };
    const check = new Date(Date.UTC(wall.year, wall.month - 1, wall.day));
    if (
      wall.month < 1 ||
      wall.month > 12 ||
      check.getUTCDate() !== wall.day ||
      wall.hour > 23 ||
      wall.minute > 59 ||
      wall.second > 59
    ) {
      return { ok: false, error: `issue date '${t}' is not a valid calendar date` };
    }
    instant = wallToInstant(wall, tz);
  }
  if (instant.getTime() > now.getTime() + FUTURE_SKEW_MS)
    return { ok: false, error: `issue date '${t}' is in the future` };
  if (instant.getUTCFullYear() < 1990) return { ok: false, error: `issue date '${t}' is before 1990` };
  const { day, hour } = wall ? { day: formatDay(wall), hour: wall.hour } : dayHourOf(instant, tz);
  return { ok: true, day, hour, issuedAt: instant.toISOString(), year: Number(day.slice(0, 4)) };
}

/** Excel's 1900 date system (serial 60 is the fictitious 1900-02-29, so count from 1899-12-30). */
export function fromExcelSerial(serial: number): WallTime | undefined {
  if (!(serial > 0 && serial < 2_958_466)) return undefined;
  const ms = Math.round(((serial - 25569) * 86_400_000) / 1000) * 1000;
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** An Excel date serial (`46331.00313657407`) as the wall clock the export meant, `2026-11-05 00:04:31`; undefined for other text. */
export function excelSerialWall(text: string): string | undefined {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  const w = fromExcelSerial(Number(text));
  if (!w) return undefined;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${formatDay(w)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}
