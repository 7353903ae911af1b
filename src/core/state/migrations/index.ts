// Every migration, in version order. Add a new file and one import line; never edit an
// applied migration: write another.
import type { Migration } from '../migrate.js';
import { migration as core } from './0001-core.js';
import { migration as drills } from './0002-drills.js';
import { migration as reconcile } from './0003-reconcile.js';
import { migration as jobs } from './0004-jobs.js';
import { migration as scopeWithoutUser } from './0005-scope-without-user.js';
import { migration as findingAcknowledgements } from './0006-finding-acknowledgements.js';
import { migration as jobQueue } from './0007-job-queue.js';

export const MIGRATIONS: readonly Migration[] = [
  core,
  drills,
  reconcile,
  jobs,
  scopeWithoutUser,
  findingAcknowledgements,
  jobQueue,
];
