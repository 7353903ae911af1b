// `status`, /status and /metrics read this: per target the newest backup against the RPO, the last
// drill and its RTO, the last run of each job; open findings and live daemons. Reads the repository
// (the truth about backups) and the state DB; tables of other features are read only when present.
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Config } from '../../core/config/config.js';
import { cronMatcher } from '../schedule-times.js';
import { JOBS, JOB_NAMES } from '../../../jobs/index.js';
import { ALL_TARGETS } from '../job.js';
import { defaultDrillConfig } from '../../drill/drill-config.js';
import { processAlive } from '../../core/process-alive.js';
import { type JobSummary, type QueueStats, jobSummaries, queueStats } from '../job-runs.js';
import type { Repository } from '../../core/repository/repository.js';
import { formatTime } from '../../core/format.js';
import { type RepositoryStatus, collectRepositoryStatus, repositoryProblems } from './repository-rpo.js';
import { type JobState, findingProblems, isOverdue, jobProblems, problemsOf } from './assess.js';

export interface TargetStatus {
  target: string;
  ok: boolean;
  problems: string[];
  backup: {
    newest: { id: string; finishedAt: string; ageSeconds: number; storedBytes: number } | null;
    rpoObjectiveSeconds: number;
    complete: number;
    incomplete: number;
  };
  drill: {
    last: {
      drillId: string;
      status: string;
      finishedAt: string | null;
      rtoSeconds: number | null;
      rpoSeconds: number | null;
      cause: string | null;
    } | null;
    rtoObjectiveSeconds: number;
  };
  jobs: JobState[];
}

/**
 * Open reconciliation findings. Every open finding is in one of: failing (a failOn kind, due, not
 * acknowledged), pendingSync (within the sync lag), acknowledged, or due but of a kind not in failOn.
 */
export interface OpenFindings {
  open: number;
  byKind: Record<string, number>;
  /** not pending sync, not acknowledged */
  dueByKind: Record<string, number>;
  acknowledged: number;
  /** within the sync lag, not acknowledged (absent from older callers) */
  pendingSync?: number;
  /** due findings of reconcile.failOn kinds: what makes status fail */
  failing?: number;
  failingByKind?: Record<string, number>;
}

export interface StatusReport {
  ok: boolean;
  generatedAt: string;
  timezone: string;
  problems: string[];
  targets: TargetStatus[];
  /** jobs that run once for all targets (reconcile) */
  globalJobs: JobState[];
  /** open reconciliation findings by kind; null when reconciliation has no table yet */
  findings: OpenFindings | null;
  daemons: Array<{
    host: string;
    pid: number;
    listen: string | null;
    startedAt: string;
    heartbeatAt: string;
    alive: boolean;
    concurrency: number | null;
  }>;
  /** the repositories besides the primary (copies), each against its own RPO; empty with one repository */
  repositories: RepositoryStatus[];
  /** the work queue shared by the daemons: fire times waiting, and per host running, retried, failed */
  queue: QueueStats;
  /** raw job summaries (metrics use them) */
  jobRuns: JobSummary[];
}

export async function collectStatus(
  config: Config,
  repo: Repository,
  db: pg.Pool | pg.Client,
  now = new Date(),
): Promise<StatusReport> {
  const drillSettings = config.drill ?? defaultDrillConfig();
  const summaries = await jobSummaries(db);
  const drills = await lastDrills(db);
  const schedules = config.schedules ?? {};
  const staleAfter = config.daemon?.staleAfter ?? 60;
  const inputs: StatusInputs = { config, now, summaries, drills, schedules, staleAfter, drillSettings };
  const targets: TargetStatus[] = [];
  for (const target of config.targets) targets.push(await targetStatus(repo, target.name, inputs));
  const globalJobs = jobStates(
    JOB_NAMES.filter((j) => JOBS[j].scope === 'once'),
    ALL_TARGETS,
    summaries,
    schedules,
    config.timezone,
    now,
    staleAfter,
  );
  const findings = withFailing(await openFindings(db), config.reconcile?.failOn ?? []);
  const repositories = await collectRepositoryStatus(config, now);
  const problems = [
    ...targets.flatMap((t) => t.problems),
    ...repositories.flatMap(repositoryProblems),
    ...jobProblems('all targets', globalJobs, config.timezone),
    ...findingProblems(findings, config.reconcile?.failOn ?? []),
  ];
  return {
    ok: problems.length === 0,
    generatedAt: now.toISOString(),
    timezone: config.timezone,
    problems,
    targets,
    globalJobs,
    findings,
    daemons: await liveDaemons(db, staleAfter),
    repositories,
    queue: await queueStats(db),
    jobRuns: summaries,
  };
}

