// The daemon's HTTP face on daemon.listen: /healthz for liveness probes, /metrics for Prometheus,
// /status as JSON (or HTML for browsers; /status.json and /status.html force one). Read-only.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { OperationError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StatusReport } from '../status/status.js';
import { renderStatusHtml } from '../status/status-render.js';
import { parseListen } from './daemon-config.js';

export interface HttpHandlers {
  health(): Promise<{ ok: boolean; checks: Record<string, unknown> }>;
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): Promise<StatusReport>;
}

export async function startHttpServer(listen: string, handlers: HttpHandlers, logger: Logger): Promise<{ server: Server; address: string }> {
  const { host, port } = parseListen(listen)!;
  const server = createServer((req, res) => {
    route(req, res, handlers).catch((err: unknown) => {
      logger.warn({ path: req.url, err: messageOf(err) }, 'http request failed');
      send(res, 500, 'text/plain; charset=utf-8', `error: ${messageOf(err)}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new OperationError(`cannot listen on '${listen}': ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`, { hint: 'set daemon.listen to a free host:port, or "off"' })),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const address = typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : listen;
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
    const html = path === '/status.html' || path === '/' || (path === '/status' && /text\/html/.test(req.headers.accept ?? ''));
    const { jobRuns: _raw, ...visible } = report;
    return html ? send(res, 200, 'text/html; charset=utf-8', renderStatusHtml(report)) : send(res, 200, 'application/json', `${JSON.stringify(visible, null, 2)}\n`);
  }
  send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /metrics, /status\n');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
