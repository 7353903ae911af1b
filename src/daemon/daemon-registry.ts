// What the daemon schedules (job × target × cron expression, from config and the job registry) and
// the daemons table: who is alive, for `status` and /healthz.
import type pg from 'pg';
import type { Config, TargetConfig } from '../core/config/config.js';
import { ConfigError } from '../core/errors.js';
import type { Job, JobName } from './job.js';
import { ALL_TARGETS, GLOBAL_JOBS, type Schedules } from './daemon-config.js';

export interface ScheduleEntry {
  job: Job;
  /** the target the job runs for (a global job gets the first one and ignores it) */
  target: TargetConfig;
  /** the target as recorded in job history: the target's name, or '*' for a global job */
  historyTarget: string;
  schedule: string;
}

export function scheduleEntries(config: Config, schedules: Schedules, jobs: Partial<Record<JobName, Job>>, targets: readonly TargetConfig[]): ScheduleEntry[] {
  const problems: string[] = [];
  const entries = Object.entries(schedules).flatMap(([name, schedule]) => {
    const job = jobs[name as JobName];
    if (!job || !schedule) {
      problems.push(`schedules.${name}: this build has no '${name}' job`);
      return [];
    }
    if (name === 'reconcile' && !config.reconcile) {
      problems.push(`schedules.reconcile: the configuration has no 'reconcile' section`);
      return [];
    }
    if (GLOBAL_JOBS.has(job.name)) return [{ job, target: config.targets[0]!, historyTarget: ALL_TARGETS, schedule }];
    return targets.map((target) => ({ job, target, historyTarget: target.name, schedule }));
  });
  if (problems.length > 0) throw new ConfigError('cannot schedule the configured jobs', problems);
  if (entries.length === 0) throw new ConfigError('nothing to schedule: the configuration has no schedules', [], { hint: 'add e.g. schedules: {backup: "0 2 * * *", prune: "30 5 * * *"}' });
  return entries;
}

export async function registerDaemon(pool: pg.Pool, id: string, host: string, listen: string | null): Promise<void> {
  await pool.query(`insert into fapiao_guard.daemons (daemon_id, host, pid, listen) values ($1, $2, $3, $4)`, [id, host, process.pid, listen]);
}

export async function daemonHeartbeat(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(`update fapiao_guard.daemons set heartbeat_at = now() where daemon_id = $1`, [id]);
}

export async function daemonStopped(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(`update fapiao_guard.daemons set stopped_at = now(), heartbeat_at = now() where daemon_id = $1`, [id]);
}
