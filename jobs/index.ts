// The job registry: every job module in jobs/, by name. The daemon, `run` and `jobs` read it; a job
// that is not listed here cannot be scheduled.
import type { Job, JobName } from '../src/daemon/job.js';
import { backupJob } from './backup.js';
import { copyJob } from './copy.js';
import { drillJob } from './drill.js';
import { pruneJob } from './prune.js';
import { reconcileJob } from './reconcile.js';

export const JOBS: Partial<Record<JobName, Job>> = {
  backup: backupJob,
  drill: drillJob,
  reconcile: reconcileJob,
  prune: pruneJob,
  copy: copyJob,
};

export { GLOBAL_JOBS, ALL_TARGETS } from '../src/daemon/daemon-config.js';
