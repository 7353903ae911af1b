// Disposable databases on the test server: one per test file (graphile-worker's practice).
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { sampleDataStatements } from '../../src/demo/sample-data.js';

export function serverUrl(): string {
  return inject('pgServerUrl');
}

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(prefix: string): Promise<TestDatabase> {
  const name = `fgt_${prefix}_${randomBytes(3).toString('hex')}`;
  await query(serverUrl(), `create database ${name}`);
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      await query(serverUrl(), `drop database if exists ${name} with (force)`);
    },
  };
}

/** A database with the sample invoice schema and `invoices` rows (plus line items). */
export async function createSampleDatabase(prefix: string, invoices = 2000): Promise<TestDatabase> {
  const db = await createDatabase(prefix);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (const sql of sampleDataStatements({ invoices, endAt: '2026-11-27T16:00:00Z' })) await client.query(sql);
  } finally {
    await client.end();
  }
  return db;
}

export async function databaseExists(name: string): Promise<boolean> {
  return (await query(serverUrl(), 'select 1 from pg_database where datname = $1', [name])).length > 0;
}

/** The first row; fails the test when there is none. */
export async function queryOne<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T> {
  const rows = await query<T>(url, sql, params);
  if (rows.length === 0) throw new Error(`no row from: ${sql}`);
  return rows[0]!;
}