/** What every target's status is assessed with (read once per `collectStatus`). */
interface StatusInputs {
  config: Config;
  now: Date;
  summaries: JobSummary[];
  drills: Awaited<ReturnType<typeof lastDrills>>;
  schedules: NonNullable<Config['schedules']>;
  staleAfter: number;
  drillSettings: ReturnType<typeof defaultDrillConfig>;
}

/** One target: its newest backup against the RPO objective, its last drill, its jobs, and the problems. */
async function targetStatus(repo: Repository, target: string, inputs: StatusInputs): Promise<TargetStatus> {
  const { config, now, drillSettings } = inputs;
  const backups = await repo.listBackups(target, { manifests: 'newest' }); // one manifest read, however many backups
  const complete = backups.filter((b) => b.status === 'complete');
  const newest = complete.at(-1);
  const finishedAt = newest?.manifest?.finishedAt;
  const jobs = jobStates(
    JOB_NAMES.filter((j) => JOBS[j].scope === 'target'),
    target,
    inputs.summaries,
    inputs.schedules,
    config.timezone,
    now,
    inputs.staleAfter,
  );
  const drill = inputs.drills.get(target) ?? null;
  const facts = {
    target,
    newestBackup:
      newest && finishedAt
        ? {
            id: newest.id,
            finishedAt,
            ageSeconds: Math.max(0, (now.getTime() - Date.parse(finishedAt)) / 1000),
            storedBytes: newest.storedBytes,
          }
        : null,
    rpoObjectiveSeconds: drillSettings.rpoObjective,
    lastDrill: drill,
    jobs,
  };
  const problems = problemsOf(facts, config.timezone);
  return {
    target,
    ok: problems.length === 0,
    problems,
    backup: {
      newest: facts.newestBackup,
      rpoObjectiveSeconds: drillSettings.rpoObjective,
      complete: complete.length,
      incomplete: backups.length - complete.length,
    },
    drill: { last: drill, rtoObjectiveSeconds: drillSettings.rtoObjective },
    jobs,
  };
}

/**
 * A run still `running` whose process is gone (this host) or whose heartbeat is older than
 * staleAfter: a killed `run` CLI leaves one behind, and no daemon may be up to sweep it.
 */
export function staleRunError(
  last: Pick<JobSummary['last'], 'id' | 'status' | 'host' | 'pid' | 'heartbeatAt'>,
  now: Date,
  staleAfter: number,
  isAlive: (pid: number) => boolean = processAlive,
  timeZone = 'UTC',
): string | undefined {
  if (last.status !== 'running') return undefined;
  const gone = last.host === hostname() && !isAlive(last.pid);
  const silentSeconds = (now.getTime() - Date.parse(last.heartbeatAt)) / 1000;
  if (!gone && silentSeconds <= staleAfter) return undefined;
  const why = gone
    ? `its process (host ${last.host}, pid ${last.pid}) is gone`
    : `no heartbeat from host ${last.host}, pid ${last.pid} since ${formatTime(last.heartbeatAt, timeZone)}`;
  return `run #${last.id} is still recorded as running but ${why}: killed or crashed (a daemon marks it interrupted when it sweeps)`;
}

function jobStates(
  names: readonly string[],
  target: string,
  summaries: readonly JobSummary[],
  schedules: Record<string, string | undefined>,
  timeZone: string,
  now: Date,
  staleAfter: number,
): JobState[] {
  return names.flatMap((job) => {
    const s = summaries.find((x) => x.job === job && x.target === target);
    const schedule = schedules[job] ?? null;
    if (!s && !schedule) return [];
    const overdue = Boolean(schedule && s && isOverdue(cronMatcher(schedule, timeZone), s.lastSuccessAt, now));
    const last = s?.last;
    const stale = last ? staleRunError(last, now, staleAfter, processAlive, timeZone) : undefined;
    const lastRun = last
      ? {
          id: last.id,
          status: stale ? 'stale' : last.status,
          isFailure: stale ? true : last.isFailure,
          fireTime: last.fireTime,
          finishedAt: last.finishedAt,
          error: stale ?? last.error,
          summary: last.summary,
        }
      : null;
    return [{ job, schedule, lastSuccessAt: s?.lastSuccessAt ?? null, overdue, lastRun }];
  });
}

