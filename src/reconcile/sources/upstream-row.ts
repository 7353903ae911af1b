// One upstream row (file line or API item) → a validated Invoice, or the reasons it cannot be
// reconciled. Field problems that do not stop reconciliation (tax IDs) are reported, not fatal.
import { parseRateBp } from '../model/detail-fields.js';
import { canonicalKey } from '../model/invoice-key.js';
import { parseIssueTime } from '../model/issue-time.js';
import { parseStatus } from '../model/invoice-status.js';
import type { Invoice } from '../model/types.js';
import {
  type Check,
  checkCode,
  checkDigitalYear,
  checkNumber,
  checkTaxId,
  parseAmountFen,
} from '../model/validators.js';

export const ROW_FIELDS = [
  'code',
  'number',
  'digitalNumber',
  'issuedAt',
  'sellerTaxId',
  'buyerTaxId',
  'amount',
  'tax',
  'rate',
  'total',
  'status',
  'itemName',
  'seq',
  'originalCode',
  'originalNumber',
  'remarks',
] as const;
export type RowField = (typeof ROW_FIELDS)[number];

export interface RawRow {
  /** `exports/a.xlsx:17` */
  origin: string;
  fields: Partial<Record<RowField, string>>;
  /** fields that came from numeric xlsx cells (float noise and Excel damage are judged differently) */
  numeric?: ReadonlySet<RowField>;
}

export interface RowContext {
  timezone: string;
  now: Date;
  statusMap?: Readonly<Record<string, string>>;
  /** which field partitions buckets, e.g. sellerTaxId */
  partition?: 'sellerTaxId' | 'buyerTaxId';
}

export interface RowResult {
  /** absent when the row cannot be reconciled (a fatal error) */
  invoice?: Invoice;
  /** the key when one could be read, for evidence */
  key?: string;
  errors: string[];
  warnings: string[];
}

export function validateRow(row: RawRow, ctx: RowContext): RowResult {
  const f = row.fields;
  const fatal: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const take = (c: Check, into: string[]): boolean => {
    if (!c.ok) into.push(c.error);
    else if (c.warning) warnings.push(c.warning);
    return c.ok;
  };
  const numeric = (name: RowField): boolean => row.numeric?.has(name) ?? false;

  const digital = (f.digitalNumber ?? '').trim();
  const code = (f.code ?? '').trim();
  const number = digital !== '' ? digital : (f.number ?? '').trim();
  const keyCode = digital !== '' ? '' : code;
  let keyOk = take(checkCode(keyCode), fatal) && take(checkNumber(number, keyCode), fatal);
  // A 20-digit number in a numeric cell has lost digits even when it does not look like it.
  if (keyOk && number.length > 15 && numeric(digital !== '' ? 'digitalNumber' : 'number')) {
    fatal.push(
      `number '${number}' was stored as a number by Excel, which keeps only 15 significant digits (re-export it as text)`,
    );
    keyOk = false;
  }
  const key = keyOk ? canonicalKey(keyCode, number) : undefined;

  const time = parseIssueTime(f.issuedAt ?? '', ctx.timezone, ctx.now, { numericCell: numeric('issuedAt') });
  if (!time.ok) fatal.push(time.error);
  else if (keyOk) take(checkDigitalYear(number, time.year), warnings);

  const amountOf = (name: 'amount' | 'tax' | 'total', label: string): number | undefined => {
    const text = f[name];
    if (text === undefined || text.trim() === '') return undefined;
    const r = parseAmountFen(text, label, { numericCell: numeric(name) });
    if (!r.ok) {
      fatal.push(r.error);
      return undefined;
    }
    return r.fen;
  };
  const amountFen = amountOf('amount', 'amount');
  const taxFen = amountOf('tax', 'tax');
  let totalFen = amountOf('total', 'total');
  if (totalFen === undefined && amountFen !== undefined && taxFen !== undefined) totalFen = amountFen + taxFen;
  if (totalFen === undefined && !fatal.some((e) => e.startsWith('total'))) fatal.push('total (价税合计) is missing');
  if (totalFen !== undefined && amountFen !== undefined && taxFen !== undefined && amountFen + taxFen !== totalFen) {
    warnings.push(`amount + tax (${amountFen + taxFen} fen) differs from the total (${totalFen} fen)`);
  }

  const rateText = (f.rate ?? '').trim();
  const rateBp = rateText === '' ? undefined : parseRateBp(rateText);
  if (rateText !== '' && rateBp === undefined && rateText !== '***')
    warnings.push(`tax rate '${rateText}' is not a rate like 13%`);
  const originalKey = originalOf(f);

  const statusText = (f.status ?? '').trim();
  const status = statusText === '' ? 'valid' : parseStatus(statusText, ctx.statusMap);
  if (status === undefined) fatal.push(`status '${statusText}' is not known (map it in reconcile.upstream.statusMap)`);

  const seller = (f.sellerTaxId ?? '').trim();
  const buyer = (f.buyerTaxId ?? '').trim();
  if (seller === '') errors.push('seller tax ID is empty');
  else take(checkTaxId(seller, 'seller tax ID'), errors);
  if (buyer !== '') take(checkTaxId(buyer, 'buyer tax ID'), errors);

  if (fatal.length > 0 || !time.ok || key === undefined || totalFen === undefined || status === undefined) {
    return { ...(key !== undefined ? { key } : {}), errors: [...fatal, ...errors], warnings };
  }
  const invoice: Invoice = {
    key,
    number,
    day: time.day,
    hour: time.hour,
    issuedAt: time.issuedAt,
    totalFen,
    status,
    origin: row.origin,
    ...(keyCode !== '' ? { code: keyCode } : {}),
    ...(amountFen !== undefined ? { amountFen } : {}),
    ...(taxFen !== undefined ? { taxFen } : {}),
    ...(rateBp !== undefined ? { rateBp } : {}),
    ...(originalKey !== undefined ? { originalKey } : {}),
    ...(seller !== '' ? { sellerTaxId: seller } : {}),
    ...(buyer !== '' ? { buyerTaxId: buyer } : {}),
  };
  if (ctx.partition) invoice.partition = (ctx.partition === 'sellerTaxId' ? seller : buyer) || '';
  return { invoice, key, errors, warnings };
}

/**
 * The blue invoice a red-letter row offsets: a 原发票号码-like column (with 原发票代码 for a
 * code + number invoice), else the platform's remark `被红冲蓝字数电发票号码：<20 digits>`.
 */
function originalOf(f: RawRow['fields']): string | undefined {
  const number = (f.originalNumber ?? '').trim();
  const code = (f.originalCode ?? '').trim();
  if (/^\d{20}$/.test(number)) return number;
  if (/^\d{8}$/.test(number) && /^\d{10,12}$/.test(code)) return canonicalKey(code, number);
  const m = /蓝字(?:数电)?发票号码\s*[:：]\s*(\d{20})/.exec(f.remarks ?? '');
  if (m) return m[1]!;
  const paper = /蓝字发票代码\s*[:：]\s*(\d{10,12})\D+号码\s*[:：]\s*(\d{8})/.exec(f.remarks ?? '');
  return paper ? canonicalKey(paper[1]!, paper[2]!) : undefined;
}
