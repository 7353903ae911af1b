// One Notifier per configured channel: webhook, Slack, DingTalk, WeCom, Feishu (HTTP POST of their JSON)
// and email (SMTP through nodemailer). send() throws on failure; the dispatcher retries and logs.
import type { Transporter } from 'nodemailer';
import { OperationError, messageOf } from '../../core/errors.js';
import { TOOL_VERSION } from '../../core/version.js';
import type { Message } from './message.js';
import { type NotifierConfig, type NotifyEvent, channelLabel } from './notify-config.js';
import { dingtalkSign, feishuSign, webhookSignature } from './signatures.js';

export interface Notifier {
  readonly label: string;
  readonly on: readonly NotifyEvent[];
  readonly retries: number;
  send(message: Message, signal: AbortSignal): Promise<void>;
}

export function createNotifier(c: NotifierConfig): Notifier {
  const base = { label: channelLabel(c), on: c.on, retries: c.retries };
  return { ...base, send: sendOf(c, base.label, c.timeout * 1000) };
}

type Send = Notifier['send'];
type Channel<T extends NotifierConfig['type']> = Extract<NotifierConfig, { type: T }>;
/** DingTalk and Feishu share one configuration shape */
type SignedRobot = Extract<NotifierConfig, { type: 'dingtalk' | 'feishu' }>;

/** How a channel of each type sends a message. */
function sendOf(c: NotifierConfig, label: string, timeoutMs: number): Send {
  switch (c.type) {
    case 'webhook':
      return webhookSend(c, label, timeoutMs);
    case 'slack':
      return (m, signal) =>
        post(label, c.url, JSON.stringify({ text: m.text }), {}, signal, timeoutMs, () => undefined);
    case 'wecom':
      return (m, signal) => post(label, c.url, robotText(m), {}, signal, timeoutMs, errcode);
    case 'dingtalk':
      return dingtalkSend(c, label, timeoutMs);
    case 'feishu':
      return feishuSend(c, label, timeoutMs);
    case 'email':
      return emailSend(c, label, timeoutMs);
  }
}

/** WeCom's and DingTalk's robots: a text message. */
function robotText(m: Message): string {
  return JSON.stringify({ msgtype: 'text', text: { content: m.text } });
}

/** The event's JSON payload; with a secret, a timestamp and an HMAC signature in headers. */
function webhookSend(c: Channel<'webhook'>, label: string, timeoutMs: number): Send {
  return (m, signal) => {
    const body = JSON.stringify(m.payload);
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'x-fapiao-guard-event': m.event };
    if (c.secret)
      Object.assign(headers, {
        'x-fapiao-guard-timestamp': String(ts),
        'x-fapiao-guard-signature': webhookSignature(c.secret, ts, body),
      });
    return post(label, c.url, body, headers, signal, timeoutMs, () => undefined);
  };
}

/** With a secret, the timestamp and signature go into the URL. */
function dingtalkSend(c: SignedRobot, label: string, timeoutMs: number): Send {
  return (m, signal) => {
    const ts = Date.now();
    const url = c.secret
      ? `${c.url}${c.url.includes('?') ? '&' : '?'}timestamp=${ts}&sign=${dingtalkSign(c.secret, ts)}`
      : c.url;
    return post(label, url, robotText(m), {}, signal, timeoutMs, errcode);
  };
}

/** With a secret, the timestamp and signature go into the body. */
function feishuSend(c: SignedRobot, label: string, timeoutMs: number): Send {
  return (m, signal) => {
    const ts = Math.floor(Date.now() / 1000);
    const signed = c.secret ? { timestamp: String(ts), sign: feishuSign(c.secret, ts) } : {};
    return post(
      label,
      c.url,
      JSON.stringify({ ...signed, msg_type: 'text', content: { text: m.text } }),
      {},
      signal,
      timeoutMs,
      feishuCode,
    );
  };
}

function emailSend(c: Channel<'email'>, label: string, timeoutMs: number): Send {
  // nodemailer is loaded on first use: most installations never send mail, and it weighs ~12 MB.
  let transport: Promise<Transporter> | undefined;
  const connect = (): Promise<Transporter> =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: c.smtp.host,
        port: c.smtp.port,
        secure: c.smtp.secure,
        ...(c.smtp.user ? { auth: { user: c.smtp.user, pass: c.smtp.password ?? '' } } : {}),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      }),
    ));
  return async (m) => {
    try {
      await (await connect()).sendMail({ from: c.from, to: c.to, subject: m.title, text: `${m.text}\n` });
    } catch (err) {
      throw new OperationError(`${label}: smtp ${c.smtp.host}:${c.smtp.port} refused the message: ${messageOf(err)}`);
    }
  };
}

/** POST JSON; a non-2xx status or an error code in the robot's reply is a failure. */
async function post(
  label: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  timeoutMs: number,
  check: (reply: unknown) => string | undefined,
): Promise<void> {
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': `fapiao-guard/${TOOL_VERSION}`,
        ...headers,
      },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    throw new OperationError(
      `${label}: cannot reach '${host}': ${messageOf((err as { cause?: unknown }).cause ?? err)}`,
    );
  }
  const text = await res.text().catch(() => '');
  if (!res.ok)
    throw new OperationError(
      `${label}: '${host}' answered http ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`,
    );
  let reply: unknown = text;
  try {
    reply = JSON.parse(text);
  } catch {
    // Slack answers "ok", plain text
  }
  const problem = check(reply);
  if (problem) throw new OperationError(`${label}: '${host}' refused the message: ${problem}`);
}

/** DingTalk and WeCom answer {errcode, errmsg}; 0 is success. */
function errcode(reply: unknown): string | undefined {
  const r = reply as { errcode?: number; errmsg?: string } | undefined;
  return typeof r === 'object' && r && typeof r.errcode === 'number' && r.errcode !== 0
    ? `errcode ${r.errcode}: ${r.errmsg ?? ''}`.trim()
    : undefined;
}

/** Feishu answers {code, msg} (older bots {StatusCode, StatusMessage}); 0 is success. */
function feishuCode(reply: unknown): string | undefined {
  const r = reply as { code?: number; msg?: string; StatusCode?: number; StatusMessage?: string } | undefined;
  if (typeof r !== 'object' || !r) return undefined;
  const code = r.code ?? r.StatusCode;
  return typeof code === 'number' && code !== 0 ? `code ${code}: ${r.msg ?? r.StatusMessage ?? ''}`.trim() : undefined;
}
