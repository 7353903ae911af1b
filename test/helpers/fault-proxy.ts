// An HTTP reverse proxy on 127.0.0.1 in front of the S3 test server that injects faults:
// answer 5xx to the next K matching requests, drop the connection after N request-body bytes,
// or reset every connection (S3 down). It logs every request so tests can assert what was tried.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** path and query, e.g. `/bucket/key?partNumber=2&uploadId=…` */
  url: string;
  outcome: 'forwarded' | 'failed' | 'dropped';
  status?: number;
}

export type Match = (req: { method: string; url: string }) => boolean;

/** UploadPart: `PUT …?partNumber=N&uploadId=…` */
export const isUploadPart: Match = (r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url);
/** any request carrying object bytes: single PUT or a part */
export const isObjectWrite: Match = (r) => r.method === 'PUT' && !/[?&](tagging|acl)/.test(r.url);
export const isAbortMultipart: Match = (r) => r.method === 'DELETE' && /[?&]uploadId=/.test(r.url);

interface Rule {
  remaining: number;
  match: Match;
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private failRule?: Rule & { status: number };
  private dropRule?: Rule & { afterBytes: number };
  private corruptRule?: Rule;
  private readonly sockets = new Set<Socket>();
  private down = false;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    readonly port: number,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const proxy = new FaultProxy(server, new URL(upstream), port);
    server.on('request', (req, res) => proxy.handle(req, res));
    server.on('connection', (socket) => {
      if (proxy.down) {
        socket.resetAndDestroy();
        return;
      }
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
    });
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answer `status` (500 InternalError / 503 SlowDown) to the next `count` matching requests. */
  failNext(count: number, status = 500, match: Match = () => true): void {
    this.failRule = { remaining: count, status, match };
  }

  /** Cut the client connection after `afterBytes` body bytes of the next `count` matching requests. */
  dropAfter(
    afterBytes: number,
    { count = Infinity, match = isObjectWrite }: { count?: number; match?: Match } = {},
  ): void {
    this.dropRule = { remaining: count, afterBytes, match };
  }

  /**
   * S3 down: cut every open connection and reset each new one (ECONNRESET) until `false`. The proxy
   * keeps its port: closing it and listening again later would need the port to stay free in
   * between, which nothing promises on a shared machine. For a refused connection
   * (ECONNREFUSED) use test/helpers/refused-port.ts.
   */
  async setDown(down: boolean): Promise<void> {
    this.down = down;
    if (down) for (const socket of this.sockets) socket.destroy();
  }

  /** Clear faults and the request log. */
  /** Flip one byte in the body of the next `count` matching requests (same length: only a digest can tell). */
  corruptNext(count: number, match: Match = isObjectWrite): void {
    this.corruptRule = { remaining: count, match };
  }

  reset(): void {
    this.failRule = undefined;
    this.dropRule = undefined;
    this.corruptRule = undefined;
    this.requests.length = 0;
  }

  count(outcome: ProxiedRequest['outcome'], match: Match = () => true): number {
    return this.requests.filter((r) => r.outcome === outcome && match(r)).length;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take<R extends Rule>(rule: R | undefined, info: { method: string; url: string }): R | undefined {
    if (!rule || rule.remaining <= 0 || !rule.match(info)) return undefined;
    rule.remaining -= 1;
    return rule;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const info = { method: req.method ?? 'GET', url: req.url ?? '/' };
    const fail = this.take(this.failRule, info);
    if (fail) {
      this.requests.push({ ...info, outcome: 'failed', status: fail.status });
      const code = fail.status === 503 ? 'SlowDown' : 'InternalError';
      req.resume();
      req.once('end', () => {
        res.writeHead(fail.status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected fault</Message></Error>`,
        );
      });
      return;
    }
    const drop = this.take(this.dropRule, info);
    let corrupt = Boolean(this.take(this.corruptRule, info));
    this.requests.push({ ...info, outcome: drop ? 'dropped' : 'forwarded' });
    // 'expect' is not signed; the proxy has already answered 100-continue itself.
    const { expect: _expect, connection: _connection, ...headers } = req.headers;
    const upstream = httpRequest(
      { host: this.upstream.hostname, port: this.upstream.port, method: info.method, path: info.url, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    let seen = 0;
    req.on('data', (data: Buffer) => {
      let chunk = data;
      seen += chunk.length;
      if (drop && seen > drop.afterBytes) {
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      if (corrupt && chunk.length > 0) {
        chunk = Buffer.from(chunk);
        chunk[chunk.length >> 1]! ^= 0xff;
        corrupt = false;
      }
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => upstream.end());
    req.on('error', () => upstream.destroy());
  }
}
