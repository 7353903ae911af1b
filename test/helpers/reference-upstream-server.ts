// A small reference implementation of the upstream API contract (docs/ARCHITECTURE.md#upstream-api), for the tests,
// the demo and anyone writing an upstream: bearer token, cursor paging, Retry-After on faults.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { digestRows } from '../../src/reconcile/model/bucket-digest.js';
import type { Invoice } from '../../src/reconcile/model/types.js';
import { validateRow } from '../../src/reconcile/sources/upstream-row.js';

/** One invoice as the API sends it: amounts as yuan strings, issuedAt with an offset. */
export interface UpstreamItem {
  code?: string | null;
  number: string;
  issuedAt: string;
  amount?: string;
  tax?: string;
  total: string;
  status: string;
  sellerTaxId?: string | null;
  buyerTaxId?: string | null;
}

export interface ReferenceUpstreamOptions {
  items: UpstreamItem[];
  timezone: string;
  token?: string;
  /** page size when the client asks for none or more */
  maxPage?: number;
  /** partition field offered by /buckets?partition= */
  partition?: 'sellerTaxId' | 'buyerTaxId';
  faults?: {
    /** answer the first N requests with `status` (default 503) and Retry-After */
    failFirst?: number;
    status?: number;
    retryAfterSeconds?: number;
    /** hold every answer this long (timeouts) */
    delayMs?: number;
    /** leave `hash` out of /buckets */
    noHash?: boolean;
  };
}

export interface ReferenceUpstream {
  url: string;
  /** requests served so far, faults included */
  requests: () => number;
  close(): Promise<void>;
}

export async function startReferenceUpstream(options: ReferenceUpstreamOptions): Promise<ReferenceUpstream> {
  const now = new Date(8_640_000_000_000_000);
  const ctx = { timezone: options.timezone, now, ...(options.partition ? { partition: options.partition } : {}) };
  const valid: Invoice[] = [];
  const byDay = new Map<string, UpstreamItem[]>();
  for (const item of options.items) {
    const fields = Object.fromEntries(
      Object.entries(item)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const r = validateRow({ origin: 'item', fields }, ctx);
    // Invalid items are still served (the client must report them); their day is taken as written.
    const day = r.invoice?.day ?? String(item.issuedAt).slice(0, 10);
    if (r.invoice) valid.push(r.invoice);
    byDay.set(day, [...(byDay.get(day) ?? []), item]);
  }
  let served = 0;
  const server: Server = createServer((req, res) => {
    served += 1;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const out = (): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (options.faults?.delayMs) setTimeout(out, options.faults.delayMs);
      else out();
    };
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`)
      return send(401, { error: 'unauthorized' });
    if (options.faults?.failFirst && served <= options.faults.failFirst) {
      return send(
        options.faults.status ?? 503,
        { error: 'busy' },
        { 'retry-after': String(options.faults.retryAfterSeconds ?? 0) },
      );
    }
    const url = new URL(req.url ?? '/', 'http://upstream');
    const q = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
    if (url.pathname === '/buckets') {
      const from = q('from') ?? '0000-00-00';
      const to = q('to') ?? '9999-99-99';
      const partition = q('partition');
      const rows = valid.filter((r) => r.day >= from && r.day <= to);
      const digests = digestRows(rows, (r) =>
        partition ? { day: r.day, partition: r.partition ?? '' } : { day: r.day },
      );
      return send(
        200,
        digests.map((d) => ({
          day: d.bucket.day,
          ...(partition ? { partition: d.bucket.partition } : {}),
          count: d.count,
          totalFen: d.sumFen.toString(),
          ...(options.faults?.noHash ? {} : { hash: d.hash!.toString() }),
        })),
      );
    }
    if (url.pathname === '/invoices') {
      const day = q('day') ?? '';
      const items = byDay.get(day) ?? [];
      const limit = Math.max(1, Math.min(Number(q('limit') ?? 500) || 500, options.maxPage ?? 1000));
      const start = Number(q('cursor') ?? 0) || 0;
      const next = start + limit < items.length ? String(start + limit) : null;
      return send(200, { items: items.slice(start, start + limit), nextCursor: next });
    }
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The API items for the sample table public.invoices (demo and tests). */
export async function itemsFromSampleDatabase(
  url: string,
  statusMap: Readonly<Record<string, string>> = { '0': 'valid', '2': 'voided', '3': 'red_flushed' },
): Promise<UpstreamItem[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      code: string | null;
      number: string;
      issued_at: string;
      amount: string;
      tax: string;
      total: string;
      status: string;
      seller: string;
      buyer: string | null;
    }>(
      `select invoice_code as code, invoice_number as number, to_char(issued_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as issued_at,
              amount::text as amount, tax_amount::text as tax, total_amount::text as total, status::text as status, seller_tax_id as seller, buyer_tax_id as buyer
       from public.invoices order by id`,
    );
    return rows.map((r) => ({
      code: r.code,
      number: r.number,
      issuedAt: r.issued_at,
      amount: r.amount,
      tax: r.tax,
      total: r.total,
      status: statusMap[r.status] ?? r.status,
      sellerTaxId: r.seller,
      buyerTaxId: r.buyer,
    }));
  } finally {
    await client.end();
  }
}
