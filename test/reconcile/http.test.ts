// The http upstream against the reference server, on a real local table: planted differences,
// bearer token, bounded retries honouring Retry-After, timeouts, and an upstream without hashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { getJson, retryAfterMs } from '../../src/reconcile/sources/http-client.js';
import {
  type ReferenceUpstream,
  type UpstreamItem,
  itemsFromSampleDatabase,
  startReferenceUpstream,
} from '../helpers/reference-upstream-server.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type ReconcileFixture, TEST_NOW, reconcileFixture } from './helpers.js';

const logger = silentLogger();
const TOKEN = 's3cr3t-upstream-token';
let local: TestDatabase;
let state: TestDatabase;
let items: UpstreamItem[];
const servers: ReferenceUpstream[] = [];
const fixtures: ReconcileFixture[] = [];
const keyOf = (i: UpstreamItem): string => (i.code ? `${i.code}-${i.number}` : i.number);

beforeAll(async () => {
  [local, state] = await Promise.all([createSampleDatabase('rec_http', 2000), createDatabase('rec_http_state')]);
  items = await itemsFromSampleDatabase(local.url);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([local?.drop(), state?.drop()]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function serve(
  list: UpstreamItem[],
  options: Partial<Parameters<typeof startReferenceUpstream>[0]> = {},
): Promise<ReferenceUpstream> {
  const s = await startReferenceUpstream({
    items: list,
    timezone: 'Asia/Shanghai',
    token: TOKEN,
    maxPage: 40,
    ...options,
  });
  servers.push(s);
  return s;
}

async function fixture(url: string, extra: Record<string, unknown> = {}): Promise<ReconcileFixture> {
  const fx = await reconcileFixture({
    localUrl: local.url,
    stateUrl: state.url,
    reconcile: { upstream: { type: 'http', url, token: TOKEN, pageSize: 40, ...extra }, listLimit: 25 },
  });
  fixtures.push(fx);
  return fx;
}

describe('http ↔ postgres', () => {
  it('finds planted differences through /buckets and paged /invoices, reports invalid items, never shows the token', async () => {
    const up = items.map((i) => ({ ...i }));
    const extra = up.splice(100, 1)[0]!;
    up[200]!.total = (Number(up[200]!.total) + 1).toFixed(2);
    const statusVictim = up.find((i, n) => n > 300 && i.status === 'valid')!;
    statusVictim.status = '已作废';
    const invalid = up[400]!;
    invalid.total = '1.005';
    up.push({
      number: '26312000000088888888',
      issuedAt: '2026-11-28T00:20:00+08:00',
      total: '113.00',
      status: 'valid',
      sellerTaxId: '91310110666007217T',
    });
    const server = await serve(up);
    const fx = await fixture(server.url);
    const { report, jsonText } = await runReconcile({ config: fx.config, logger, now: TEST_NOW });
    expect(
      report.findings
        .filter((f) => f.kind !== 'invalid_input')
        .map((f) => [f.kind, f.key, f.cause ?? null])
        .sort(),
    ).toEqual(
      [
        ['amount_mismatch', keyOf(up[200]!), null],
        ['extra', keyOf(extra), null],
        ['extra', keyOf(invalid), null],
        ['missing', '26312000000088888888', 'pending_sync'],
        ['status_mismatch', keyOf(statusVictim), null],
      ].sort(),
    );
    expect(
      report.findings.find((f) => f.key === keyOf(invalid) && f.kind === 'extra')!.evidence.upstreamRowRejected,
    ).toMatch(/^GET \/invoices\?day=\S+ item \d+$/);
    expect(report.findings.filter((f) => f.kind === 'invalid_input').map((f) => f.evidence.reason)).toEqual([
      "total '1.005' has more than 2 decimals",
    ]);
    expect(jsonText).not.toContain(TOKEN);
    expect(report.run.upstream).toMatchObject({ kind: 'http', hashes: true });
    // only the differing days were fetched
    expect(server.requests()).toBeLessThan(40);
  });

  it('an upstream without hashes is drilled day by day and still exact', async () => {
    const up = items.map((i) => ({ ...i }));
    // swap: one invoice's total moves to another on the same day: counts and sums stay equal
    const [a, b] = [up[10]!, up.find((i, n) => n > 10 && i.issuedAt.slice(0, 10) === up[10]!.issuedAt.slice(0, 10))!];
    const fen = (t: string): number => Math.round(Number(t) * 100);
    const delta = 100;
    a.total = ((fen(a.total) + delta) / 100).toFixed(2);
    b.total = ((fen(b.total) - delta) / 100).toFixed(2);
    const server = await serve(up, { faults: { noHash: true } });
    const fx = await fixture(server.url);
    const { report } = await runReconcile({ config: fx.config, logger, now: TEST_NOW, persist: false });
    expect(report.run.upstream.hashes).toBe(false);
    expect(report.findings.map((f) => [f.kind, f.key]).sort()).toEqual(
      [
        ['amount_mismatch', keyOf(a)],
        ['amount_mismatch', keyOf(b)],
      ].sort(),
    );
  });
});

describe('http client', () => {
  it('retries 503 after Retry-After and succeeds within the bound', async () => {
    const server = await serve([], { faults: { failFirst: 2, retryAfterSeconds: 0 } });
    const waits: number[] = [];
    const body = await getJson(`${server.url}/buckets?from=2026-11-01&to=2026-11-02`, {
      token: TOKEN,
      timeoutMs: 2000,
      retries: 3,
      maxRetryWaitMs: 5000,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(body).toEqual([]);
    expect(waits).toEqual([0, 0]);
    expect(server.requests()).toBe(3);
  });

  it('gives up after the bounded retries, and refuses a Retry-After beyond the limit', async () => {
    const server = await serve([], { faults: { failFirst: 100, retryAfterSeconds: 0 } });
    const opts = { token: TOKEN, timeoutMs: 2000, retries: 2, maxRetryWaitMs: 5000, sleep: async () => undefined };
    await expect(getJson(`${server.url}/buckets`, opts)).rejects.toThrow(
      `upstream '${server.url}/buckets' failed 3 times: answered 503`,
    );
    const slow = await serve([], { faults: { failFirst: 100, retryAfterSeconds: 3600 } });
    await expect(getJson(`${slow.url}/buckets`, opts)).rejects.toThrow(
      `upstream '${slow.url}/buckets' asks to retry after 3600s, longer than the 5s limit`,
    );
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
  });

  it('times out each attempt, and a wrong token is a clear operation error', async () => {
    const slow = await serve([], { faults: { delayMs: 500 } });
    await expect(
      getJson(`${slow.url}/buckets`, {
        token: TOKEN,
        timeoutMs: 100,
        retries: 1,
        maxRetryWaitMs: 10,
        sleep: async () => undefined,
      }),
    ).rejects.toThrow(`failed 2 times: timed out after 100ms`);
    const server = await serve([]);
    const err = await getJson(`${server.url}/buckets`, {
      token: 'wrong',
      timeoutMs: 2000,
      retries: 3,
      maxRetryWaitMs: 10,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).message).toBe(`upstream '${server.url}/buckets' refused the request (401)`);
    expect((err as OperationError).hint).toBe('check reconcile.upstream.token (sent as a bearer token)');
    expect(JSON.stringify(err) + String((err as Error).message)).not.toContain('wrong');
  });
});
