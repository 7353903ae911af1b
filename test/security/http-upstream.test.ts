// Items 8 and 9 of the hostile-input review, against a local HTTP server that answers as told:
// key fields sent as JSON numbers are invalid_input (a 20-digit number has lost digits), a
// repeated or non-string nextCursor ends the run instead of paging forever, and pages, rows per
// day and body bytes are capped.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError, exitCodeOf } from '../../src/core/errors.js';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { HttpSource } from '../../src/reconcile/sources/http-source.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../src/reconcile/sources/input-limits.js';
import { MemorySource } from '../../src/reconcile/sources/memory-source.js';

let server: Server;
let url: string;
let invoices: (cursor: string | null) => string = () => '{"items":[]}';
let requests = 0;
const DAY = '2026-11-05';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const u = new URL(req.url!, 'http://x');
    const body =
      u.pathname === '/buckets'
        ? JSON.stringify([{ day: DAY, count: 1, totalFen: '10000' }])
        : invoices(u.searchParams.get('cursor'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function run(limits: Partial<InputLimits> = {}) {
  requests = 0;
  const source = new HttpSource({
    timezone: 'Asia/Shanghai',
    now: new Date('2026-11-27T16:30:00Z'),
    url,
    pageSize: 10,
    timeoutMs: 5000,
    retries: 0,
    maxRetryWaitMs: 0,
    limits: { ...DEFAULT_INPUT_LIMITS, ...limits },
  });
  const result = await compareSources(source, new MemorySource({ kind: 'memory', location: 'empty' }, []), {
    window: { from: '2026-11-01', to: '2026-11-30', timezone: 'Asia/Shanghai' },
    partition: false,
  });
  return { source, result };
}

const item = (number: unknown) => ({
  number,
  issuedAt: '2026-11-05T10:00:00+08:00',
  total: '100.00',
  status: 'valid',
  sellerTaxId: '91310110666007217T',
});

describe('http upstream under hostile answers', () => {
  it('a 20-digit number sent as a JSON number is invalid_input, never a wrong key', async () => {
    // JSON.parse turns 26312000000000012095 into 26312000000000012000: the text is what was sent
    invoices = () =>
      `{"items":[${JSON.stringify(item('26312000000000012096'))},${JSON.stringify(item(0)).replace('"number":0', '"number":26312000000000012095')}],"nextCursor":null}`;
    const { source, result } = await run();
    expect(result.diffs.map((d) => d.key)).toEqual(['26312000000000012096']);
    const errors = source.problems().errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      origin: `GET /invoices?day=${DAY} item 1`,
      day: DAY,
      reason: 'number is a JSON number, not a string (digits past 2^53 are lost)',
    });
    expect(JSON.stringify(result.diffs)).not.toContain('26312000000000012000');
  });

  it('a repeated nextCursor ends the run after two pages, exit 3', async () => {
    invoices = () => JSON.stringify({ items: [], nextCursor: 'again' });
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect(exitCodeOf(err)).toBe(3);
    expect((err as Error).message).toMatch(
      /\/invoices\?day=2026-11-05 nextCursor \(page 2\) is not a new cursor: 'again' was already returned$/,
    );
    expect(requests).toBe(3); // /buckets and two pages
  });

  it('a non-string nextCursor is a contract error, not "[object Object]"', async () => {
    invoices = () => JSON.stringify({ items: [item('26312000000000012096')], nextCursor: { next: 2 } });
    const err = await run().catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(3);
    expect((err as Error).message).toMatch(/nextCursor \(page 1\) is not a string$/);
  });

  it('caps pages per day, rows per day and body bytes', async () => {
    invoices = (cursor) => JSON.stringify({ items: [], nextCursor: String(Number(cursor ?? 0) + 1) });
    const pages = await run({ maxPages: 5 }).catch((e: unknown) => e);
    expect((pages as Error).message).toMatch(/day 2026-11-05 needs more than 5 pages \(reconcile\.limits\.maxPages\)$/);
    expect(requests).toBe(6);

    invoices = () =>
      JSON.stringify({
        items: Array.from({ length: 30 }, (_, i) => item(`263120000000000120${String(i).padStart(2, '0')}`)),
        nextCursor: null,
      });
    const rows = await run({ maxRows: 20 }).catch((e: unknown) => e);
    expect((rows as Error).message).toMatch(/day 2026-11-05 has more than 20 rows \(reconcile\.limits\.maxRows\)$/);

    invoices = () => JSON.stringify({ items: [], pad: 'x'.repeat(200_000), nextCursor: null });
    const body = await run({ maxBodyBytes: 100_000 }).catch((e: unknown) => e);
    expect(exitCodeOf(body)).toBe(3);
    expect((body as Error).message).toMatch(
      /answered more than 97\.7 KiB, over the 97\.7 KiB limit \(reconcile\.limits\.maxBodyBytes\)$/,
    );
  });
});
