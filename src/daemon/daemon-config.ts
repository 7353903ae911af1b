// The `schedules` and `daemon` sections: which job runs when (node-cron expressions in the configured
// time zone) and how the daemon behaves. Pure: a Reader in, settings out.
import { availableParallelism } from 'node:os';
import cron from 'node-cron';
import { durationOf } from '../core/config/duration.js';
import type { Reader } from '../core/config/reader.js';

// The job names live here, not in jobs/index.ts: the registry's jobs need Config, and Config is
// assembled from this reader, so the registry imports the names (and is checked against them).
export type JobName = 'backup' | 'drill' | 'reconcile' | 'prune' | 'copy';
export const JOB_NAMES: readonly JobName[] = ['backup', 'drill', 'reconcile', 'prune', 'copy'];

/** job → cron expression; a job absent here is not scheduled (`run` still works). */
export type Schedules = Partial<Record<JobName, string>>;

export interface DaemonConfig {
  /** host:port for /healthz, /metrics, /status; undefined = no HTTP server. ':port' is loopback; every interface only as 0.0.0.0:port, [::]:port or *:port */
  listen?: string;
  /** when set, /status and /metrics need `Authorization: Bearer <token>` (/healthz stays open for probes) */
  token?: string;
  /** host names accepted in the Host header besides IP addresses, localhost and this machine's name (DNS rebinding) */
  allowedHosts: string[];
  /** seconds from SIGTERM until the daemon exits, running jobs aborted and recorded as interrupted */
  shutdownTimeout: number;
  /** seconds between heartbeats of a running job (and of the daemon itself) */
  heartbeat: number;
  /** seconds without a heartbeat after which another daemon marks a run interrupted */
  staleAfter: number;
  /** at start, run once a fire time that was missed while no daemon was up */
  catchUp: boolean;
  /** how far back a missed fire time may lie and still be caught up (seconds) */
  catchUpWindow: number;
  /** job history rows older than this are deleted by the daemon (seconds) */
  historyRetention: number;
  /** jobs this daemon runs at once (taken from the queue shared by all daemons); default: the cores */
  concurrency: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:9187';

export function defaultDaemonConfig(): DaemonConfig {
  return {
    listen: DEFAULT_LISTEN,
    allowedHosts: [],
    shutdownTimeout: 60,
    heartbeat: 10,
    staleAfter: 60,
    catchUp: true,
    catchUpWindow: 7 * 86400,
    historyRetention: 180 * 86400,
    concurrency: availableParallelism(),
  };
}

export function readSchedules(reader: Reader): Schedules {
  reader.only(JOB_NAMES);
  const out: Schedules = {};
  for (const job of JOB_NAMES) {
    if (!reader.has(job)) continue;
    const text = reader.string(job)?.trim();
    if (text === undefined || text === 'off') continue;
    const check = cron.validateDetailed(text);
    if (!check.valid) {
      const why = check.errors.map((e) => e.message).join(', ') || 'not a cron expression';
      reader.issues.add(
        path(reader, job),
        `'${text}' is not a cron expression (${why}); e.g. "0 2 * * *" = 02:00 daily, "*/30 * * * *" = every 30 minutes, or "off"`,
      );
      continue;
    }
    out[job] = text;
  }
  return out;
}

export function readDaemonConfig(reader: Reader): DaemonConfig {
  reader.only([
    'listen',
    'token',
    'allowedHosts',
    'shutdownTimeout',
    'heartbeat',
    'staleAfter',
    'catchUp',
    'catchUpWindow',
    'historyRetention',
    'concurrency',
  ]);
  const d = defaultDaemonConfig();
  let listen: string | undefined = reader.string('listen', { fallback: DEFAULT_LISTEN })!.trim();
  if (listen === 'off' || listen === '') listen = undefined;
  else if (!parseListen(listen))
    reader.issues.add(path(reader, 'listen'), `'${listen}' is not host:port (e.g. 127.0.0.1:9187) or "off"`);
  const heartbeat = durationOf(reader, 'heartbeat', `${d.heartbeat}s`);
  const staleAfter = durationOf(reader, 'staleAfter', `${d.staleAfter}s`);
  if (staleAfter < heartbeat * 2)
    reader.issues.add(
      path(reader, 'staleAfter'),
      `must be at least twice daemon.heartbeat (${heartbeat}s), or live runs get marked interrupted`,
    );
  const shutdownTimeout = durationOf(reader, 'shutdownTimeout', `${d.shutdownTimeout}s`);
  if (shutdownTimeout < 1) reader.issues.add(path(reader, 'shutdownTimeout'), 'must be at least 1s');
  const token = reader.string('token');
  if (token !== undefined && token.length < 16)
    reader.issues.add(path(reader, 'token'), 'must be at least 16 characters (e.g. openssl rand -hex 24)');
  const allowedHosts = reader.strings('allowedHosts').map((h) => h.toLowerCase());
  const concurrency =
    reader.number('concurrency', { fallback: d.concurrency, integer: true, min: 1, max: 256 }) ?? d.concurrency;
  return {
    ...(listen ? { listen } : {}),
    ...(token ? { token } : {}),
    allowedHosts,
    shutdownTimeout,
    heartbeat,
    staleAfter,
    catchUp: reader.boolean('catchUp', d.catchUp),
    catchUpWindow: durationOf(reader, 'catchUpWindow', '7d'),
    historyRetention: durationOf(reader, 'historyRetention', '180d'),
    concurrency,
  };
}

export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  // ':9187' is loopback: every interface only when asked for by name (0.0.0.0, [::] or *)
  const host = m[1] ?? (m[2] === '*' ? '0.0.0.0' : m[2] || '127.0.0.1');
  return { host, port };
}

function path(reader: Reader, key: string): string {
  return reader.path ? `${reader.path}.${key}` : key;
}
