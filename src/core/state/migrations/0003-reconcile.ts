// Reconciliation history: one row per run, and findings that persist across runs (first seen,
// last seen, resolved when gone, escalated when pending_sync outlives the sync lag).
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 3,
  name: 'reconcile',
  sql: `
    create table if not exists fapiao_guard.reconcile_runs (
      id            text primary key,
      scope         text not null,
      started_at    timestamptz not null,
      finished_at   timestamptz not null,
      window_from   date not null,
      window_to     date not null,
      upstream      jsonb not null,
      local         jsonb not null,
      summary       jsonb not null,
      ok            boolean not null
    );
    create index if not exists reconcile_runs_scope on fapiao_guard.reconcile_runs (scope, started_at desc);
    create table if not exists fapiao_guard.reconcile_findings (
      scope         text not null,
      fingerprint   text not null,
      kind          text not null,
      key           text not null,
      cause         text,
      day           date,
      details       jsonb not null,
      first_seen    timestamptz not null,
      last_seen     timestamptz not null,
      first_run     text not null,
      last_run      text not null,
      times_seen    int not null default 1,
      resolved_at   timestamptz,
      resolved_run  text,
      escalated_at  timestamptz,
      primary key (scope, fingerprint)
    );
    create index if not exists reconcile_findings_open on fapiao_guard.reconcile_findings (scope, kind) where resolved_at is null;
  `,
};
