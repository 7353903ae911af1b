// Table names as people copy them from psql (`\dt`, `\d`): `invoices`, `billing.invoices`,
// `billing."TaxRate"`, `public."发票 附件"`. Parsed the way PostgreSQL reads an identifier:
// a quoted part is taken as is ("" stands for one "), an unquoted part is folded to lower case
// (ASCII letters only, as the server does in UTF-8). Pure; the database resolves the result.

/** A parsed table name; without `schema`, the table is looked up on the search_path. */
export interface QualifiedName {
  schema?: string;
  name: string;
}

export type ParsedName = { ok: true; value: QualifiedName } | { ok: false; reason: string };

/** PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes. */
const MAX_IDENTIFIER_BYTES = 63;

/** Letters (any script), digits, `_` and `$`: what an unquoted identifier may hold. */
const UNQUOTED_START = /[\p{L}_]/u;
const UNQUOTED_REST = /[\p{L}\p{N}_$]/u;

export function parseQualifiedName(text: string): ParsedName {
  const p = parseParts(text);
  return p.ok ? p : { ok: false, reason: `'${text}': ${p.reason}` };
}

/** The parser behind both APIs: reasons without the text, for callers that name it themselves. */
function parseParts(text: string): ParsedName {
  const parts: string[] = [];
  let i = 0;
  const fail = (reason: string): ParsedName => ({ ok: false, reason });
  const s = text.trim();
  if (s === '') return fail('empty name');
  for (;;) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return fail('unterminated quoted identifier (a closing " is missing)');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i];
        i++;
      }
      if (part === '') return fail('zero-length quoted identifier ""');
    } else {
      const start = i;
      while (i < s.length && s[i] !== '.' && s[i] !== '"') {
        const ch = String.fromCodePoint(s.codePointAt(i)!);
        const allowed = i === start ? UNQUOTED_START.test(ch) : UNQUOTED_REST.test(ch);
        if (!allowed) {
          return fail(
            /\s/.test(ch)
              ? 'a name with a space must be quoted, e.g. public."发票 附件"'
              : `'${ch}' cannot appear in an unquoted name; quote the name as psql shows it, e.g. schema."Name"`,
          );
        }
        i += ch.length;
      }
      if (i === start) return fail(s[i] === '"' ? 'a quote inside a name' : 'empty name part');
      // PostgreSQL folds unquoted identifiers to lower case (ASCII letters in multibyte encodings)
      part = s.slice(start, i).replace(/[A-Z]+/g, (m) => m.toLowerCase());
    }
    if (Buffer.byteLength(part, 'utf8') > MAX_IDENTIFIER_BYTES)
      return fail(`'${part}' is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes`);
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') return fail(`unexpected '${s[i]}' after ${parts.length === 1 ? 'the name' : 'a part'}`);
    i++;
    if (i >= s.length) return fail('nothing after the dot');
  }
  if (parts.length > 2) {
    return fail(
      parts.length === 3
        ? 'a database name cannot be given here (write schema.table)'
        : 'too many dots (write schema.table)',
    );
  }
  return { ok: true, value: parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! } };
}

/** An identifier as PostgreSQL's quote_ident writes it: quoted only when it must be. */
export function displayIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name` the way psql users write it, unambiguous (quotes where needed). */
export function displayName(table: QualifiedName): string {
  return table.schema === undefined
    ? displayIdent(table.name)
    : `${displayIdent(table.schema)}.${displayIdent(table.name)}`;
}

/** Always quoted: for SQL text built by this tool. */
export function sqlName(table: { schema: string; name: string }): string {
  return `${quote(table.schema)}.${quote(table.name)}`;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Reserved key words that cannot be table names unquoted (PostgreSQL's reserved list, the common part). */
const RESERVED = new Set(
  'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references returning select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with'.split(
    ' ',
  ),
);

// The API reconcile uses (src/reconcile/reconcile-config.ts, pg-sql.ts): the same parser and the
// same folding, so a name means one table everywhere in the configuration.

export type TableName = QualifiedName;
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** `table`, `schema.table`, `"财务"."发票 主表"`, `billing."TaxRate"`. */
export function parseTableName(text: string): Parsed<TableName> {
  const p = parseParts(text);
  return p.ok ? p : { ok: false, error: p.reason };
}

/** A column: one name, quoted or not. */
export function parseColumnName(text: string): Parsed<string> {
  const p = parseParts(text);
  if (!p.ok) return { ok: false, error: p.reason };
  if (p.value.schema !== undefined)
    return { ok: false, error: 'is not one column name (quote a name that contains a dot)' };
  return { ok: true, value: p.value.name };
}

/** An identifier quoted for SQL. */
export const quoteIdentifier = quote;

/** `"schema"."table"` (or `"table"`), for SQL. */
export function quoteTableName(t: TableName): string {
  return t.schema === undefined ? quote(t.name) : `${quote(t.schema)}.${quote(t.name)}`;
}

/** As psql would show it: for messages. */
export const displayTableName = displayName;
