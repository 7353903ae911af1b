// The columns a table or query really has, with their types as the catalog names them (domains
// resolved to their base type, enum labels listed): the input of column-check.ts.
import type pg from 'pg';
import type { CatalogColumn } from './column-check.js';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.Client, 'query'>;

/** `from` is a FROM item aliased `src` (a quoted table or a parenthesised query). */
export async function readColumnCatalog(db: Queryable, from: string): Promise<CatalogColumn[]> {
  const shape = await db.query(`select * from ${from} limit 0`);
  const fields = shape.fields;
  const res = await db.query<{ name: string; type: string; base: string; labels: string[] | null; mod: number }>(
    `select f.name, format_type(f.oid, f.mod) as type, coalesce(b.typname, t.typname)::text as base, f.mod,
       case when coalesce(b.typtype, t.typtype) = 'e'
         then array(select e.enumlabel::text from pg_enum e where e.enumtypid = coalesce(b.oid, t.oid) order by e.enumsortorder) end as labels
     from unnest($1::text[], $2::oid[], $3::int[]) with ordinality as f(name, oid, mod, ord)
     join pg_type t on t.oid = f.oid left join pg_type b on t.typtype = 'd' and b.oid = t.typbasetype
     order by f.ord`,
    [fields.map((f) => f.name), fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  );
  return res.rows.map((r) => ({
    name: r.name,
    type: r.type,
    base: r.base,
    ...(r.labels ? { enumLabels: r.labels } : {}),
    // numeric's type modifier is ((precision << 16) | scale) + 4, or -1 when unconstrained
    ...(r.base === 'numeric' && r.mod >= 4 ? { scale: (r.mod - 4) & 0xffff } : {}),
  }));
}
