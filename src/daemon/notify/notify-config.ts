// The `notify` section: a list of channels, each with its type, endpoint, secret and the events it
// wants. Pure: a Reader in, settings out. Secrets stay in here; messages name channels, never URLs.
import { durationOf } from '../../core/config/duration.js';
import type { Reader } from '../../core/config/reader.js';

export const NOTIFY_EVENTS = ['failure', 'recovery', 'findings', 'success'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NOTIFIER_TYPES = ['webhook', 'slack', 'dingtalk', 'wecom', 'feishu', 'email'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

interface ChannelBase {
  /** for logs; default `<type>` or `<type>-<n>` */
  name: string;
  on: NotifyEvent[];
  /** attempts after the first one (bounded retries with backoff) */
  retries: number;
  /** seconds per attempt */
  timeout: number;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the start (465); otherwise STARTTLS when offered */
  secure: boolean;
  user?: string;
  password?: string;
}

export type NotifierConfig =
  | (ChannelBase & { type: 'webhook'; url: string; secret?: string })
  | (ChannelBase & { type: 'slack' | 'wecom'; url: string })
  | (ChannelBase & { type: 'dingtalk' | 'feishu'; url: string; secret?: string })
  | (ChannelBase & { type: 'email'; smtp: SmtpSettings; from: string; to: string[] });

export function readNotifyConfig(list: Reader[]): NotifierConfig[] {
  const seen = new Map<string, number>();
  return list.flatMap((item) => {
    const at = `${item.path}`;
    if (!item.isObject()) {
      item.issues.add(at, `must be a mapping with type (${NOTIFIER_TYPES.join(', ')})`);
      return [];
    }
    const type = item.oneOf('type', NOTIFIER_TYPES, 'webhook');
    if (!item.has('type')) item.issues.add(`${at}.type`, `required (${NOTIFIER_TYPES.join(', ')})`);
    const count = (seen.get(type) ?? 0) + 1;
    seen.set(type, count);
    const base: ChannelBase = {
      name: item.string('name', { fallback: count === 1 ? type : `${type}-${count}` })!,
      on: readEvents(item, at),
      retries: item.number('retries', { fallback: 3, min: 0, max: 10, integer: true })!,
      timeout: durationOf(item, 'timeout', '10s'),
    };
    const common = ['type', 'name', 'on', 'retries', 'timeout'];
    if (type === 'email') {
      item.only([...common, 'smtp', 'from', 'to']);
      const smtp = item.object('smtp');
      smtp.only(['host', 'port', 'secure', 'user', 'password']);
      const host = smtp.string('host', { required: true }) ?? '';
      const secure = smtp.boolean('secure', false);
      const port = smtp.number('port', { fallback: secure ? 465 : 587, min: 1, max: 65535, integer: true })!;
      const user = smtp.string('user');
      const password = smtp.string('password');
      const from = item.string('from', { required: true }) ?? '';
      const to = item.strings('to', { required: true, nonEmpty: true });
      return [
        {
          ...base,
          type,
          from,
          to,
          smtp: { host, port, secure, ...(user ? { user } : {}), ...(password ? { password } : {}) },
        },
      ];
    }
    const signed = type === 'webhook' || type === 'dingtalk' || type === 'feishu';
    item.only([...common, 'url', ...(signed ? ['secret'] : [])]);
    const url =
      item.string('url', {
        required: true,
        pattern: /^https?:\/\/[^\s]+$/,
        patternHint: 'must be an http:// or https:// URL',
      }) ?? '';
    const secret = signed ? item.string('secret') : undefined;
    return [{ ...base, type, url, ...(secret ? { secret } : {}) } as NotifierConfig];
  });
}

function readEvents(item: Reader, at: string): NotifyEvent[] {
  if (!item.has('on')) return ['failure', 'recovery'];
  const events = item.strings('on', { nonEmpty: true });
  return events.filter((e, i): e is NotifyEvent => {
    if ((NOTIFY_EVENTS as readonly string[]).includes(e)) return true;
    item.issues.add(`${at}.on[${i}]`, `'${e}' is not one of ${NOTIFY_EVENTS.join(', ')}`);
    return false;
  });
}

/** `slack 'ops'` — how a channel is named in logs and errors (no URL: it often is the secret). */
export function channelLabel(c: NotifierConfig): string {
  return c.name === c.type ? c.type : `${c.type} '${c.name}'`;
}
