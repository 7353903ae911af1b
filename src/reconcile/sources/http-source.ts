// The http InvoiceSource (docs/ARCHITECTURE.md#upstream-api): `GET /buckets?from&to[&partition]` for day digests,
// `GET /invoices?day&cursor&limit` for a day's rows, which are validated like file rows and then
// split and listed in memory. A bucket without `hash` is always drilled into (exactness first).
import { OperationError } from '../../core/errors.js';
import { maskUrl } from '../../core/storage/mask-url.js';
import { type HttpOptions, getJson } from './http-client.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { MemorySource } from './memory-source.js';
import type {
  BucketRef,
  DetailField,
  Digest,
  InputProblem,
  Invoice,
  InvoiceSource,
  SourceInfo,
  SourceProblems,
  SplitLevel,
  Window,
} from '../model/types.js';
import { type RowContext, type RawRow, type RowField, validateRow } from './upstream-row.js';

export interface HttpSourceOptions extends RowContext, HttpOptions {
  /** base URL; /buckets and /invoices are relative to it */
  url: string;
  pageSize: number;
  limits?: InputLimits;
}

/** Key fields: a JSON number loses digits past 2^53 (a 20-digit 数电 number), so only strings are keys. */
const STRING_ONLY: ReadonlySet<string> = new Set(['code', 'number', 'digitalNumber', 'sellerTaxId', 'buyerTaxId']);

const ITEM_FIELDS: Record<string, RowField> = {
  code: 'code',
  number: 'number',
  digitalNumber: 'digitalNumber',
  issuedAt: 'issuedAt',
  sellerTaxId: 'sellerTaxId',
  buyerTaxId: 'buyerTaxId',
  amount: 'amount',
  tax: 'tax',
  total: 'total',
  status: 'status',
};

export class HttpSource implements InvoiceSource {
  readonly info: SourceInfo;
  private readonly days = new Map<string, Promise<MemorySource>>();
  private readonly errors: InputProblem[] = [];
  private readonly warnings: InputProblem[] = [];
  readonly invalidKeys = new Map<string, string>();
  /** none: the contract's hash covers key, total and status only, so other fields cannot be digested */
  readonly fields: readonly DetailField[] = [];
  requests = 0;

  private get limits(): InputLimits {
    return this.options.limits ?? DEFAULT_INPUT_LIMITS;
  }

  constructor(private readonly options: HttpSourceOptions) {
    this.info = { kind: 'http', location: maskUrl(options.url), hashes: true };
  }

