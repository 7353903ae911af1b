// Every notifier against local receivers: payloads, signatures recomputed independently, robot error
// codes, bounded retries that never throw, event filtering, email over SMTP, and secrets kept out of logs.
import { createHmac } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/core/config/config.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { createNotifier } from '../../src/daemon/notify/channels.js';
import { NotifyDispatcher } from '../../src/daemon/notify/dispatcher.js';
import { type RunFacts, buildMessage, eventsFor } from '../../src/daemon/notify/message.js';
import type { NotifierConfig } from '../../src/daemon/notify/notify-config.js';
import { refusedPort } from '../helpers/refused-port.js';
import { type HttpReceiver, startHttpReceiver, startSmtpReceiver } from './receivers.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const FAILED: RunFacts = {
  runId: 42,
  job: 'backup',
  target: 'invoices',
  status: 'failed',
  isFailure: true,
  summary: null,
  error: "cannot connect to 'postgres://fg:***@db1/invoices': connection refused\n  (second line)",
  fireTime: '2026-11-27T18:00:00.000Z',
  finishedAt: '2026-11-27T18:00:12.000Z',
  host: 'db-backup-1',
  durationSeconds: 12.3,
  findings: 0,
};

let rx: HttpReceiver;
beforeAll(async () => {
  rx = await startHttpReceiver();
});
afterAll(async () => {
  await rx?.close();
});

function channels(notify: unknown[]): NotifierConfig[] {
  const config = validateConfig({
    repository: { url: 'file:///tmp/x' },
    encryption: { recipients: [RECIPIENT] },
    targets: [{ name: 'invoices', url: 'postgres://db1/invoices' }],
    notify,
  });
  return config.notify!;
}

async function sendOne(notify: Record<string, unknown>, run: RunFacts = FAILED, events = eventsFor(run, false)) {
  rx.requests.length = 0;
  const d = new NotifyDispatcher(channels([notify]).map(createNotifier), silentLogger(), 10);
  const results = await d.notify(events, (e) => buildMessage(e, run, 'Asia/Shanghai'));
  return { results, requests: [...rx.requests] };
}

describe('messages', () => {
  it('a failure reads well on a phone: what, which target, the one-line cause, when and where, no links', () => {
    const m = buildMessage('failure', FAILED, 'Asia/Shanghai');
    expect(m.title).toBe("[fapiao-guard] FAILED: backup of 'invoices'");
    expect(m.text).toBe(
      [
        "[fapiao-guard] FAILED: backup of 'invoices'",
        "cause: cannot connect to 'postgres://fg:***@db1/invoices': connection refused (second line)",
        'when: 2026-11-28 02:00:12 +08:00 (12.3s)',
        'host: db-backup-1 · run #42',
      ].join('\n'),
    );
  });

  it('events: most important first; recovery only after a failure; clean results raise only success', () => {
    expect(eventsFor(FAILED, false)).toEqual(['failure']);
    expect(eventsFor({ status: 'succeeded', isFailure: false, findings: 0 }, true)).toEqual(['recovery', 'success']);
    expect(eventsFor({ status: 'succeeded', isFailure: false, findings: 3 }, false)).toEqual(['findings', 'success']);
    expect(eventsFor({ status: 'failed', isFailure: true, findings: 3 }, false)).toEqual(['failure', 'findings']);
    expect(eventsFor({ status: 'interrupted', isFailure: false, findings: 0 }, true)).toEqual([]);
  });
});

