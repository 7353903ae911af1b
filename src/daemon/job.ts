// The job seam: what the scheduler (daemon), `run` and the tests call. Each job in jobs/ is a
// short checklist over src/ functions and returns a summary for history and notifications.
import type { Config, TargetConfig } from '../core/config/config.js';
import type { Logger } from '../core/logger.js';
import type { Repository } from '../core/repository/repository.js';
import type { JobName } from './daemon-config.js';

export type { JobName };

export interface JobContext {
  config: Config;
  logger: Logger;
  repo: Repository;
  target: TargetConfig;
  signal: AbortSignal;
}

export interface JobResult {
  /** false when the job ran but found a problem (failed drill, findings over threshold) */
  ok: boolean;
  /** one line for people: notifications, `jobs` listing */
  summary: string;
  /** small JSON for history and metrics (no secrets, no invoice data) */
  details: Record<string, unknown>;
}

export interface Job {
  name: JobName;
  run(ctx: JobContext): Promise<JobResult>;
}
