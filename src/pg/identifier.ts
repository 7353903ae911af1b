// Table and column names as PostgreSQL tools print them (`\dt`, `\d`, pg_dump): `schema.table`,
// either part "double-quoted" (with "" for a quote inside), non-ASCII, with spaces. Unquoted parts
// are taken exactly as written, as `\dt` prints them (no case folding: `billing.TaxRate` is the
// table TaxRate). Pure: text in, parts out, and the same parts quoted for SQL.

export interface TableName {
  /** absent when the text names no schema (the search_path decides) */
  schema?: string;
  name: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** PostgreSQL keeps NAMEDATALEN - 1 = 63 bytes of a name and silently truncates the rest. */
const MAX_BYTES = 63;

/** Split on dots outside double quotes; each part unquoted ("" → "). */
function splitParts(text: string): Parsed<string[]> {
  const parts: string[] = [];
  let i = 0;
  const t = text.trim();
  if (t === '') return { ok: false, error: 'is empty' };
  for (;;) {
    while (t[i] === ' ') i++;
    let part = '';
    if (t[i] === '"') {
      i++;
      for (;;) {
        if (i >= t.length) return { ok: false, error: 'has an unterminated double quote' };
        if (t[i] === '"') {
          if (t[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += t[i++];
      }
      while (t[i] === ' ') i++;
      if (i < t.length && t[i] !== '.') return { ok: false, error: `has text after a closing quote at position ${i + 1}` };
    } else {
      const start = i;
      while (i < t.length && t[i] !== '.') {
        if (t[i] === '"') return { ok: false, error: `has a double quote inside an unquoted name at position ${i + 1} (quote the whole name: "a""b")` };
        i++;
      }
      part = t.slice(start, i).trim();
    }
    if (part === '') return { ok: false, error: 'has an empty name part' };
    if (Buffer.byteLength(part) > MAX_BYTES) return { ok: false, error: `'${part}' is longer than PostgreSQL's 63 bytes` };
    if (/[\x00-\x1f]/.test(part)) return { ok: false, error: 'contains a control character' };
    parts.push(part);
    if (i >= t.length) return { ok: true, value: parts };
    i++; // the dot
  }
}

/** `table`, `schema.table`, `"财务"."发票 主表"`, `billing."TaxRate"`. */
export function parseTableName(text: string): Parsed<TableName> {
  const p = splitParts(text);
  if (!p.ok) return p;
  if (p.value.length > 2) return { ok: false, error: 'has more than two dotted parts (write schema.table; quote a name that contains a dot)' };
  const [a, b] = p.value as [string, string | undefined];
  return { ok: true, value: b === undefined ? { name: a } : { schema: a, name: b } };
}

/** A column: one name, quoted or not. */
export function parseColumnName(text: string): Parsed<string> {
  const p = splitParts(text);
  if (!p.ok) return p;
  if (p.value.length !== 1) return { ok: false, error: 'is not one column name (quote a name that contains a dot)' };
  return { ok: true, value: p.value[0]! };
}

/** An identifier quoted for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"` (or `"table"`), for SQL. */
export function quoteTableName(t: TableName): string {
  return t.schema === undefined ? quoteIdentifier(t.name) : `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.name)}`;
}

/** As psql would show it, quoting a part only where needed to read it back: for messages. */
export function displayTableName(t: TableName): string {
  const show = (n: string): string => (/^[^".\s]+$/.test(n) ? n : quoteIdentifier(n));
  return t.schema === undefined ? show(t.name) : `${show(t.schema)}.${show(t.name)}`;
}
