// Shared by the benchmarks: a reusable, seeded benchmark database of realistic invoices.
import pg from 'pg';
import { sampleDataStatements } from '../../dist/src/demo/sample-data.js';

export const SERVER = process.env.FAPIAO_GUARD_BENCH_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function dbUrl(name) {
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return url.toString();
}

/** One statement on its own connection: the rows. */
export async function q(url, sql, params = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Create `name` with `invoices` sample invoices unless it already has exactly that many. */
export async function ensureBenchDatabase(name, invoices) {
  const exists = (await q(SERVER, 'select 1 from pg_database where datname = $1', [name])).length > 0;
  if (exists) {
    const rows = await q(dbUrl(name), 'select count(*)::bigint as n from public.invoices').catch(() => [{ n: -1 }]);
    if (Number(rows[0].n) === invoices) return { url: dbUrl(name), created: false };
    await q(SERVER, `drop database ${name} with (force)`);
  }
  await q(SERVER, `create database ${name}`);
  const c = new pg.Client({ connectionString: dbUrl(name) });
  await c.connect();
  const started = Date.now();
  for (const sql of sampleDataStatements({ invoices, endAt: '2026-11-27T16:00:00Z', batch: 250_000 }))
    await c.query(sql);
  await c.end();
  process.stderr.write(`built ${name}: ${invoices} invoices in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  return { url: dbUrl(name), created: true };
}

export async function databaseSize(name) {
  return Number((await q(SERVER, 'select pg_database_size($1)::bigint as s', [name]))[0].s);
}
