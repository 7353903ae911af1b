// Durations as people write them in config: `90s`, `15m`, `26h`, `7d`, `1h30m`. A leaf: feature
// config readers (drill/drill-config.ts, ...) import it, never core/config/config.ts.
import type { Reader } from './reader.js';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(trimmed); match; match = re.exec(trimmed)) {
    total += Number(match[1]) * UNIT_SECONDS[match[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', `${s % 60}s`];
  return parts.filter(Boolean).slice(0, 2).join('');
}

/** Durations in config (`15m`, `26h`) in seconds, or a problem for `issues`. */
export function durationOf(reader: Reader, key: string, fallback: string): number {
  const text = reader.string(key, { fallback })!;
  const seconds = parseDuration(text);
  if (seconds === undefined)
    reader.issues.add(reader.path ? `${reader.path}.${key}` : key, `'${text}' is not a duration like 90s, 15m, 26h`);
  return seconds ?? parseDuration(fallback)!;
}
