// Is anything stale or failing? (pure) Turns what status collected into one-line problems; any problem
// makes `status` exit 1 and /healthz-independent alerting possible from any monitoring system.
import { pushAll } from '../../core/arrays.js';
import { formatSeconds } from '../../core/config/duration.js';
import { formatTime } from '../../core/format.js';
import { type CronMatcher, previousFireTime } from '../schedule-times.js';

export interface JobState {
  job: string;
  schedule: string | null;
  lastRun: {
    id: number;
    status: string;
    isFailure: boolean;
    fireTime: string;
    finishedAt: string | null;
    error: string | null;
    summary: string | null;
  } | null;
  lastSuccessAt: string | null;
  overdue: boolean;
}

export interface TargetFacts {
  target: string;
  newestBackup: { id: string; finishedAt: string; ageSeconds: number } | null;
  rpoObjectiveSeconds: number;
  lastDrill: { status: string; cause: string | null; rtoSeconds: number | null } | null;
  jobs: JobState[];
}

/** Two fire times passed since the last success: one missed run may be in progress, two is overdue. */
export function isOverdue(
  matcher: CronMatcher,
  lastSuccessAt: string | null,
  now: Date,
  lookBackSeconds = 35 * 86400,
): boolean {
  const floor = Math.max(lastSuccessAt ? Date.parse(lastSuccessAt) : 0, now.getTime() - lookBackSeconds * 1000);
  const first = previousFireTime(matcher, now, new Date(floor));
  if (!first) return false;
  return previousFireTime(matcher, new Date(first.getTime() - 1000), new Date(floor)) !== undefined;
}

export function problemsOf(t: TargetFacts, timeZone = 'UTC'): string[] {
  const problems: string[] = [];
  if (!t.newestBackup) problems.push(`no complete backup of '${t.target}'`);
  else if (t.newestBackup.ageSeconds > t.rpoObjectiveSeconds) {
    problems.push(
      `newest backup of '${t.target}' is ${formatSeconds(t.newestBackup.ageSeconds)} old, over the RPO objective ${formatSeconds(t.rpoObjectiveSeconds)}`,
    );
  }
  if (t.lastDrill && (t.lastDrill.status === 'fail' || t.lastDrill.status === 'error')) {
    problems.push(
      `last drill of '${t.target}' ${t.lastDrill.status === 'fail' ? 'failed' : 'could not run'}: ${t.lastDrill.cause ?? 'see fapiao-guard drills'}`,
    );
  }
  pushAll(problems, jobProblems(`'${t.target}'`, t.jobs, timeZone));
  return problems;
}

/** Failed or overdue jobs; `of` names the scope: a target in quotes, or "all targets". Times in the zone. */
export function jobProblems(of: string, jobs: readonly JobState[], timeZone = 'UTC'): string[] {
  return jobs.flatMap((j) => {
    if (j.lastRun?.isFailure)
      return [
        `last ${j.job} run of ${of} ${j.lastRun.status}: ${j.lastRun.error ?? j.lastRun.summary ?? 'no cause recorded'}`,
      ];
    if (j.overdue)
      return [
        `${j.job} of ${of} is overdue: last success ${j.lastSuccessAt ? formatTime(j.lastSuccessAt, timeZone) : 'never'}, schedule '${j.schedule}'`,
      ];
    return [];
  });
}

/** Open reconciliation findings of a reconcile.failOn kind are failing, however the run was started. */
export function findingProblems(
  findings: { open?: number; dueByKind: Record<string, number> } | null,
  failOn: readonly string[],
): string[] {
  if (!findings) return [];
  const failing = Object.entries(findings.dueByKind).filter(([kind, n]) => n > 0 && failOn.includes(kind));
  if (failing.length === 0) return [];
  const total = failing.reduce((sum, [, n]) => sum + n, 0);
  // the open count next to it includes findings that do not fail: say the failing ones are a part
  const of = findings.open !== undefined && findings.open > total ? ` of ${findings.open} open` : '';
  return [
    `${total} failing reconciliation finding(s)${of} (${failing.map(([k, n]) => `${k} ${n}`).join(', ')}); see 'fapiao-guard findings --open'`,
  ];
}
