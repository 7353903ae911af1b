// The invoice fields compared besides key, day, total and status: 金额, 税额, 税率, the two tax IDs
// and the issue time to the second. Each has one canonical value, the same in JS and in SQL
// (pg-sql.ts), which goes into the row hash (digest.ts) when both sides read the field, so a
// bucket whose only change is a 金额/税额 split or a seller ID still differs and is listed. Pure.
import { DETAIL_FIELDS, type DetailField, type Invoice, MIXED_RATE } from './types.js';

export { DETAIL_FIELDS, type DetailField };

/** The fields both sides read, in DETAIL_FIELDS order: what a run compares. */
export function sharedFields(
  a: readonly DetailField[] | undefined,
  b: readonly DetailField[] | undefined,
): DetailField[] {
  return DETAIL_FIELDS.filter((f) => (a ?? []).includes(f) && (b ?? []).includes(f));
}

/** The issue instant to the second, `2026-11-20T02:15:00Z` (sources keep milliseconds or not). */
export function issueSecond(issuedAt: string): string {
  const t = Date.parse(issuedAt);
  return Number.isNaN(t) ? issuedAt : `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** The issue instant as whole seconds since 1970 (as SQL's floor(extract(epoch …)) gives it, cheaper than formatting). */
export function issueEpochSecond(issuedAt: string): string {
  const t = Date.parse(issuedAt);
  return Number.isNaN(t) ? issuedAt : String(Math.floor(t / 1000));
}

/** The canonical text of one field of a row ('' when the row has no value). */
export function fieldText(inv: Invoice, field: DetailField): string {
  switch (field) {
    case 'amount':
      return inv.amountFen === undefined ? '' : String(inv.amountFen);
    case 'tax':
      return inv.taxFen === undefined ? '' : String(inv.taxFen);
    case 'rate':
      return inv.rateBp === undefined ? '' : String(inv.rateBp);
    case 'sellerTaxId':
      return inv.sellerTaxId ?? '';
    case 'buyerTaxId':
      return inv.buyerTaxId ?? '';
    case 'issueTime':
      return issueEpochSecond(inv.issuedAt);
  }
}

/** `|v1|v2…`: appended to `key|totalFen|status` in the row hash; '' when no field is compared. */
export function fieldsText(inv: Invoice, fields: readonly DetailField[]): string {
  let out = '';
  for (const f of fields) out += `|${fieldText(inv, f)}`;
  return out;
}

/** The compared fields whose values differ between two rows of one key. */
export function differingFields(a: Invoice, b: Invoice, fields: readonly DetailField[]): DetailField[] {
  return fields.filter((f) => fieldText(a, f) !== fieldText(b, f));
}

/** Which detail fields a set of rows carries: those every row has a value for (the issue time always). */
export function fieldsOfRows(rows: Iterable<Invoice>): DetailField[] {
  const seen = new Set<DetailField>(DETAIL_FIELDS);
  for (const r of rows) {
    if (r.amountFen === undefined) seen.delete('amount');
    if (r.taxFen === undefined) seen.delete('tax');
    if (r.rateBp === undefined) seen.delete('rate');
    if (r.sellerTaxId === undefined) seen.delete('sellerTaxId');
    if (r.buyerTaxId === undefined) seen.delete('buyerTaxId');
  }
  return DETAIL_FIELDS.filter((f) => seen.has(f));
}

/**
 * 税率 text or number → basis points: `13%` → 1300; a number under 0.2 is a fraction (0.13), one
 * from 0.2 on a percentage (13, 1.5, 0.5): no rate is 20 % or more, none is under 0.2 %.
 * 免税/不征税 → 0. Undefined when it is not a rate (`***`, blank).
 */
export function parseRateBp(text: string): number | undefined {
  const t = text.trim().replace(/％/g, '%');
  if (/^(免税|不征税|免征)/.test(t)) return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  const percent = m[2] === '%' || n >= 0.2;
  return Math.round(percent ? n * 100 : n * 10000);
}

/** Basis points → `13%`, `1.5%`, `mixed` (lines at different rates). */
export function formatRate(bp: number | undefined): string | undefined {
  if (bp === undefined) return undefined;
  if (bp === MIXED_RATE) return 'mixed';
  return `${bp / 100}%`;
}
