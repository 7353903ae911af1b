// The drill report (the JSON contract of `drill --json` and of drills/<target>/<drill-id>.json)
// and the pure rules around it: objectives, verdict, the one-line cause.
import { formatSeconds } from '../core/config/duration.js';
import type { Check } from './drill-checks.js';

export type Verdict = 'pass' | 'fail';

export interface DrillReport {
  drillId: string;
  backupId: string;
  target: string;
  verdict: Verdict;
  checks: Check[];
  /**
   * download and restore overlap when streamed: both are measured from the start of the restore;
   * checks: what they added after the restore ended (tables are measured as soon as their data is in)
   */
  seconds: { download: number; restore: number; checks: number; total: number };
  /** tables measured while pg_restore was still building indexes and constraints */
  tablesCheckedDuringRestore: number;
  /** age of the drilled backup when the drill ran: now − its finishedAt */
  rpoSeconds: number;
  /** the first failed check, in one line; absent when the drill passed */
  cause?: string;
  startedAt: string;
  finishedAt: string;
  backupFinishedAt: string;
  /** how the backup was chosen: latest, random:N, or an id */
  pick: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  newestBackup: { id: string; ageSeconds: number };
  scratch: { database: string; server: string; kept: boolean };
  jobs: number;
  tool: { name: string; version: string };
  /** where this report was stored in the repository */
  reportObject?: string;
  /** the HTML report on this machine */
  htmlReport?: string;
}

/** RTO and RPO as checks, so they show up with the others (pure). */
export function objectiveChecks(
  totalSeconds: number,
  rtoObjective: number,
  newest: { id: string; ageSeconds: number },
  rpoObjective: number,
): Check[] {
  return [
    {
      name: 'rto: whole drill',
      ok: totalSeconds <= rtoObjective,
      expected: `≤ ${formatSeconds(rtoObjective)}`,
      actual: formatSeconds(totalSeconds),
    },
    {
      name: 'rpo: age of the newest backup',
      ok: newest.ageSeconds <= rpoObjective,
      expected: `≤ ${formatSeconds(rpoObjective)}`,
      actual: `${formatSeconds(newest.ageSeconds)} (${newest.id})`,
    },
  ];
}

export function verdictOf(checks: readonly Check[]): Verdict {
  return checks.length > 0 && checks.every((c) => c.ok) ? 'pass' : 'fail';
}

/** `rows public.invoices: expected 3001, got 3000 (and 2 more failed checks)` */
export function causeOf(checks: readonly Check[]): string | undefined {
  const failed = checks.filter((c) => !c.ok);
  const first = failed[0];
  if (!first) return undefined;
  const what = first.problem
    ? `${first.name}: ${first.problem}`
    : `${first.name}: expected ${show(first.expected)}, got ${show(first.actual)}`;
  return failed.length > 1
    ? `${what} (and ${failed.length - 1} more failed check${failed.length > 2 ? 's' : ''})`
    : what;
}

function show(value: string | number | null): string {
  if (value === null) return 'nothing';
  const text = String(value);
  return /^[0-9a-f]{40,}$/.test(text) ? `${text.slice(0, 16)}…` : text;
}
