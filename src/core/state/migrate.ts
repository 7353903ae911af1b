// Versioned migrations of the state schema (fapiao_guard), applied once each, in order, under
// an advisory lock so that two processes starting together do not race.
import type pg from 'pg';
import { InternalError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const STATE_SCHEMA = 'fapiao_guard';
/** pg_advisory_xact_lock key for migrations: 'fgmg' */
const MIGRATION_LOCK = 0x66676d67;

export async function migrate(client: pg.Client, migrations: readonly Migration[]): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (versions.some((v, i) => i > 0 && v <= versions[i - 1]!))
    throw new InternalError(`migrations out of order: ${versions.join(', ')}`);
  const applied: number[] = [];
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`create schema if not exists ${STATE_SCHEMA}`);
    await client.query(`create table if not exists ${STATE_SCHEMA}.schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ version: number }>(`select version from ${STATE_SCHEMA}.schema_migrations`);
    const done = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`insert into ${STATE_SCHEMA}.schema_migrations (version, name) values ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
  return applied;
}
