// Safety checks before writing into a database: never the backup's own source, never a
// non-empty database unless --clean was asked for.
import type pg from 'pg';
import { UsageError } from '../../core/errors.js';
import { maskUrl } from '../../core/storage/mask-url.js';
import type { Manifest } from '../../core/repository/manifest.js';
import { endpointOf, parsePgUrl } from '../../core/pg/conninfo.js';

export interface TargetFacts {
  database: string;
  systemIdentifier?: string;
  /** pg_postmaster_start_time(), readable by any role: tells servers apart when the system identifier is not */
  serverStarted?: string;
  userTables: number;
}

export async function readTargetFacts(client: pg.Client): Promise<TargetFacts> {
  const systemIdentifier = await client
    .query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
    .then(
      (r) => r.rows[0]?.id,
      () => undefined,
    );
  const { rows } = await client.query<{ database: string; tables: string; started: string }>(
    `select current_database() as database, pg_postmaster_start_time()::text as started,
            (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                and n.nspname not in ('pg_catalog', 'information_schema')
                and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%')::text as tables`,
  );
  return {
    database: rows[0]!.database,
    userTables: Number(rows[0]!.tables),
    serverStarted: rows[0]!.started,
    ...(systemIdentifier ? { systemIdentifier } : {}),
  };
}

/**
 * Same server (by system identifier, or by host/port when unreadable) and same database name.
 * `source`, the live source's facts read the same way, settles it when the manifest cannot.
 */
export function isSourceOfBackup(
  manifest: Manifest,
  facts: TargetFacts,
  toUrl: string,
  sourceUrl?: string,
  source?: TargetFacts,
): boolean {
  if (source && sameDatabase(source, facts)) return true;
  if (facts.database !== manifest.database) return false;
  if (manifest.server.systemIdentifier && facts.systemIdentifier)
    return manifest.server.systemIdentifier === facts.systemIdentifier;
  if (!sourceUrl) return true; // cannot tell: same name, unknown server; refuse to be safe
  return endpointOf(parsePgUrl(toUrl)) === endpointOf(parsePgUrl(sourceUrl));
}

/** Both sessions are in the same database of the same server (what we know of both of them). */
export function sameDatabase(a: TargetFacts, b: TargetFacts): boolean {
  if (a.database !== b.database) return false;
  if (a.systemIdentifier && b.systemIdentifier) return a.systemIdentifier === b.systemIdentifier;
  return a.serverStarted !== undefined && a.serverStarted === b.serverStarted;
}

export function guardRestoreTarget(
  manifest: Manifest,
  facts: TargetFacts,
  toUrl: string,
  clean: boolean,
  sourceUrl?: string,
  source?: TargetFacts,
): void {
  if (isSourceOfBackup(manifest, facts, toUrl, sourceUrl, source)) {
    throw new UsageError(
      `refusing to restore backup '${manifest.id}' onto its own source database '${facts.database}' at '${maskUrl(toUrl)}'`,
      {
        hint: 'restore into another database (createdb invoices_restored) and compare, or use a drill',
      },
    );
  }
  if (facts.userTables > 0 && !clean) {
    throw new UsageError(
      `database '${facts.database}' at '${maskUrl(toUrl)}' is not empty (${facts.userTables} relations)`,
      {
        hint: 'restore into an empty database, or pass --clean to drop and recreate the objects the backup contains',
      },
    );
  }
}
