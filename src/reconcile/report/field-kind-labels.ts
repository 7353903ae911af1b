// Labels of the finding kinds that compare every field, pair red-letter invoices and tell repeated
// export lines apart (issue 12, item 2), in English and Chinese, in one place for the message
// catalogue to take over. Evidence keys these kinds use, for a generic renderer: `fields` (what
// differs), `upstream<Field>`/`local<Field>`, amounts in fen (`…Fen`), rates as text (`13%`).
import type { FindingKind } from '../model/types.js';

type NewKind = Extract<
  FindingKind,
  'tax_mismatch' | 'party_mismatch' | 'time_mismatch' | 'duplicate_line' | 'red_letter' | 'red_letter_unpaired'
>;

export const FIELD_KIND_LABELS: Record<NewKind, { en: string; zh: string }> = {
  tax_mismatch: { en: 'amount, tax or rate differs (金额/税额/税率)', zh: '金额、税额或税率不一致' },
  party_mismatch: { en: 'seller or buyer tax ID differs', zh: '销方或购方识别号不一致' },
  time_mismatch: { en: 'issue time differs (same day)', zh: '开票时间不一致（同日）' },
  duplicate_line: { en: 'identical line repeated in the export', zh: '导出文件中明细行重复' },
  red_letter: { en: 'red-letter invoice paired with the invoice it offsets', zh: '红字发票已匹配对应蓝字发票' },
  red_letter_unpaired: { en: 'red-letter invoice without the invoice it offsets', zh: '红字发票未找到对应蓝字发票' },
};

/** Names of the compared fields as the evidence's `fields` lists them. */
export const DETAIL_FIELD_LABELS: Record<string, { en: string; zh: string }> = {
  amount: { en: 'amount without tax', zh: '金额' },
  tax: { en: 'tax', zh: '税额' },
  rate: { en: 'tax rate', zh: '税率' },
  sellerTaxId: { en: 'seller tax ID', zh: '销方识别号' },
  buyerTaxId: { en: 'buyer tax ID', zh: '购方识别号' },
  issueTime: { en: 'issue time', zh: '开票时间' },
};