  private endpoint(path: string, params: Record<string, string | number | undefined>): string {
    const url = new URL(path, this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  private async get(path: string, params: Record<string, string | number | undefined>): Promise<unknown> {
    this.requests += 1;
    return getJson(this.endpoint(path, params), { ...this.options, maxBodyBytes: this.limits.maxBodyBytes });
  }

  async windowDigests(window: Window, partition: boolean): Promise<{ days: Digest[] }> {
    const body = await this.get('buckets', {
      from: window.from,
      to: window.to,
      partition: partition ? this.options.partition : undefined,
    });
    if (!Array.isArray(body)) throw this.contractError('/buckets', 'an array');
    const days = body.map((b: unknown, i) => {
      const o = (b !== null && typeof b === 'object' ? b : {}) as Record<string, unknown>;
      const day = scalarText(o.day);
      const count = Number(scalarText(o.count) || NaN);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isSafeInteger(count) || !/^-?\d+$/.test(scalarText(o.totalFen)))
        throw this.contractError(`/buckets item ${i}`, '{day, count, totalFen, hash?}');
      if (o.hash !== undefined && o.hash !== null && !/^\d+$/.test(scalarText(o.hash)))
        throw this.contractError(`/buckets item ${i} hash`, 'a decimal string');
      if (o.hash === undefined || o.hash === null) this.info.hashes = false;
      const bucket: BucketRef = partition ? { day, partition: scalarText(o.partition) } : { day };
      return {
        bucket,
        count,
        sumFen: BigInt(scalarText(o.totalFen)),
        hash: o.hash === undefined || o.hash === null ? null : BigInt(scalarText(o.hash)),
      };
    });
    return { days: days.filter((d) => d.bucket.day >= window.from && d.bucket.day <= window.to) };
  }

  private contractError(what: string, expected: string): OperationError {
    return new OperationError(`upstream '${maskUrl(this.options.url)}' ${what} is not ${expected}`, {
      hint: 'the upstream must follow the contract in docs/ARCHITECTURE.md#upstream-api',
    });
  }

  /** A day's rows, fetched page by page once, validated, kept for the splits and listings. */
  private day(day: string): Promise<MemorySource> {
    let cached = this.days.get(day);
    if (!cached) {
      cached = this.fetchDay(day);
      this.days.set(day, cached);
    }
    return cached;
  }

  private async fetchDay(day: string): Promise<MemorySource> {
    const rows: Invoice[] = [];
    const { maxPages, maxRows } = this.limits;
    const seen = new Set<string>();
    let cursor: string | undefined;
    let index = 0;
    for (let page = 1; ; page++) {
      const body = (await this.get('invoices', { day, cursor, limit: this.options.pageSize })) as {
        items?: unknown;
        nextCursor?: unknown;
      };
      if (!body || typeof body !== 'object' || !Array.isArray(body.items))
        throw this.contractError('/invoices', '{items, nextCursor}');
      if (index + body.items.length > maxRows)
        throw this.limitError(`day ${day} has more than ${maxRows} rows (reconcile.limits.maxRows)`);
      for (const item of body.items) {
        const invoice = this.validate(item, `GET /invoices?day=${day} item ${index++}`, day);
        if (invoice) rows.push(invoice);
      }
      const next = body.nextCursor;
      if (next === undefined || next === null || next === '') break;
      if (typeof next !== 'string')
        throw this.contractError(`/invoices?day=${day} nextCursor (page ${page})`, 'a string');
      // a cursor seen before would page forever
      if (seen.has(next))
        throw this.contractError(
          `/invoices?day=${day} nextCursor (page ${page})`,
          `a new cursor: '${next.slice(0, 40)}' was already returned`,
        );
      if (page >= maxPages)
        throw this.limitError(`day ${day} needs more than ${maxPages} pages (reconcile.limits.maxPages)`);
      seen.add(next);
      cursor = next;
    }
    return new MemorySource(this.info, rows);
  }

  private limitError(what: string): OperationError {
    return new OperationError(`upstream '${maskUrl(this.options.url)}' ${what}`, {
      hint: 'check the upstream API (a cursor that never ends?); raise reconcile.limits if the volume is real',
    });
  }

  private validate(item: unknown, origin: string, day: string): Invoice | undefined {
    const o = (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {}) as Record<
      string,
      unknown
    >;
    const fields: RawRow['fields'] = {};
    const wrongType: string[] = [];
    for (const [name, field] of Object.entries(ITEM_FIELDS)) {
      const v = o[name];
      if (v === undefined || v === null) continue;
      if (typeof v === 'string') fields[field] = v.length > 4096 ? v.slice(0, 4096) : v;
      else if (typeof v === 'number' && !STRING_ONLY.has(name)) fields[field] = String(v);
      else
        wrongType.push(
          `${name} is a JSON ${Array.isArray(v) ? 'array' : typeof v}, not a string${typeof v === 'number' ? ' (digits past 2^53 are lost)' : ''}`,
        );
    }
    const raw = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v).slice(0, 80)]));
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      wrongType.push(
        `the item is a JSON ${item === null ? 'null' : Array.isArray(item) ? 'array' : typeof item}, not an object`,
      );
    if (wrongType.length > 0) {
      this.errors.push({ severity: 'error', origin, day, reason: wrongType.join('; '), raw });
      return undefined;
    }
    const result = validateRow({ origin, fields }, this.options);
    const base = { origin, ...(result.key ? { key: result.key } : {}), raw };
    if (result.errors.length > 0) {
      this.errors.push({ severity: 'error', reason: result.errors.join('; '), ...base });
      if (!result.invoice && result.key) this.invalidKeys.set(result.key, origin);
    }
    for (const w of result.warnings) this.warnings.push({ severity: 'warning', reason: w, ...base });
    return result.invoice;
  }

  async splitDigests(bucket: BucketRef, level: SplitLevel): Promise<Digest[]> {
    return (await this.day(bucket.day)).splitDigests(bucket, level);
  }

  async list(bucket: BucketRef): Promise<Invoice[]> {
    return (await this.day(bucket.day)).list(bucket);
  }

  /** The API has no key look-up; only days already fetched could answer, which would mislead. */
  async lookup(): Promise<undefined> {
    return undefined;
  }

  problems(): SourceProblems {
    return { errors: this.errors, warnings: this.warnings };
  }

  async close(): Promise<void> {
    this.days.clear();
  }
}

/** A JSON scalar as text; anything else (objects, arrays, null) is '' and fails the contract check, never String()'s TypeError. */
function scalarText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
}
