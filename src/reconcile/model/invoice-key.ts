// The canonical invoice key (docs/INVOICES.md): the 20-digit 数电 number alone, else `code-number`.
// JS and SQL versions side by side so both sides of a comparison build the same string.

/** PostgreSQL's btrim(): spaces only, so both sides trim the same characters. */
export function btrim(text: string | null | undefined): string {
  return (text ?? '').replace(/^ +| +$/g, '');
}

/**
 * No code: the number alone (a 数电 invoice's 20 digits); else `code-number`. Deciding on the code
 * rather than testing the number for 20 digits gives the same key for every valid invoice and
 * keeps a regular expression out of the per-row SQL (the digest scan touches every row).
 */
export function canonicalKey(code: string | null | undefined, number: string | null | undefined): string {
  const c = btrim(code);
  const n = btrim(number);
  return c === '' ? n : `${c}-${n}`;
}

/** SQL for canonicalKey over two text expressions (code may be null). */
export function sqlCanonicalKey(codeExpr: string, numberExpr: string): string {
  const c = `coalesce(btrim((${codeExpr})::text), '')`;
  const n = `coalesce(btrim((${numberExpr})::text), '')`;
  return `(case when ${c} = '' then ${n} else ${c} || '-' || ${n} end)`;
}

/** `0310…-00001234` → its parts, for typo comparison and display. */
export function splitKey(key: string): { code: string; number: string } {
  const dash = key.lastIndexOf('-');
  return dash === -1 ? { code: '', number: key } : { code: key.slice(0, dash), number: key.slice(dash + 1) };
}