describe('notifiers against a local receiver', () => {
  it('webhook: the JSON payload, and an HMAC-SHA256 signature over timestamp.body that verifies', async () => {
    const { results, requests } = await sendOne({
      type: 'webhook',
      name: 'ops',
      url: `${rx.url}/hook`,
      secret: 'whsec-123',
    });
    expect(results).toEqual([{ channel: "webhook 'ops'", event: 'failure', ok: true, attempts: 1 }]);
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req.headers['x-fapiao-guard-event']).toBe('failure');
    const payload = JSON.parse(req.body);
    expect(payload).toMatchObject({
      source: 'fapiao-guard',
      event: 'failure',
      job: 'backup',
      target: 'invoices',
      status: 'failed',
      runId: 42,
      host: 'db-backup-1',
      error: FAILED.error,
      findings: 0,
    });
    const ts = Number(req.headers['x-fapiao-guard-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(10);
    expect(req.headers['x-fapiao-guard-signature']).toBe(
      `sha256=${createHmac('sha256', 'whsec-123').update(`${ts}.${req.body}`).digest('hex')}`,
    );
  });

  it('slack: {text} with the phone-friendly lines', async () => {
    const { requests } = await sendOne({ type: 'slack', url: `${rx.url}/services/T/B/X` });
    expect(JSON.parse(requests[0]!.body)).toEqual({ text: buildMessage('failure', FAILED, 'Asia/Shanghai').text });
  });

  it('dingtalk: timestamp (ms) and sign = urlencoded base64 HMAC-SHA256(secret, "ts\\nsecret") as query parameters', async () => {
    rx.answers = [{ status: 200, body: '{"errcode":0,"errmsg":"ok"}' }];
    const { results, requests } = await sendOne({
      type: 'dingtalk',
      url: `${rx.url}/robot/send?access_token=tok123`,
      secret: 'SECabc',
    });
    expect(results[0]!.ok).toBe(true);
    const url = new URL(requests[0]!.url, rx.url);
    expect(url.searchParams.get('access_token')).toBe('tok123');
    const ts = url.searchParams.get('timestamp')!;
    expect(ts).toMatch(/^\d{13}$/);
    expect(url.searchParams.get('sign')).toBe(createHmac('sha256', 'SECabc').update(`${ts}\nSECabc`).digest('base64'));
    expect(requests[0]!.url).toContain(`sign=${encodeURIComponent(url.searchParams.get('sign')!)}`);
    expect(JSON.parse(requests[0]!.body)).toEqual({
      msgtype: 'text',
      text: { content: buildMessage('failure', FAILED, 'Asia/Shanghai').text },
    });
  });

  it('feishu: timestamp (s) and sign = base64 HMAC-SHA256 keyed by "ts\\nsecret" over nothing, in the body', async () => {
    rx.answers = [{ status: 200, body: '{"code":0,"msg":"success"}' }];
    const { results, requests } = await sendOne({
      type: 'feishu',
      url: `${rx.url}/open-apis/bot/v2/hook/abc`,
      secret: 'fs-secret',
    });
    expect(results[0]!.ok).toBe(true);
    const body = JSON.parse(requests[0]!.body);
    expect(body.timestamp).toMatch(/^\d{10}$/);
    expect(body.sign).toBe(createHmac('sha256', `${body.timestamp}\nfs-secret`).update('').digest('base64'));
    expect(body).toMatchObject({
      msg_type: 'text',
      content: { text: buildMessage('failure', FAILED, 'Asia/Shanghai').text },
    });
  });

  it('wecom: a robot error code is a failure, retried a bounded number of times, and never thrown', async () => {
    rx.answers = [{ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' }];
    const { results, requests } = await sendOne({
      type: 'wecom',
      url: `${rx.url}/cgi-bin/webhook/send?key=k1`,
      retries: 2,
    });
    expect(requests).toHaveLength(3);
    expect(JSON.parse(requests[0]!.body)).toEqual({
      msgtype: 'text',
      text: { content: buildMessage('failure', FAILED, 'Asia/Shanghai').text },
    });
    expect(results).toEqual([
      {
        channel: 'wecom',
        event: 'failure',
        ok: false,
        attempts: 3,
        error: `wecom: '${new URL(rx.url).host}' refused the message: errcode 93000: invalid webhook url`,
      },
    ]);
  });

  it('retries after http 500 and succeeds; an unreachable endpoint gives up after retries', async () => {
    rx.answers = [
      { status: 500, body: 'boom' },
      { status: 502, body: 'bad gateway' },
      { status: 200, body: 'ok' },
    ];
    const { results, requests } = await sendOne({ type: 'webhook', url: `${rx.url}/flaky` });
    expect(requests).toHaveLength(3);
    expect(results[0]).toMatchObject({ ok: true, attempts: 3 });
    const refused = await refusedPort();
    try {
      const { host } = refused;
      const d = new NotifyDispatcher(
        channels([{ type: 'slack', url: `http://${host}/nothing`, retries: 1, timeout: '2s' }]).map(createNotifier),
        silentLogger(),
        10,
      );
      const [r] = await d.notify(['failure'], (e) => buildMessage(e, FAILED, 'UTC'));
      expect(r).toEqual({
        channel: 'slack',
        event: 'failure',
        ok: false,
        attempts: 2,
        error: `slack: cannot reach '${host}': connect ECONNREFUSED ${host}`,
      });
    } finally {
      await refused.release();
    }
  });

  it('each channel gets one message, for the first event it subscribed to', async () => {
    rx.answers = [{ status: 200, body: 'ok' }];
    rx.requests.length = 0;
    const d = new NotifyDispatcher(
      channels([
        { type: 'webhook', name: 'recoveries', url: `${rx.url}/r`, on: ['recovery'] },
        { type: 'webhook', name: 'all', url: `${rx.url}/a`, on: ['success', 'findings', 'failure'] },
      ]).map(createNotifier),
      silentLogger(),
      10,
    );
    const results = await d.notify(['failure', 'findings'], (e) => buildMessage(e, { ...FAILED, findings: 2 }, 'UTC'));
    expect(results).toEqual([{ channel: "webhook 'all'", event: 'failure', ok: true, attempts: 1 }]);
    expect(rx.requests.map((r) => r.url)).toEqual(['/a']);
  });

  it('email: over SMTP with AUTH, subject = title, the text as body', async () => {
    const smtp = await startSmtpReceiver();
    try {
      const d = new NotifyDispatcher(
        channels([
          {
            type: 'email',
            smtp: { host: '127.0.0.1', port: smtp.port, user: 'alerts', password: 'smtp-pass' },
            from: 'fapiao-guard@example.com',
            to: ['dba@example.com', 'oncall@example.com'],
          },
        ]).map(createNotifier),
        silentLogger(),
        10,
      );
      const [r] = await d.notify(['failure'], (e) => buildMessage(e, FAILED, 'Asia/Shanghai'));
      expect(r).toMatchObject({ channel: 'email', ok: true, attempts: 1 });
      const m = smtp.messages[0]!;
      expect(m).toMatchObject({
        auth: 'alerts:smtp-pass',
        from: 'fapiao-guard@example.com',
        to: ['dba@example.com', 'oncall@example.com'],
      });
      expect(m.data).toMatch(/^Subject: \[fapiao-guard\] FAILED: backup of 'invoices'\r$/m);
      expect(m.data.replace(/=\r\n/g, '')).toContain('cause: cannot connect to');
    } finally {
      await smtp.close();
    }
  });

  it('secrets and webhook URLs never reach the log', async () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (c: Buffer) => (log += c.toString()));
    const logger = createLogger({ pretty: false, destination: out, level: 'debug' });
    rx.answers = [{ status: 500, body: 'nope' }];
    const d = new NotifyDispatcher(
      channels([
        { type: 'dingtalk', url: `${rx.url}/robot/send?access_token=SUPERTOKEN`, secret: 'SECRETSIGN', retries: 1 },
      ]).map(createNotifier),
      logger,
      10,
    );
    await d.notify(['failure'], (e) => buildMessage(e, FAILED, 'UTC'));
    expect(log).toContain('notification failed; giving up');
    expect(log).not.toContain('SUPERTOKEN');
    expect(log).not.toContain('SECRETSIGN');
    rx.answers = [{ status: 200, body: 'ok' }];
  });

  it('config: unknown types, bad events and missing fields are reported with their paths', () => {
    expect(() =>
      channels([
        { type: 'pager', url: 'x' },
        { type: 'slack', on: ['sometimes'] },
        { type: 'email', smtp: {} },
      ]),
    ).toThrow(
      /notify\[0\]\.type: must be one of webhook, slack, dingtalk, wecom, feishu, email; notify\[0\]\.url: must be an http:\/\/ or https:\/\/ URL; notify\[1\]\.on\[0\]: 'sometimes' is not one of failure, recovery, findings, success; notify\[1\]\.url: required; notify\[2\]\.smtp\.host: required; notify\[2\]\.from: required; notify\[2\]\.to: required$/,
    );
  });
});
