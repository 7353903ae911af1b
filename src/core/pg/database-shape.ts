// What a restored copy must have besides table contents: the same user tables (no more, no fewer),
// the same partition tree, sequences not behind, materialized views holding what a restore rebuilds.
// Recorded in the backup's details (field `shape`, absent in backups from before it) and compared
// after every restore and drill.
import type pg from 'pg';
import { displayName, sqlName } from './identifier.js';

/** One compared fact of a backup and its restored copy (or of two shapes). */
export interface DetailCheck {
  name: string;
  ok: boolean;
  expected: string | number | null;
  actual: string | number | null;
}

export interface DatabaseShape {
  /** every user table and partitioned table, as `schema.name` (quoted where needed), sorted */
  tables: string[];
  /** every attached partition: its parent and its bound (FOR VALUES …) */
  partitions: Array<{ partition: string; parent: string; bound: string }>;
  /**
   * Sequences' last values (decimal text; null: never used, or not readable by this role). Read
   * before pg_dump starts: a sequence only moves forward meanwhile, so a restored copy has at least it.
   */
  sequences: Array<{ name: string; lastValue: string | null; descending?: true }>;
  /** materialized views: rows a restore's REFRESH gives (their query in the backup's snapshot); null = not populated */
  materializedViews: Array<{ name: string; rows: number | null }>;
}

const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'`;
const NOT_EXTENSION = `not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')`;

/**
 * Read the shape inside the caller's transaction. `source`: materialized views are counted by
 * running their query (what pg_restore's REFRESH will produce, however stale the stored rows
 * are); a restored copy's views are counted as stored.
 */
