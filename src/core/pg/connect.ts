// Connecting to PostgreSQL with errors that name the (masked) server, and libpq settings
// for child processes that keep the password out of the process list.
import pg from 'pg';
import { OperationError, messageOf } from '../errors.js';
import { maskUrl } from '../storage/mask-url.js';
import { formatPgUrl, libpqArgs, parsePgUrl, pgClientConfig } from './conninfo.js';

export type PgClient = pg.Client;

export async function connect(url: string, applicationName = 'fapiao-guard'): Promise<pg.Client> {
  // parsed once with libpq's meaning: the very server and database the pg_* tools get (conninfo.ts)
  const client = new pg.Client(pgClientConfig(parsePgUrl(url), applicationName));
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
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
  applicationName?: string,
): Promise<T> {
  const client = await connect(url, applicationName);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Arguments and environment for pg_dump/pg_restore/psql/pg_dumpall: the URL parsed like connect()
 * parses it, as an explicit keyword/value conninfo without the password in --dbname; the password
 * in PGPASSWORD (argv is readable by every local user, a process's environment only by its owner).
 */
export function libpqInvocation(url: string): { dbnameArg: string; env: NodeJS.ProcessEnv } {
  const { conninfo, env } = libpqArgs(parsePgUrl(url));
  return { dbnameArg: `--dbname=${conninfo}`, env };
}

/** The same server, port, user and settings, another database: for admin connections and scratch databases. */
export function withDatabase(url: string, database: string): string {
  return formatPgUrl({ ...parsePgUrl(url), database });
}

export function databaseOf(url: string): string {
  return parsePgUrl(url).database;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A string literal for statements that take no bind parameters (COMMENT ON …). Like libpq's
 * PQescapeLiteral: a text with a backslash becomes E'…' with the backslash doubled, so it reads the
 * same whether standard_conforming_strings is on or off.
 */
export function quoteLiteral(text: string): string {
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
