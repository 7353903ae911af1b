// The state database: job runs, drill results, reconciliation findings (schema fapiao_guard).
// A cache and a history; the repository stays the truth about backups.
import { hostname } from 'node:os';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { OperationError, messageOf } from '../errors.js';
import { connect, databaseOf, quoteIdent, withClient, withDatabase } from '../pg/connect.js';
import { maskUrl } from '../storage/mask-url.js';
import { TOOL_VERSION } from '../version.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';

export const DEFAULT_STATE_DATABASE = 'fapiao_guard';

/** state.url, or database fapiao_guard on the first target's server. */
export function stateUrl(config: Config): string {
  return config.state?.url ?? withDatabase(config.targets[0]!.url, DEFAULT_STATE_DATABASE);
}

/**
 * A connected, migrated client for the state database. When the default database does not
 * exist yet it is created (state.url, when given, must exist).
 */
export async function openStateDb(config: Config): Promise<pg.Client> {
  const url = stateUrl(config);
  let client: pg.Client;
  try {
    client = await connect(url, 'fapiao-guard state');
  } catch (err) {
    if (config.state?.url || !/does not exist/.test(messageOf(err))) throw err;
    await createDatabase(url);
    client = await connect(url, 'fapiao-guard state');
  }
  try {
    await migrate(client, MIGRATIONS);
    await client.query(
      `insert into fapiao_guard.installations (host, tool_version) values ($1, $2)
       on conflict (host, tool_version) do update set last_seen = now()`,
      [hostname(), TOOL_VERSION],
    );
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new OperationError(`cannot prepare the state database '${maskUrl(url)}': ${messageOf(err)}`, { cause: err });
  }
  return client;
}

export async function withStateDb<T>(config: Config, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await openStateDb(config);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabase(url: string): Promise<void> {
  const name = databaseOf(url);
  await withClient(withDatabase(url, 'postgres'), async (admin) => {
    await admin.query(`create database ${quoteIdent(name)}`).catch((err: unknown) => {
      if (/already exists/.test(messageOf(err))) return; // created by a concurrent process
      throw new OperationError(`cannot create the state database '${name}' at '${maskUrl(url)}': ${messageOf(err)}`, {
        hint: 'create it yourself (createdb fapiao_guard) or set state.url to an existing database',
      });
    });
  });
}