export async function collectShape(client: pg.Client, side: 'source' | 'restored'): Promise<DatabaseShape> {
  const relations = await client.query<{
    schema: string;
    name: string;
    kind: string;
    populated: boolean;
    parent_schema: string | null;
    parent_name: string | null;
    bound: string | null;
  }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relispopulated as populated,
            pn.nspname as parent_schema, p.relname as parent_name, pg_get_expr(c.relpartbound, c.oid) as bound
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       left join pg_inherits i on c.relispartition and i.inhrelid = c.oid
       left join pg_class p on p.oid = i.inhparent left join pg_namespace pn on pn.oid = p.relnamespace
      where c.relkind in ('r', 'p', 'm') and ${USER_SCHEMAS} and ${NOT_EXTENSION}
      order by n.nspname, c.relname`,
  );
  const tables: string[] = [];
  const partitions: DatabaseShape['partitions'] = [];
  const materializedViews: DatabaseShape['materializedViews'] = [];
  for (const r of relations.rows) {
    const name = displayName(r);
    if (r.kind === 'm') {
      const rows = r.populated ? await countMaterializedView(client, r, side) : null;
      // a view whose query cannot run here (it reads an unpopulated view) is left uncompared
      if (rows !== undefined) materializedViews.push({ name, rows });
      continue;
    }
    tables.push(name);
    if (r.parent_schema !== null && r.parent_name !== null)
      partitions.push({
        partition: name,
        parent: displayName({ schema: r.parent_schema, name: r.parent_name }),
        bound: r.bound ?? '',
      });
  }
  const seqs = await client.query<{ schema: string; name: string; last_value: string | null; descending: boolean }>(
    `select s.schemaname as schema, s.sequencename as name, s.last_value::text as last_value, s.increment_by < 0 as descending
       from pg_sequences s join pg_namespace n on n.nspname = s.schemaname join pg_class c on c.relnamespace = n.oid and c.relname = s.sequencename
      where ${USER_SCHEMAS} and ${NOT_EXTENSION}
      order by 1, 2`,
  );
  const sequences = seqs.rows.map((s) => ({
    name: displayName(s),
    lastValue: s.last_value,
    ...(s.descending ? { descending: true as const } : {}),
  }));
  return { tables, partitions, sequences, materializedViews };
}

async function countMaterializedView(
  client: pg.Client,
  view: { schema: string; name: string },
  side: 'source' | 'restored',
): Promise<number | undefined> {
  if (side === 'restored') {
    const { rows } = await client.query<{ n: string }>(`select count(*)::bigint as n from ${sqlName(view)}`);
    return Number(rows[0]!.n);
  }
  const { rows: def } = await client.query<{ sql: string }>(
    `select pg_get_viewdef(format('%I.%I', $1::text, $2::text)::regclass, false) as sql`,
    [view.schema, view.name],
  );
  const query = def[0]!.sql.trim().replace(/;$/, '');
  await client.query('savepoint fg_view');
  try {
    const { rows } = await client.query<{ n: string }>(`select count(*)::bigint as n from (${query}) as _fg_view`);
    await client.query('release savepoint fg_view');
    return Number(rows[0]!.n);
  } catch {
    await client.query('rollback to savepoint fg_view');
    return undefined;
  }
}

/** Pure: the checks of a restored copy's shape against the backup's. */
export function compareShape(expected: DatabaseShape, actual: DatabaseShape): DetailCheck[] {
  const checks: DetailCheck[] = [];
  const have = new Set(actual.tables);
  const want = new Set(expected.tables);
  const extra = actual.tables.filter((t) => !want.has(t));
  const missing = expected.tables.filter((t) => !have.has(t));
  const list = (names: string[]): string =>
    names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
  checks.push({
    name: 'user tables',
    ok: extra.length === 0 && missing.length === 0,
    expected: `${expected.tables.length} tables`,
    actual:
      extra.length === 0 && missing.length === 0
        ? `${actual.tables.length} tables`
        : [extra.length > 0 ? `extra: ${list(extra)}` : '', missing.length > 0 ? `missing: ${list(missing)}` : '']
            .filter(Boolean)
            .join('; '),
  });

  const attached = new Map(actual.partitions.map((p) => [p.partition, p]));
  const describe = (p: { parent: string; bound: string }): string => `partition of ${p.parent} ${p.bound}`.trim();
  for (const p of expected.partitions) {
    const got = attached.get(p.partition);
    checks.push({
      name: `partition ${p.partition}`,
      ok: got !== undefined && got.parent === p.parent && got.bound === p.bound,
      expected: describe(p),
      actual: got ? describe(got) : have.has(p.partition) ? 'not attached (a plain table)' : 'missing',
    });
  }
  const expectedPartitions = new Set(expected.partitions.map((p) => p.partition));
  for (const p of actual.partitions) {
    if (!expectedPartitions.has(p.partition))
      checks.push({ name: `partition ${p.partition}`, ok: false, expected: 'not a partition', actual: describe(p) });
  }

  const sequences = new Map(actual.sequences.map((s) => [s.name, s]));
  for (const s of expected.sequences) {
    const got = sequences.get(s.name);
    const ok = got !== undefined && sequenceNotBehind(s, got.lastValue);
    checks.push({
      name: `sequence ${s.name}`,
      ok,
      expected: s.lastValue === null ? 'present' : `last value ${s.descending ? 'at most' : 'at least'} ${s.lastValue}`,
      actual:
        got === undefined ? 'missing' : got.lastValue === null ? 'never used (reset?)' : `last value ${got.lastValue}`,
    });
  }

  const views = new Map(actual.materializedViews.map((v) => [v.name, v]));
  for (const v of expected.materializedViews) {
    const got = views.get(v.name);
    const show = (rows: number | null): string => (rows === null ? 'not populated' : `${rows} rows`);
    checks.push({
      name: `materialized view ${v.name}`,
      ok: got !== undefined && got.rows === v.rows,
      expected: show(v.rows),
      actual: got === undefined ? 'missing' : show(got.rows),
    });
  }
  return checks;
}

function sequenceNotBehind(expected: { lastValue: string | null; descending?: true }, actual: string | null): boolean {
  if (expected.lastValue === null) return true;
  if (actual === null) return false;
  const [want, got] = [BigInt(expected.lastValue), BigInt(actual)];
  return expected.descending ? got <= want : got >= want;
}
