// Connecting to PostgreSQL with errors that name the (masked) server, and libpq settings
// for child processes that keep the password out of the process list.
import pg from 'pg';
import { OperationError, messageOf } from '../errors.js';
import { maskUrl } from '../storage/mask-url.js';

export type PgClient = pg.Client;

export async function connect(url: string, applicationName = 'fapiao-guard'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  // An idle client whose server goes away emits 'error'; without a listener that kills the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    const missingDb = /database ".*" does not exist/.test(messageOf(err));
    throw new OperationError(`cannot connect to '${maskUrl(url)}': ${messageOf(err)}`, {
      cause: err,
      hint: missingDb
        ? `create it first, e.g. createdb ${quoteIdent(databaseOf(url))} (with the same host, port and user)`
        : 'check the URL, that the server runs, and pg_hba.conf; PG* environment variables fill what the URL leaves out',
    });
  }
  return client;
}

/** Run `fn` with a connected client and always close it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  const client = await connect(url, applicationName);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Arguments and environment for pg_dump/pg_restore/psql: the URL without its password as
 * --dbname, the password in PGPASSWORD (not visible in `ps`).
 */
export function libpqInvocation(url: string): { dbnameArg: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (parsed.password) {
    env.PGPASSWORD = decodeURIComponent(parsed.password);
    parsed.password = '';
  }
  return { dbnameArg: `--dbname=${parsed.toString()}`, env };
}

/** The same server and port, another database: for admin connections and scratch databases. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name || process.env.PGDATABASE || process.env.PGUSER || 'postgres';
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
