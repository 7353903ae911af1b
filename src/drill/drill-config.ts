// The `drill` section of the configuration: which backup to drill, where to restore it, the
// objectives it must meet and the user's SQL assertions. Pure: a Reader in, settings out.
import { pgUrlProblem } from '../core/pg/conninfo.js';
import { durationOf } from '../core/config/duration.js';
import type { Reader } from '../core/config/reader.js';

export type DrillPick = { kind: 'latest' } | { kind: 'random'; among: number } | { kind: 'id'; id: string };

/** What an assertion's first column of its first row must equal. */
export type AssertionValue = number | boolean | string | null;

export interface DrillAssertion {
  name: string;
  sql: string;
  expect: AssertionValue;
}

export interface DrillConfig {
  /** admin connection on the scratch server (default: the target's server, database postgres) */
  scratchUrl?: string;
  pick: DrillPick;
  /** seconds; the whole drill must take at most this long */
  rtoObjective: number;
  /** seconds; the newest backup must be at most this old */
  rpoObjective: number;
  keep: boolean;
  keepOnFailure: boolean;
  /** pg_restore jobs (default: restore.jobs); > 1 spools the archive first */
  jobs?: number;
  assertions: DrillAssertion[];
  amcheck: boolean;
  /** where HTML reports go; relative to the working directory */
  reportDir: string;
  /** seconds after which a marked scratch database of a crashed drill is dropped */
  leftoverAfter: number;
}

export const DEFAULT_RANDOM_AMONG = 7;
export { DEFAULT_REPORT_DIR } from '../core/config/report-dir.js';
import { DEFAULT_REPORT_DIR } from '../core/config/report-dir.js';
const DEFAULTS = { pick: 'latest', rtoObjective: '15m', rpoObjective: '26h', leftoverAfter: '12h' } as const;

export function defaultDrillConfig(): DrillConfig {
  return {
    pick: { kind: 'latest' },
    rtoObjective: 15 * 60,
    rpoObjective: 26 * 3600,
    keep: false,
    keepOnFailure: false,
    assertions: [],
    amcheck: false,
    reportDir: DEFAULT_REPORT_DIR,
    leftoverAfter: 12 * 3600,
  };
}

/** `latest`, `random`, `random:N` or a backup id (prefix); undefined when malformed. */
export function parsePick(text: string): DrillPick | undefined {
  const value = text.trim();
  if (value === 'latest') return { kind: 'latest' };
  const random = /^random(?::(\d+))?$/.exec(value);
  if (random) {
    const among = random[1] === undefined ? DEFAULT_RANDOM_AMONG : Number(random[1]);
    return among >= 1 && among <= 10_000 ? { kind: 'random', among } : undefined;
  }
  if (value.startsWith('random')) return undefined;
  // a backup id or a prefix of one: 20261128T020000Z-7f3a, 20261128T02
  return /^\d[\dTZa-f-]*$/.test(value) ? { kind: 'id', id: value } : undefined;
}

export function formatPick(pick: DrillPick): string {
  return pick.kind === 'latest' ? 'latest' : pick.kind === 'random' ? `random:${pick.among}` : pick.id;
}

export function readDrillConfig(drill: Reader): DrillConfig {
  drill.only([
    'scratchUrl',
    'pick',
    'rtoObjective',
    'rpoObjective',
    'keep',
    'keepOnFailure',
    'jobs',
    'assertions',
    'amcheck',
    'reportDir',
    'leftoverAfter',
  ]);
  const path = (key: string) => (drill.path ? `${drill.path}.${key}` : key);
  const scratchUrl = drill.string('scratchUrl', {
    pattern: /^postgres(ql)?:\/\//,
    patternHint: 'must be a postgres:// URL (an admin database on the scratch server, e.g. …/postgres)',
  });
  const scratchProblem = scratchUrl && /^postgres(ql)?:\/\//.test(scratchUrl) ? pgUrlProblem(scratchUrl) : undefined;
  if (scratchProblem) drill.issues.add(path('scratchUrl'), scratchProblem);
  const pickText = drill.string('pick', { fallback: DEFAULTS.pick })!;
  const pick = parsePick(pickText);
  if (!pick) drill.issues.add(path('pick'), `'${pickText}' is not latest, random, random:N or a backup id`);
  const jobs = drill.number('jobs', { min: 1, max: 64, integer: true });
  const reportDir = drill.string('reportDir', { fallback: DEFAULT_REPORT_DIR })!;

  const assertions = drill.array('assertions').map((item, i) => readAssertion(item, `${path('assertions')}[${i}]`));
  const seen = new Set<string>();
  assertions.forEach((a, i) => {
    if (seen.has(a.name)) drill.issues.add(`${path('assertions')}[${i}].name`, `duplicate assertion name '${a.name}'`);
    seen.add(a.name);
  });

  const leftoverAfter = durationOf(drill, 'leftoverAfter', DEFAULTS.leftoverAfter);
  // a running drill on another host must never be taken for a leftover
  if (leftoverAfter < 600)
    drill.issues.add(path('leftoverAfter'), 'must be at least 10m (longer than any drill takes)');

  return {
    ...(scratchUrl ? { scratchUrl } : {}),
    pick: pick ?? { kind: 'latest' },
    rtoObjective: durationOf(drill, 'rtoObjective', DEFAULTS.rtoObjective),
    rpoObjective: durationOf(drill, 'rpoObjective', DEFAULTS.rpoObjective),
    keep: drill.boolean('keep', false),
    keepOnFailure: drill.boolean('keepOnFailure', false),
    ...(jobs !== undefined ? { jobs } : {}),
    assertions,
    amcheck: drill.boolean('amcheck', false),
    reportDir,
    leftoverAfter,
  };
}

function readAssertion(item: Reader, at: string): DrillAssertion {
  if (!item.isObject()) {
    item.issues.add(at, 'must be a mapping with name, sql and expect');
    return { name: '', sql: '', expect: null };
  }
  item.only(['name', 'sql', 'expect']);
  const name = item.string('name', { required: true }) ?? '';
  const sql = item.string('sql', { required: true }) ?? '';
  const raw = (item.value as Record<string, unknown>).expect;
  let expect: AssertionValue = null;
  if (raw === undefined) item.issues.add(`${at}.expect`, 'required (a number, true/false, a string or null)');
  else if (raw === null || typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'string') expect = raw;
  else item.issues.add(`${at}.expect`, 'must be a number, true/false, a string or null');
  return { name, sql, expect };
}
