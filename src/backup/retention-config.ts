// The `retention` section: GFS counts per target (restic/pgBackRest style) and the age after which an
// incomplete backup or an abandoned multipart upload is garbage. Pure: a Reader in, settings out.
import { durationOf } from '../core/config/duration.js';
import type { Reader } from '../core/config/reader.js';

export interface RetentionPolicy {
  /** false when no count was configured: every complete backup is kept */
  configured: boolean;
  keepLast: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  /** seconds; incomplete backups and multipart uploads older than this are deleted */
  incompleteAfter: number;
}

export interface RetentionConfig {
  defaults: RetentionPolicy;
  /** per-target overrides, already merged over the defaults */
  targets: Record<string, RetentionPolicy>;
}

const COUNTS = ['keepLast', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export const DEFAULT_INCOMPLETE_AFTER = 24 * 3600;

export function defaultRetentionConfig(): RetentionConfig {
  return {
    defaults: {
      configured: false,
      keepLast: 0,
      daily: 0,
      weekly: 0,
      monthly: 0,
      yearly: 0,
      incompleteAfter: DEFAULT_INCOMPLETE_AFTER,
    },
    targets: {},
  };
}

export function readRetentionConfig(reader: Reader, targetNames: readonly string[]): RetentionConfig {
  reader.only([...COUNTS, 'incompleteAfter', 'targets']);
  const defaults = readPolicy(reader, defaultRetentionConfig().defaults);
  const targets: Record<string, RetentionPolicy> = {};
  const perTarget = reader.object('targets');
  if (perTarget.isObject()) {
    for (const name of Object.keys(perTarget.value as object)) {
      if (!targetNames.includes(name))
        perTarget.issues.add(`${perTarget.path}.${name}`, `no target '${name}' in targets[]`);
      const r = perTarget.object(name);
      r.only([...COUNTS, 'incompleteAfter']);
      targets[name] = readPolicy(r, defaults);
    }
  }
  return { defaults, targets };
}

export function policyFor(config: RetentionConfig | undefined, target: string): RetentionPolicy {
  const c = config ?? defaultRetentionConfig();
  return c.targets[target] ?? c.defaults;
}

function readPolicy(r: Reader, base: RetentionPolicy): RetentionPolicy {
  const out: RetentionPolicy = { ...base };
  for (const key of COUNTS) {
    if (!r.has(key)) continue;
    out[key] = r.number(key, { min: 0, max: 100_000, integer: true, fallback: 0 })!;
    out.configured = true;
  }
  if (r.has('incompleteAfter')) out.incompleteAfter = durationOf(r, 'incompleteAfter', '24h');
  return out;
}

/** `keepLast 7, daily 14, weekly 8` (only what is set). */
export function describePolicy(p: RetentionPolicy): string {
  if (!p.configured) return 'no retention policy';
  const parts = COUNTS.filter((k) => p[k] > 0).map((k) => `${k} ${p[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'all counts 0 (only the newest complete backup is kept)';
}
