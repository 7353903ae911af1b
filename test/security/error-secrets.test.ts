// Issue 10 item 3: secrets never in error text. Errors become strings in one place
// (src/core/errors.ts) and are masked there, whatever a library wrote (undici repeats a URL's
// user:password@ in clear); an HTTP upstream's userinfo goes out as an Authorization header.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError, formatError, messageOf } from '../../src/core/errors.js';
import { getJson } from '../../src/reconcile/sources/http-client.js';
import { maskSecrets } from '../../src/core/storage/mask-url.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { type HttpReceiver, startHttpReceiver } from '../notify/receivers.js';
import { type ReconcileFixture, reconcileFixture } from '../reconcile/helpers.js';
import { runs } from '../daemon/helpers.js';

const SECRET = 'UpstreamSecret9931';

describe('masking where errors become strings', () => {
  it('masks URLs with userinfo or secret parameters, libpq password words and credentials in any error', () => {
    const undici = new TypeError(
      `Request cannot be constructed from a URL that includes credentials: https://svc:${SECRET}@api.example.com/v1?x=1`,
    );
    expect(messageOf(undici)).toBe(
      'Request cannot be constructed from a URL that includes credentials: https://svc:***@api.example.com/v1?x=1',
    );
    expect(formatError(undici)).not.toContain(SECRET);
    expect(new OperationError(`cannot connect: host=db password=${SECRET} user=x`).message).toBe(
      'cannot connect: host=db password=*** user=x',
    );
    expect(messageOf(new Error(`GET http://h/x?token=${SECRET}&page=2 failed`))).toBe(
      'GET http://h/x?token=***&page=2 failed',
    );
    expect(messageOf(`authorization: Bearer ${SECRET}`)).toBe('authorization: Bearer ***');
    expect(formatError(new OperationError('x', { hint: `try postgres://u:${SECRET}@h/db` }))).not.toContain(SECRET);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'check reconcile.upstream.token (sent as a bearer token)',
      'duplicate key value violates unique constraint "invoices_key"',
      'Key (id)=(7) already exists',
      "restore into 'postgres://127.0.0.1:5432/x'",
    ]) {
      expect(maskSecrets(text)).toBe(text);
    }
  });
});

describe('HTTP upstream with user:password@', () => {
  it('sends the userinfo as an Authorization: Basic header, never in the URL', async () => {
    const receiver = await startHttpReceiver();
    try {
      receiver.answers = [{ status: 200, body: '{"ok":true}' }];
      const url = receiver.url.replace('http://', `http://svc:${SECRET}@`);
      expect(await getJson(`${url}/v1/buckets`, { timeoutMs: 5000, retries: 0, maxRetryWaitMs: 1000 })).toEqual({
        ok: true,
      });
      expect(receiver.requests[0]!.headers.authorization).toBe(
        `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`,
      );
      expect(receiver.requests[0]!.url).toBe('/v1/buckets');
    } finally {
      await receiver.close();
    }
  });
});

describe('a failing job: history, status and notifications carry no secret', () => {
  let local: TestDatabase;
  let state: TestDatabase;
  let fx: ReconcileFixture;
  let hook: HttpReceiver;
  let closedPort: number;

  beforeAll(async () => {
    [local, state, hook] = await Promise.all([
      createSampleDatabase('errsec', 50),
      createDatabase('errsec_state'),
      startHttpReceiver(),
    ]);
    // a port nobody listens on: the upstream request fails with a network error
    closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    fx = await reconcileFixture({
      localUrl: local.url,
      stateUrl: state.url,
      reconcile: {
        upstream: { type: 'http', url: `http://svc:${SECRET}@127.0.0.1:${closedPort}/api`, retries: 0, timeout: '2s' },
      },
    });
    const doc = JSON.parse(await readFile(fx.configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(
      fx.configFile,
      JSON.stringify({ ...doc, notify: [{ type: 'webhook', url: hook.url, on: ['failure'] }] }),
    );
  });

  afterAll(async () => {
    await hook?.close();
    await Promise.all([local?.drop(), state?.drop()]);
    await fx?.cleanup();
  });

  it('run reconcile → exit 3; stderr, job_runs.error, status (JSON) and the webhook message are masked', async () => {
    const res = await runCli(['run', 'reconcile', '--config', fx.configFile]);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('svc:***@');
    const [run] = await runs(state.url, "job = 'reconcile'");
    expect(run?.error).toMatch(/svc:\*\*\*@/);
    // status reads the repository too: a missing one is exit 3 before any report (test/verify/nothing-to-check.test.ts)
    expect((await runCli(['init', '--config', fx.configFile])).code).toBe(0);
    const status = await runCli(['status', '--json', '--config', fx.configFile]);
    expect(status.stdout).toContain('reconcile');
    expect(hook.requests.length).toBeGreaterThan(0);
    for (const text of [
      res.stdout,
      res.stderr,
      run?.error ?? '',
      status.stdout,
      status.stderr,
      ...hook.requests.map((r) => r.body),
    ])
      expect(text).not.toContain(SECRET);
  });
});
