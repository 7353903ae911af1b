// Core state: the schema itself is created by the runner; this records tool installs.
import type { Migration } from '../migrate.js';

export const migration: Migration = {
  version: 1,
  name: 'core',
  sql: `
    create table if not exists fapiao_guard.installations (
      host        text not null,
      tool_version text not null,
      first_seen  timestamptz not null default now(),
      last_seen   timestamptz not null default now(),
      primary key (host, tool_version)
    );
  `,
};
