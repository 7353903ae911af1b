// Safety checks before writing into a database: never the backup's own source, never a
// non-empty database unless --clean was asked for.
import type pg from 'pg';
import { UsageError } from '../errors.js';
import { maskUrl } from '../storage/mask-url.js';
import type { Manifest } from '../repository/manifest.js';

export interface TargetFacts {
  database: string;
  systemIdentifier?: string;
  userTables: number;
}

export async function readTargetFacts(client: pg.Client): Promise<TargetFacts> {
  const systemIdentifier = await client
    .query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
    .then((r) => r.rows[0]?.id, () => undefined);
  const { rows } = await client.query<{ database: string; tables: string }>(
    `select current_database() as database,
            (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                and n.nspname not in ('pg_catalog', 'information_schema')
                and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%')::text as tables`,
  );
  return { database: rows[0]!.database, userTables: Number(rows[0]!.tables), ...(systemIdentifier ? { systemIdentifier } : {}) };
}

/** Same server (by system identifier, or by host/port when unreadable) and same database name. */
export function isSourceOfBackup(manifest: Manifest, facts: TargetFacts, toUrl: string, sourceUrl?: string): boolean {
  if (facts.database !== manifest.database) return false;
  if (manifest.server.systemIdentifier && facts.systemIdentifier) return manifest.server.systemIdentifier === facts.systemIdentifier;
  if (!sourceUrl) return true; // cannot tell: same name, unknown server; refuse to be safe
  const a = new URL(toUrl);
  const b = new URL(sourceUrl);
  return (a.hostname || 'localhost') === (b.hostname || 'localhost') && (a.port || '5432') === (b.port || '5432');
}

export function guardRestoreTarget(manifest: Manifest, facts: TargetFacts, toUrl: string, clean: boolean, sourceUrl?: string): void {
  if (isSourceOfBackup(manifest, facts, toUrl, sourceUrl)) {
    throw new UsageError(`refusing to restore backup '${manifest.id}' onto its own source database '${facts.database}' at '${maskUrl(toUrl)}'`, {
      hint: 'restore into another database (createdb invoices_restored) and compare, or use a drill',
    });
  }
  if (facts.userTables > 0 && !clean) {
    throw new UsageError(`database '${facts.database}' at '${maskUrl(toUrl)}' is not empty (${facts.userTables} relations)`, {
      hint: 'restore into an empty database, or pass --clean to drop and recreate the objects the backup contains',
    });
  }
}