async function tableExists(db: pg.Pool | pg.Client, name: string): Promise<boolean> {
  const res = await db.query<{ t: string | null }>('select to_regclass($1)::text as t', [name]);
  return res.rows[0]?.t != null;
}

/** The last finished drill per target (migration 0002; absent in older state databases). */
async function lastDrills(db: pg.Pool | pg.Client): Promise<Map<string, NonNullable<TargetStatus['drill']['last']>>> {
  if (!(await tableExists(db, 'fapiao_guard.drills'))) return new Map();
  const res = await db.query(
    `select distinct on (target) target, drill_id, status, finished_at, rto_seconds, rpo_seconds, cause
       from fapiao_guard.drills where status <> 'running' order by target, started_at desc`,
  );
  return new Map(
    res.rows.map((r) => [
      r.target as string,
      {
        drillId: r.drill_id,
        status: r.status,
        finishedAt: r.finished_at ? (r.finished_at as Date).toISOString() : null,
        rtoSeconds: r.rto_seconds,
        rpoSeconds: r.rpo_seconds,
        cause: r.cause,
      },
    ]),
  );
}

/** Open (unresolved) reconciliation findings by kind (migration 0003), acknowledged ones apart (0006). */
async function openFindings(db: pg.Pool | pg.Client): Promise<StatusReport['findings']> {
  if (!(await tableExists(db, 'fapiao_guard.reconcile_findings'))) return null;
  const acks = await tableExists(db, 'fapiao_guard.reconcile_finding_acks');
  const res = await db.query<{ kind: string; n: string; due: string; acked: string; pending: string }>(
    acks
      ? `select f.kind, count(*) as n, count(*) filter (where f.cause is distinct from 'pending_sync' and a.id is null) as due, count(a.id) as acked,
                count(*) filter (where f.cause = 'pending_sync' and a.id is null) as pending
           from fapiao_guard.reconcile_findings f
           left join fapiao_guard.reconcile_finding_acks a on a.scope = f.scope and a.fingerprint = f.fingerprint and a.ended_at is null
          where f.resolved_at is null group by f.kind order by f.kind`
      : `select kind, count(*) as n, count(*) filter (where cause is distinct from 'pending_sync') as due, 0 as acked,
                count(*) filter (where cause = 'pending_sync') as pending
           from fapiao_guard.reconcile_findings where resolved_at is null group by kind order by kind`,
  );
  const byKind = Object.fromEntries(res.rows.map((r) => [r.kind, Number(r.n)]));
  // pending_sync findings are not failing yet (within the sync lag), as in `reconcile` itself;
  // acknowledged ones (`findings ack`) are not failing at all, and stay counted as open
  const dueByKind = Object.fromEntries(res.rows.map((r) => [r.kind, Number(r.due)]));
  const acknowledged = res.rows.reduce((sum, r) => sum + Number(r.acked), 0);
  const pendingSync = res.rows.reduce((sum, r) => sum + Number(r.pending), 0);
  return { open: Object.values(byKind).reduce((a, b) => a + b, 0), byKind, dueByKind, acknowledged, pendingSync };
}

/** The failing part of the open findings: due ones of failOn kinds. */
export function withFailing(f: OpenFindings | null, failOn: readonly string[]): OpenFindings | null {
  if (!f) return null;
  const failingByKind = Object.fromEntries(
    Object.entries(f.dueByKind).filter(([kind, n]) => n > 0 && failOn.includes(kind)),
  );
  return { ...f, failing: Object.values(failingByKind).reduce((a, b) => a + b, 0), failingByKind };
}

async function liveDaemons(db: pg.Pool | pg.Client, staleAfter: number): Promise<StatusReport['daemons']> {
  const res = await db.query(
    `select host, pid, listen, concurrency, started_at, heartbeat_at, heartbeat_at > now() - make_interval(secs => $1) as alive
       from fapiao_guard.daemons where stopped_at is null and heartbeat_at > now() - interval '1 day' order by started_at`,
    [staleAfter],
  );
  return res.rows.map((r) => ({
    host: r.host,
    pid: r.pid,
    listen: r.listen,
    startedAt: (r.started_at as Date).toISOString(),
    heartbeatAt: (r.heartbeat_at as Date).toISOString(),
    alive: r.alive,
    concurrency: r.concurrency ?? null,
  }));
}
