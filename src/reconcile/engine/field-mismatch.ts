// One key on both sides: which compared values differ, as findings. The total is amount_mismatch;
// 金额/税额/税率 are tax_mismatch when the totals agree (the split changed) or the rate differs (a
// changed total moves 金额 and 税额 with it, so those stay in the amount_mismatch evidence); the tax
// IDs are party_mismatch; the issue time within the same day is time_mismatch. Evidence names are
// regular for a generic renderer: `upstream<Field>`/`local<Field>`, amounts in fen (`…Fen`), `fields`
// lists what differs. Pure.
import { differingFields, formatRate, issueSecond } from '../model/detail-fields.js';
import type { DetailField, FindingKind, Invoice } from '../model/types.js';

export interface DetailFinding {
  kind: FindingKind;
  evidence: Record<string, unknown>;
}

const TAX_FIELDS: readonly DetailField[] = ['amount', 'tax', 'rate'];
const PARTY_FIELDS: readonly DetailField[] = ['sellerTaxId', 'buyerTaxId'];

/** Both sides' 金额, 税额 and 税率 where read, under regular names. */
function splitEvidence(u: Invoice, lo: Invoice, fields: readonly DetailField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields.includes('amount'))
    Object.assign(out, { upstreamAmountFen: u.amountFen ?? null, localAmountFen: lo.amountFen ?? null });
  if (fields.includes('tax')) Object.assign(out, { upstreamTaxFen: u.taxFen ?? null, localTaxFen: lo.taxFen ?? null });
  if (fields.includes('rate'))
    Object.assign(out, { upstreamRate: formatRate(u.rateBp) ?? null, localRate: formatRate(lo.rateBp) ?? null });
  return out;
}

export function detailFindings(u: Invoice, lo: Invoice, fields: readonly DetailField[]): DetailFinding[] {
  const out: DetailFinding[] = [];
  const differing = differingFields(u, lo, fields);
  const totals = { upstreamFen: u.totalFen, localFen: lo.totalFen, differenceFen: lo.totalFen - u.totalFen };
  const taxDiffers = differing.filter((f) => TAX_FIELDS.includes(f));
  if (u.totalFen !== lo.totalFen) {
    const split = taxDiffers.length > 0 ? { fields: taxDiffers, ...splitEvidence(u, lo, fields) } : {};
    out.push({ kind: 'amount_mismatch', evidence: { ...totals, ...split } });
  }
  if (taxDiffers.length > 0 && (u.totalFen === lo.totalFen || taxDiffers.includes('rate'))) {
    out.push({
      kind: 'tax_mismatch',
      evidence: {
        fields: taxDiffers,
        ...splitEvidence(u, lo, fields),
        ...totals,
        totalsAgree: u.totalFen === lo.totalFen,
      },
    });
  }
  const partyDiffers = differing.filter((f) => PARTY_FIELDS.includes(f));
  if (partyDiffers.length > 0) {
    const ev: Record<string, unknown> = { fields: partyDiffers };
    if (fields.includes('sellerTaxId'))
      Object.assign(ev, { upstreamSellerTaxId: u.sellerTaxId ?? null, localSellerTaxId: lo.sellerTaxId ?? null });
    if (fields.includes('buyerTaxId'))
      Object.assign(ev, { upstreamBuyerTaxId: u.buyerTaxId ?? null, localBuyerTaxId: lo.buyerTaxId ?? null });
    out.push({ kind: 'party_mismatch', evidence: ev });
  }
  // another day is a date_mismatch already
  if (differing.includes('issueTime') && u.day === lo.day) {
    const seconds = Math.round((Date.parse(lo.issuedAt) - Date.parse(u.issuedAt)) / 1000);
    out.push({
      kind: 'time_mismatch',
      evidence: {
        fields: ['issueTime'],
        upstreamIssuedAt: issueSecond(u.issuedAt),
        localIssuedAt: issueSecond(lo.issuedAt),
        differenceSeconds: seconds,
      },
    });
  }
  return out;
}
