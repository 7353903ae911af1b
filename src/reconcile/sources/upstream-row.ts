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
  const v = new RowValidation(row);
  const { key, keyCode, number } = v.key();
  const time = v.issueTime(ctx, key !== undefined ? number : undefined);
  const { amountFen, taxFen, totalFen } = v.amounts();
  const rateBp = v.rate();
  const originalKey = originalOf(row.fields);
  const status = v.status(ctx);
  const { seller, buyer } = v.taxIds();
  const { fatal, errors, warnings } = v;
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
 * One row's fields read in a fixed order (key, issue time, amounts, rate, status, tax IDs), each
 * problem collected as it is found: `fatal` (no invoice can be made), `errors`, `warnings`.
 */
class RowValidation {
  readonly fatal: string[] = [];
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly #f: RawRow['fields'];

  constructor(private readonly row: RawRow) {
    this.#f = row.fields;
  }

  /** The invoice key: a digital number, or code + number; `key` is undefined when it is unreadable. */
  key(): { key: string | undefined; keyCode: string; number: string } {
    const f = this.#f;
    const digital = (f.digitalNumber ?? '').trim();
    const code = (f.code ?? '').trim();
    const number = digital !== '' ? digital : (f.number ?? '').trim();
    const keyCode = digital !== '' ? '' : code;
    let keyOk = this.#take(checkCode(keyCode), this.fatal) && this.#take(checkNumber(number, keyCode), this.fatal);
    // A 20-digit number in a numeric cell has lost digits even when it does not look like it.
    if (keyOk && number.length > 15 && this.#numeric(digital !== '' ? 'digitalNumber' : 'number')) {
      this.fatal.push(
        `number '${number}' was stored as a number by Excel, which keeps only 15 significant digits (re-export it as text)`,
      );
      keyOk = false;
    }
    return { key: keyOk ? canonicalKey(keyCode, number) : undefined, keyCode, number };
  }

  /** The issue time; with a readable key (`number`), whether a digital number's year fits it. */
  issueTime(ctx: RowContext, number: string | undefined): ReturnType<typeof parseIssueTime> {
    const time = parseIssueTime(this.#f.issuedAt ?? '', ctx.timezone, ctx.now, {
      numericCell: this.#numeric('issuedAt'),
    });
    if (!time.ok) this.fatal.push(time.error);
    else if (number !== undefined) this.#take(checkDigitalYear(number, time.year), this.warnings);
    return time;
  }

  /** Amount, tax and total in fen; a missing total is amount + tax, else fatal. */
  amounts(): { amountFen: number | undefined; taxFen: number | undefined; totalFen: number | undefined } {
    const amountFen = this.#amountOf('amount', 'amount');
    const taxFen = this.#amountOf('tax', 'tax');
    let totalFen = this.#amountOf('total', 'total');
    if (totalFen === undefined && amountFen !== undefined && taxFen !== undefined) totalFen = amountFen + taxFen;
    if (totalFen === undefined && !this.fatal.some((e) => e.startsWith('total')))
      this.fatal.push('total (价税合计) is missing');
    if (totalFen !== undefined && amountFen !== undefined && taxFen !== undefined && amountFen + taxFen !== totalFen) {
      this.warnings.push(`amount + tax (${amountFen + taxFen} fen) differs from the total (${totalFen} fen)`);
    }
    return { amountFen, taxFen, totalFen };
  }

  rate(): number | undefined {
    const rateText = (this.#f.rate ?? '').trim();
    const rateBp = rateText === '' ? undefined : parseRateBp(rateText);
    if (rateText !== '' && rateBp === undefined && rateText !== '***')
      this.warnings.push(`tax rate '${rateText}' is not a rate like 13%`);
    return rateBp;
  }

  status(ctx: RowContext): ReturnType<typeof parseStatus> {
    const statusText = (this.#f.status ?? '').trim();
    const status = statusText === '' ? 'valid' : parseStatus(statusText, ctx.statusMap);
    if (status === undefined)
      this.fatal.push(`status '${statusText}' is not known (map it in reconcile.upstream.statusMap)`);
    return status;
  }

  taxIds(): { seller: string; buyer: string } {
    const seller = (this.#f.sellerTaxId ?? '').trim();
    const buyer = (this.#f.buyerTaxId ?? '').trim();
    if (seller === '') this.errors.push('seller tax ID is empty');
    else this.#take(checkTaxId(seller, 'seller tax ID'), this.errors);
    if (buyer !== '') this.#take(checkTaxId(buyer, 'buyer tax ID'), this.errors);
    return { seller, buyer };
  }

  #take(c: Check, into: string[]): boolean {
    if (!c.ok) into.push(c.error);
    else if (c.warning) this.warnings.push(c.warning);
    return c.ok;
  }

  #numeric(name: RowField): boolean {
    return this.row.numeric?.has(name) ?? false;
  }

  #amountOf(name: 'amount' | 'tax' | 'total', label: string): number | undefined {
    const text = this.#f[name];
    if (text === undefined || text.trim() === '') return undefined;
    const r = parseAmountFen(text, label, { numericCell: this.#numeric(name) });
    if (!r.ok) {
      this.fatal.push(r.error);
      return undefined;
    }
    return r.fen;
  }
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
