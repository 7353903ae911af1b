// Work shared across daemons (issue 13): a claimed fire time is 'queued' until a worker on any
// daemon takes it (the queue itself is graphile-worker's, in this schema: src/daemon/job-queue.ts).
// Each attempt at a fire time is its own row, so history shows a run redone after its daemon died;
// daemons record their concurrency and their queue worker ids (to release the jobs of a dead one).
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 7,
  name: 'job-queue',
  sql: `
    alter table fapiao_guard.job_runs add column if not exists attempt int not null default 1;
    alter table fapiao_guard.job_runs add column if not exists max_attempts int not null default 1;
    alter table fapiao_guard.job_runs drop constraint if exists job_runs_job_target_fire_time_key;
    alter table fapiao_guard.job_runs add constraint job_runs_fire_time_attempt unique (job, target, fire_time, attempt);
    alter table fapiao_guard.job_runs drop constraint if exists job_runs_status_check;
    alter table fapiao_guard.job_runs add constraint job_runs_status_check
      check (status in ('queued', 'running', 'succeeded', 'failed', 'skipped', 'interrupted'));
    create index if not exists job_runs_active on fapiao_guard.job_runs (job, target) where status in ('queued', 'running');
    alter table fapiao_guard.daemons add column if not exists concurrency int;
    alter table fapiao_guard.daemons add column if not exists worker_ids text[] not null default '{}';
  `,
};
