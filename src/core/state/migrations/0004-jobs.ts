// Scheduler state (issue 5): one row per (job, target, fire time) that is both the lease that makes a
// fire time run on one daemon only and its history; a partial unique index is the no-overlap lock.
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 4,
  name: 'jobs',
  sql: `
    create table if not exists fapiao_guard.job_runs (
      id           bigserial primary key,
      job          text not null,
      target       text not null,
      fire_time    timestamptz not null,
      trigger      text not null check (trigger in ('schedule', 'catch-up', 'manual')),
      host         text not null,
      pid          int not null,
      status       text not null check (status in ('running', 'succeeded', 'failed', 'skipped', 'interrupted')),
      started_at   timestamptz not null default now(),
      heartbeat_at timestamptz not null default now(),
      finished_at  timestamptz,
      -- true for runs that alert: failed, or interrupted by a crash (not by a clean shutdown)
      is_failure   boolean not null default false,
      error        text,
      summary      text,
      details      jsonb,
      unique (job, target, fire_time)
    );
    -- the lock against overlap: at most one running row per job and target, across all daemons
    create unique index if not exists job_runs_one_running on fapiao_guard.job_runs (job, target) where status = 'running';
    create index if not exists job_runs_job_target_id on fapiao_guard.job_runs (job, target, id desc);
    create table if not exists fapiao_guard.daemons (
      daemon_id    text primary key,
      host         text not null,
      pid          int not null,
      listen       text,
      started_at   timestamptz not null default now(),
      heartbeat_at timestamptz not null default now(),
      stopped_at   timestamptz
    );
  `,
};
