// Acknowledgements of reconciliation findings (`findings ack`): who accepted or explained a finding,
// why and when, and what the finding was at that moment (acked_details), so that a later run that
// sees it changed (another amount, another status) ends the acknowledgement and the finding fails
// again. Rows are never deleted: an ended acknowledgement keeps when and why it ended.
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 6,
  name: 'finding-acknowledgements',
  sql: `
    create table if not exists fapiao_guard.reconcile_finding_acks (
      id            bigserial primary key,
      scope         text not null,
      fingerprint   text not null,
      acked_at      timestamptz not null,
      acked_by      text not null,
      reason        text not null,
      acked_details jsonb not null,
      ended_at      timestamptz,
      ended_run     text,
      end_reason    text,
      foreign key (scope, fingerprint) references fapiao_guard.reconcile_findings (scope, fingerprint) on update cascade on delete cascade
    );
    -- at most one acknowledgement in force per finding
    create unique index if not exists reconcile_finding_acks_current on fapiao_guard.reconcile_finding_acks (scope, fingerprint) where ended_at is null;
  `,
};
