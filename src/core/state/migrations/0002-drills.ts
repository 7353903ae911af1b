// Drill history: one row per drill, written at its start (running) and updated at its end, so a
// crashed or interrupted drill is visible too. The full report lives in the repository.
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 2,
  name: 'drills',
  sql: `
    create table if not exists fapiao_guard.drills (
      drill_id         text primary key,
      target           text not null,
      backup_id        text,
      status           text not null check (status in ('running', 'pass', 'fail', 'interrupted', 'error')),
      started_at       timestamptz not null default now(),
      finished_at      timestamptz,
      host             text not null,
      pid              int not null,
      scratch_database text,
      kept             boolean not null default false,
      rto_seconds      double precision,
      rpo_seconds      double precision,
      seconds          jsonb,
      cause            text,
      report_object    text,
      html_report      text,
      report           jsonb
    );
    create index if not exists drills_target_started on fapiao_guard.drills (target, started_at desc);
  `,
};
