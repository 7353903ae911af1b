// Bounds on what an upstream may send (`reconcile.limits`): checked before and while parsing, so a
// zip bomb, a one-line CSV or a looping API ends in a clear error instead of exhausting memory.
// The defaults fit a large company's monthly export (a few million rows, hundreds of MB).
import type { Reader } from '../../core/config/reader.js';

export interface InputLimits {
  /** bytes of one upstream file as stored (.xlsx or .csv) */
  maxInputBytes: number;
  /** bytes of an .xlsx after inflating the entries we read (declared sizes, then actual ones) */
  maxInflatedBytes: number;
  /** rows per upstream (all files of a glob together; an http day) */
  maxRows: number;
  /** characters of one CSV line or record */
  maxLineLength: number;
  /** bytes of one HTTP response body */
  maxBodyBytes: number;
  /** pages fetched per day from an HTTP upstream */
  maxPages: number;
  /** heap of the worker thread that parses upstream files */
  maxParseMemory: number;
  /** a run whose upstream holds fewer than (1 - maxShrink) x the previous run's rows resolves nothing */
  maxShrink: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxInputBytes: 256 * MiB,
  maxInflatedBytes: 512 * MiB,
  maxRows: 5_000_000,
  maxLineLength: 1 * MiB,
  maxBodyBytes: 64 * MiB,
  maxPages: 10_000,
  maxParseMemory: 4096 * MiB,
  maxShrink: 0.2,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: MiB, gb: 1e9, gib: 1024 * MiB };

/** `512MiB`, `64 MB`, `1048576` → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** `reconcile.limits`: every key optional. */
export function readInputLimits(r: Reader): InputLimits {
  r.only(Object.keys(DEFAULT_INPUT_LIMITS));
  const size = (
    key: 'maxInputBytes' | 'maxInflatedBytes' | 'maxLineLength' | 'maxBodyBytes' | 'maxParseMemory',
  ): number => {
    if (!r.has(key)) return DEFAULT_INPUT_LIMITS[key];
    const text = r.string(key) ?? '';
    const n = parseSize(text);
    if (n === undefined) r.issues.add(`${r.path}.${key}`, `'${text}' is not a size like 512MiB`);
    return n ?? DEFAULT_INPUT_LIMITS[key];
  };
  return {
    maxInputBytes: size('maxInputBytes'),
    maxInflatedBytes: size('maxInflatedBytes'),
    maxRows: r.number('maxRows', { fallback: DEFAULT_INPUT_LIMITS.maxRows, min: 1, integer: true })!,
    maxLineLength: size('maxLineLength'),
    maxBodyBytes: size('maxBodyBytes'),
    maxParseMemory: size('maxParseMemory'),
    maxPages: r.number('maxPages', { fallback: DEFAULT_INPUT_LIMITS.maxPages, min: 1, integer: true })!,
    maxShrink: r.number('maxShrink', { fallback: DEFAULT_INPUT_LIMITS.maxShrink, min: 0, max: 1 })!,
  };
}

/** `268435456` → `256 MiB`, `2411724992` → `2.2 GiB`, for messages. */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [
    ['GiB', 1024 * MiB],
    ['MiB', MiB],
    ['KiB', 1024],
  ];
  for (const [unit, size] of units) if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  return `${bytes} bytes`;
}
