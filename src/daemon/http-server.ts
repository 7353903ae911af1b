// The daemon's HTTP face on daemon.listen: /healthz for liveness probes, /metrics for Prometheus,
// /status as JSON (or HTML for browsers; /status.json and /status.html force one). Read-only.
// A Host header naming an unknown host is refused (a web page whose name was rebound to this
// address must not read /status), and with daemon.token /status and /metrics need a bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { OperationError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StatusReport } from './status/status.js';
import { renderStatusHtml } from './status/status-render.js';
import { parseListen } from './daemon-config.js';

export interface HttpHandlers {
  health(): Promise<{ ok: boolean; checks: Record<string, unknown> }>;
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): Promise<StatusReport>;
}

export interface HttpAccess {
  /** bearer token for /status and /metrics */
  token?: string;
  /** host names accepted in the Host header besides IP addresses, localhost and this machine's name */
  allowedHosts?: readonly string[];
}

export async function startHttpServer(
  listen: string,
  handlers: HttpHandlers,
  logger: Logger,
  access: HttpAccess = {},
): Promise<{ server: Server; address: string }> {
  const { host, port } = parseListen(listen)!;
  const allowed = new Set(['localhost', hostname().toLowerCase(), ...(access.allowedHosts ?? [])]);
  const server = createServer((req, res) => {
    const refused = refusal(req, allowed, access.token);
    if (refused)
      return send(
        res,
        refused.status,
        'text/plain; charset=utf-8',
        `${refused.text}\n`,
        refused.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    route(req, res, handlers).catch((err: unknown) => {
      logger.warn({ path: req.url, err: messageOf(err) }, 'http request failed');
      send(res, 500, 'text/plain; charset=utf-8', `error: ${messageOf(err)}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new OperationError(
          `cannot listen on '${listen}': ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`,
          { hint: 'set daemon.listen to a free host:port, or "off"' },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  if (!isLoopback(host) && !access.token)
    logger.warn(
      { listen },
      'http listens beyond this machine without daemon.token: anyone who can reach it reads /status and /metrics',
    );
  const a = server.address();
  const address =
    typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : listen;
  logger.info({ listen: address }, 'http listening: /healthz /metrics /status');
  return { server, address };
}

async function route(req: IncomingMessage, res: ServerResponse, h: HttpHandlers): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'only GET\n');
  if (path === '/healthz') {
    const health = await h.health();
    return send(res, health.ok ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`);
  }
  if (path === '/metrics') {
    const m = await h.metrics();
    return send(res, 200, m.contentType, m.body);
  }
  if (path === '/status' || path === '/status.json' || path === '/status.html' || path === '/') {
    const report = await h.status();
    const html =
      path === '/status.html' || path === '/' || (path === '/status' && /text\/html/.test(req.headers.accept ?? ''));
    const { jobRuns: _raw, ...visible } = report;
    return html
      ? send(res, 200, 'text/html; charset=utf-8', renderStatusHtml(report))
      : send(res, 200, 'application/json', `${JSON.stringify(visible, null, 2)}\n`);
  }
  send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /metrics, /status\n');
}

/** Pure: why a request is refused before routing (Host header, bearer token), or undefined. */
export function refusal(
  req: Pick<IncomingMessage, 'headers' | 'url'>,
  allowedHosts: ReadonlySet<string>,
  token?: string,
): { status: number; text: string } | undefined {
  const name = hostOf(req.headers.host);
  if (name === undefined || (!isIP(name) && !allowedHosts.has(name))) {
    return {
      status: 421,
      text: `unknown host '${(req.headers.host ?? '').slice(0, 100)}': add it to daemon.allowedHosts`,
    };
  }
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (token && path !== '/healthz' && !tokenMatches(req.headers.authorization, token))
    return { status: 401, text: 'a bearer token is needed (daemon.token)' };
  return undefined;
}

/** The host name of a Host header, without port or IPv6 brackets, lowercase; undefined when absent. */
function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header.trim());
  return m ? (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '') : undefined;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  // equal-length digests: the comparison takes the same time whatever was sent
  return timingSafeEqual(createHash('sha256').update(m[1]!).digest(), createHash('sha256').update(token).digest());
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
