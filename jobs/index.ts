// The job registry, declared once: every job by name, whether it runs per target or once, and how
// often a fire time is attempted. The daemon, `run`, `prune`, `jobs` and status read it; a job
// module is loaded only when the job runs. Adding a job is one entry here plus its module.
import type { AnyJob, JobContext, JobDefinition, JobResult, JobScope } from '../src/daemon/job.js';
import { JOB_NAMES, type JobName } from '../src/daemon/daemon-config.js';

function job<S extends JobScope>(
  scope: S,
  attempts: number,
  load: () => Promise<{ run(ctx: JobContext<S>): Promise<JobResult> }>,
): JobDefinition<S> {
  return { scope, retry: { attempts }, run: async (ctx) => (await load()).run(ctx) };
}

export const JOBS = {
  backup: job('target', 3, () => import('./backup.js')),
  drill: job('target', 2, () => import('./drill.js')),
  reconcile: job('once', 2, () => import('./reconcile.js')),
  prune: job('target', 3, () => import('./prune.js')),
  copy: job('target', 3, () => import('./copy.js')),
} satisfies Record<JobName, AnyJob>;

export { JOB_NAMES, type JobName };

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}
