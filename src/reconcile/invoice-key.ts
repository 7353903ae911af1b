// The canonical invoice key (INVOICES.md): the 20-digit 数电 number alone, else `code-number`.
// JS and SQL versions side by side so both sides of a comparison build the same string.

/** PostgreSQL's btrim(): spaces only, so both sides trim the same characters. */
export function btrim(text: string | null | undefined): string {
  return (text ?? '').replace(/^ +| +$/g, '');
}

export function canonicalKey(code: string | null | undefined, number: string | null | undefined): string {
  const n = btrim(number);
  if (/^[0-9]{20}$/.test(n)) return n;
  return `${btrim(code)}-${n}`;
}

/** SQL for canonicalKey over two text expressions (code may be null). */
export function sqlCanonicalKey(codeExpr: string, numberExpr: string): string {
  const n = `btrim((${numberExpr})::text)`;
  return `(case when ${n} ~ '^[0-9]{20}$' then ${n} else coalesce(btrim((${codeExpr})::text), '') || '-' || coalesce(${n}, '') end)`;
}

/** `0310…-00001234` → its parts, for typo comparison and display. */
export function splitKey(key: string): { code: string; number: string } {
  const dash = key.lastIndexOf('-');
  return dash === -1 ? { code: '', number: key } : { code: key.slice(0, dash), number: key.slice(dash + 1) };
}
