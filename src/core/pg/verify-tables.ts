// verifyTables entries resolved against the database, before a backup writes anything: each must
// name one table (or partitioned table, measured with all its partitions), found the way psql
// finds it: schema-qualified, or else on the search_path.
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import { type QualifiedName, displayName, parseQualifiedName } from './identifier.js';

export interface VerifyTable {
  schema: string;
  name: string;
  /** a partitioned parent: its rows are those of every partition, present and future */
  partitioned: boolean;
}

interface Candidate {
  schema: string;
  name: string;
  kind: string;
  visible: boolean;
}

const KIND_NAMES: Record<string, string> = {
  v: 'a view',
  m: 'a materialized view',
  f: 'a foreign table',
  S: 'a sequence',
  i: 'an index',
  I: 'an index',
  c: 'a type',
  t: 'a TOAST table',
};

/** Pure: the table an entry names among the relations with its name (any case), or why not. */
export function pickTable(
  entry: string,
  parsed: QualifiedName,
  candidates: readonly Candidate[],
): { table: VerifyTable } | { problem: string; hint?: string } {
  const exact = candidates.filter(
    (c) => c.name === parsed.name && (parsed.schema === undefined ? c.visible : c.schema === parsed.schema),
  );
  const found = exact[0];
  if (found) {
    if (found.kind === 'r' || found.kind === 'p')
      return { table: { schema: found.schema, name: found.name, partitioned: found.kind === 'p' } };
    return {
      problem: `verify table '${entry}' is ${KIND_NAMES[found.kind] ?? `a relation of kind '${found.kind}'`}, not a table`,
      hint: 'verifyTables takes tables and partitioned tables; materialized views and sequences are compared anyway',
    };
  }
  const tables = candidates.filter((c) => c.kind === 'r' || c.kind === 'p');
  const sameName = tables.filter((c) => c.name === parsed.name);
  const others =
    parsed.schema === undefined && sameName.length > 0
      ? sameName
      : tables.filter(
          (c) =>
            c.name.toLowerCase() === parsed.name.toLowerCase() &&
            (parsed.schema === undefined || c.schema.toLowerCase() === parsed.schema.toLowerCase()),
        );
  const suggestion =
    others.length > 0
      ? `did you mean ${others
          .slice(0, 3)
          .map((c) => displayName(c))
          .join(' or ')}? (write it as shown: quotes keep upper case and spaces)`
      : undefined;
  const where = parsed.schema === undefined ? ' on the search_path' : '';
  return { problem: `verify table '${entry}' not found${where}`, ...(suggestion ? { hint: suggestion } : {}) };
}

/** Resolve every entry; a ConfigError (exit 2) names the first one that names no table. */
export async function resolveVerifyTables(client: pg.Client, entries: readonly string[]): Promise<VerifyTable[]> {
  const out: VerifyTable[] = [];
  const seen = new Set<string>();
  const problems: Array<{ problem: string; hint?: string }> = [];
  for (const entry of entries) {
    const parsed = parseQualifiedName(entry);
    if (!parsed.ok) {
      problems.push({ problem: `verify table ${parsed.reason}` });
      continue;
    }
    const { rows } = await client.query<Candidate>(
      `select n.nspname as schema, c.relname as name, c.relkind::text as kind, pg_table_is_visible(c.oid) as visible
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where lower(c.relname) = lower($1) and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
        order by 1, 2`,
      [parsed.value.name],
    );
    const pick = pickTable(entry, parsed.value, rows);
    if ('problem' in pick) problems.push(pick);
    else if (!seen.has(`${pick.table.schema}\0${pick.table.name}`)) {
      seen.add(`${pick.table.schema}\0${pick.table.name}`);
      out.push(pick.table);
    }
  }
  if (problems.length > 0) {
    const { rows } = await client.query<{ database: string }>('select current_database() as database');
    const first = problems[0]!;
    throw new ConfigError(
      `${first.problem} in database '${rows[0]!.database}'${problems.length > 1 ? ` (and ${problems.length - 1} more verifyTables entr${problems.length > 2 ? 'ies' : 'y'})` : ''}`,
      [],
      {
        hint:
          first.hint ?? 'fix verifyTables of this target (schema.table as psql \\dt shows it, "Quoted" where needed)',
      },
    );
  }
  return out;
}
