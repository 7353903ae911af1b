// The job seam: what the scheduler (daemon), `run` and the tests call. Each job in jobs/ is a
// short checklist over src/ functions and returns a summary for history and notifications. The
// registry (jobs/index.ts) declares every job once, with its scope and retry policy.
import type { Config, TargetConfig } from '../core/config/config.js';
import type { Logger } from '../core/logger.js';
import type { Repository } from '../core/repository/repository.js';
import { InternalError } from '../core/errors.js';

/** 'target': once per configured target; 'once': once for the whole configuration. */
export type JobScope = 'target' | 'once';

/** The history `target` of a job that runs once for the whole configuration. */
export const ALL_TARGETS = '*';

interface BaseContext {
  config: Config;
  logger: Logger;
  repo: Repository;
  signal: AbortSignal;
}

export type JobContext<S extends JobScope> = S extends 'target' ? BaseContext & { target: TargetConfig } : BaseContext;

export interface JobResult {
  /** false when the job ran but found a problem (failed drill, findings over threshold) */
  ok: boolean;
  /** one line for people: notifications, `jobs` listing */
  summary: string;
  /** small JSON for history and metrics (no secrets, no invoice data) */
  details: Record<string, unknown>;
}

export interface RetryPolicy {
  /**
   * Attempts a fire time gets in all (≥ 1). An attempt is retried, on whichever daemon is free, when
   * it ended without an outcome: its daemon died, lost the state database, or was stopped. A run that
   * completed and failed is a result, reported and alerted, not retried.
   */
  attempts: number;
}

export interface JobDefinition<S extends JobScope> {
  scope: S;
  retry: RetryPolicy;
  /** loads the job's module on first use, so that reading the registry stays cheap */
  run(ctx: JobContext<S>): Promise<JobResult>;
}

export type AnyJob = JobDefinition<'target'> | JobDefinition<'once'>;

/** What a run is for: a target, or the whole configuration for a 'once' job. */
export type RunScope = { kind: 'target'; target: TargetConfig } | { kind: 'once' };

/** The target name a run is recorded under in job history. */
export function historyTarget(scope: RunScope): string {
  return scope.kind === 'target' ? scope.target.name : ALL_TARGETS;
}

/** Runs a job for its scope; a scope that does not fit the job is a programming error. */
export function runJob(job: AnyJob, base: BaseContext, scope: RunScope): Promise<JobResult> {
  if (job.scope === 'target') {
    if (scope.kind !== 'target') throw new InternalError('a per-target job was run without a target');
    return job.run({ ...base, target: scope.target });
  }
  return job.run(base);
}

/** The runs a job makes for the selected targets: one per target, or one for the configuration. */
export function scopesFor(job: AnyJob, targets: readonly TargetConfig[]): RunScope[] {
  return job.scope === 'target' ? targets.map((target) => ({ kind: 'target', target })) : [{ kind: 'once' }];
}
