// PostgreSQL URLs parsed once, with libpq's semantics, into the one connection both node-pg and
// the pg_* tools use. node-pg and libpq read the same URL differently (libpq honours
// `?dbname=`, `?host=`, `hostaddr`, `service`, …; node-pg ignores most of them), so a guard that
// checked node-pg's connection could be bypassed by pg_restore's. Here: the URL is resolved once,
// anything that could send a later connection elsewhere than the checked one is refused, node-pg
// gets an explicit config and the tools an explicit keyword/value conninfo, with the password in
// the environment (never argv).
import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { UsageError } from '../errors.js';
import { maskUrl } from '../storage/mask-url.js';

export interface PgConn {
  /** host name, IP address, or a unix-socket directory (starts with `/`) */
  host: string;
  port: number;
  database: string;
  user: string;
  /** from the URL only; PGPASSWORD and ~/.pgpass keep working through the environment */
  password?: string;
  /** the other libpq keywords the URL set (validated, none of them redirecting) */
  params: Readonly<Record<string, string>>;
}

/** libpq keywords passed through as they are: none of them changes which server or database is reached. */
const PASS_THROUGH = new Set([
  'application_name',
  'fallback_application_name',
  'connect_timeout',
  'client_encoding',
  'options',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'sslcompression',
  'sslcertmode',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'requirepeer',
  'require_auth',
  'channel_binding',
  'gssencmode',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'target_session_attrs',
  'load_balance_hosts',
  'sslnegotiation',
]);

/** Keywords refused, and why: each could redirect a connection after the guard checked it, or put a secret in argv. */
const REFUSED: Readonly<Record<string, string>> = {
  service: 'a service entry (pg_service.conf) can name another host and database than the one checked',
  servicefile: 'a service file can name another host and database than the one checked',
  hostaddr: 'libpq connects to hostaddr, node-pg to host: the two could reach different servers',
  replication: 'a replication connection is not a database session',
  passfile: 'set PGPASSFILE in the environment instead',
  sslpassword:
    'libpq has no environment variable for it, so it would be visible in the process list; use a key file without a passphrase, readable only by this user',
  requiressl: 'use sslmode=require',
};

/** Environment variables that make libpq connect elsewhere than the explicit conninfo: removed for child tools. */
export const REDIRECTING_ENV = [
  'PGSERVICE',
  'PGSERVICEFILE',
  'PGHOSTADDR',
  'PGSYSCONFDIR',
  'PGDATABASE',
  'PGHOST',
  'PGPORT',
  'PGUSER',
] as const;

/**
 * Parse a `postgres://` or `postgresql://` URL the way libpq does (RFC 3986 with percent-decoding;
 * query parameters override the parts before them). Throws a UsageError naming the problem.
 * Missing parts come from PGHOST/PGPORT/PGUSER/PGDATABASE, then localhost:5432, the OS user and
 * a database named like the user, and are then fixed: every consumer gets the same values.
 */
export function parsePgUrl(url: string, env: NodeJS.ProcessEnv = process.env): PgConn {
  const fail: Fail = (what, hint) => {
    throw new UsageError(`PostgreSQL URL '${maskUrl(url)}': ${what}`, {
      hint: hint ?? 'write postgres://user@host:port/database; secrets through PGPASSWORD or ~/.pgpass',
    });
  };
  const decode: Decode = (text, what) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return fail(`${what} has an invalid percent-encoding`);
    }
  };
  const { authority, path, query } = splitPgUrl(url, fail);
  const values: Record<string, string> = {};
  readAuthority(authority, values, decode, fail);
  if (path) values.dbname = decode(path, 'the database name');
  readQuery(query, values, decode, fail);
  return connOf(values, env, fail);
}

type Fail = (what: string, hint?: string) => never;
type Decode = (text: string, what: string) => string;

/** The URL's parts after the scheme: authority, path and query (a fragment is refused). */
function splitPgUrl(url: string, fail: Fail): { authority: string; path: string; query: string } {
  const scheme = /^postgres(?:ql)?:\/\//i.exec(url);
  if (!scheme) return fail('must start with postgres:// or postgresql://');
  let rest = url.slice(scheme[0].length);
  if (rest.includes('#')) fail("a '#' must be written %23");
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  return { authority, path, query };
}

/** User, password, host and port from `user:password@host:port` into `values`; one host only. */
function readAuthority(authority: string, values: Record<string, string>, decode: Decode, fail: Fail): void {
  // libpq takes the userinfo up to the first '@' (a '/' or ':' inside the password must be encoded)
  let hostspec = authority;
  const at = authority.indexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    hostspec = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) values.user = decode(user, 'the user name');
    if (colon >= 0) values.password = decode(userinfo.slice(colon + 1), 'the password');
  }
  const hosts = splitHosts(hostspec, fail);
  if (hosts.length > 1)
    fail(
      `${hosts.length} hosts in a list: libpq could fail over to another server than the one checked`,
      'name exactly one host',
    );
  if (hosts[0]?.host) values.host = decode(hosts[0].host, 'the host');
  if (hosts[0]?.port) values.port = hosts[0].port;
}

/** Query parameters into `values`: each once, none refused or unknown, none contradicting the URL. */
function readQuery(query: string, values: Record<string, string>, decode: Decode, fail: Fail): void {
  const seen = new Set<string>();
  for (const pair of query ? query.split('&') : []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`query parameter '${pair.replace(/=.*$/, '')}' has no value`);
    let key = decode(pair.slice(0, eq), 'a query parameter');
    let value = decode(pair.slice(eq + 1), `query parameter '${key}'`);
    if (key === 'ssl' && value === 'true') [key, value] = ['sslmode', 'require']; // libpq's JDBC spelling
    if (seen.has(key)) fail(`query parameter '${key}' is given twice`);
    seen.add(key);
    if (key in REFUSED) fail(`parameter '${key}' is not accepted: ${REFUSED[key]}`);
    if (key === 'host' || key === 'port') {
      if (value.includes(','))
        fail(
          `a list in '${key}': libpq could fail over to another server than the one checked`,
          'name exactly one host',
        );
      if (values[key] !== undefined && values[key] !== value)
        fail(`'${key}' is given both in the URL (${values[key]}) and as ?${key}=${value}`);
    } else if (key === 'dbname' || key === 'user' || key === 'password') {
      if (values[key] !== undefined && values[key] !== value)
        fail(
          `'${key}' is given both in the URL and as ?${key}=`,
          key === 'dbname' ? 'name the database once, in the path' : undefined,
        );
    } else if (!PASS_THROUGH.has(key)) {
      fail(`unknown parameter '${key}'`);
    }
    values[key] = value;
  }
}

/** The connection: missing parts from the environment, then the defaults; checked once filled in. */
function connOf(values: Record<string, string>, env: NodeJS.ProcessEnv, fail: Fail): PgConn {
  const host = values.host ?? env.PGHOST ?? 'localhost';
  if (host.includes(','))
    fail('PGHOST holds a list: libpq could fail over to another server than the one checked', 'name exactly one host');
  if (host === '') fail('empty host');
  const portText = values.port ?? env.PGPORT ?? '5432';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) fail(`port '${portText}' is not a number from 1 to 65535`);
  const user = values.user ?? env.PGUSER ?? userInfo().username;
  const database = values.dbname ?? env.PGDATABASE ?? user;
  // libpq reads a database name that looks like a connection string as one (expand_dbname)
  if (/=/.test(database) || /^postgres(ql)?:\/\//i.test(database))
    fail(`database name '${database}' would be read by libpq as a connection string`);
  for (const [k, v] of Object.entries({ host, user, database, ...values }))
    if (v.includes('\0')) fail(`'${k}' contains a NUL byte`);

  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (PASS_THROUGH.has(k)) params[k] = v;
  return {
    host,
    port,
    database,
    user,
    ...(values.password !== undefined ? { password: values.password } : {}),
    params,
  };
}

function splitHosts(spec: string, fail: (what: string) => never): Array<{ host: string; port: string }> {
  if (spec === '') return [];
  const out: Array<{ host: string; port: string }> = [];
  let i = 0;
  for (;;) {
    let host: string;
    if (spec[i] === '[') {
      const close = spec.indexOf(']', i);
      if (close < 0) fail('unterminated [IPv6 address]');
      host = spec.slice(i + 1, close);
      i = close + 1;
    } else {
      const end = spec.slice(i).search(/[:,]/);
      host = end < 0 ? spec.slice(i) : spec.slice(i, i + end);
      i = end < 0 ? spec.length : i + end;
    }
    let port = '';
    if (spec[i] === ':') {
      const end = spec.indexOf(',', i);
      port = end < 0 ? spec.slice(i + 1) : spec.slice(i + 1, end);
      i = end < 0 ? spec.length : end;
    }
    out.push({ host, port });
    if (spec[i] !== ',') break;
    i++;
  }
  return out;
}

/** The canonical URL of a connection: every consumer that parses it again gets the same values. */
export function formatPgUrl(conn: PgConn): string {
  const enc = encodeURIComponent;
  const socket = conn.host.startsWith('/') || conn.host.startsWith('@');
  const userinfo = `${enc(conn.user)}${conn.password !== undefined ? `:${enc(conn.password)}` : ''}@`;
  const authority = socket
    ? userinfo
    : `${userinfo}${conn.host.includes(':') ? `[${conn.host}]` : enc(conn.host)}:${conn.port}`;
  const query = [
    ...(socket
      ? [
          ['host', conn.host],
          ['port', String(conn.port)],
        ]
      : []),
    ...Object.entries(conn.params),
  ].map(([k, v]) => `${enc(k!)}=${enc(v!)}`);
  return `postgres://${authority}/${enc(conn.database)}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

function quoteValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * For pg_dump, pg_restore, psql, pg_dumpall: an explicit keyword/value conninfo (no password) as
 * the --dbname argument, and an environment with the password and without the variables that
 * could point libpq elsewhere.
 */
export function libpqArgs(
  conn: PgConn,
  base: NodeJS.ProcessEnv = process.env,
): { conninfo: string; env: NodeJS.ProcessEnv } {
  const words = { host: conn.host, port: String(conn.port), dbname: conn.database, user: conn.user, ...conn.params };
  const conninfo = Object.entries(words)
    .map(([k, v]) => `${k}=${quoteValue(v)}`)
    .join(' ');
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REDIRECTING_ENV) delete env[name];
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  return { conninfo, env };
}

/** node-pg's config for the same connection (explicit fields: node-pg reads no URL of ours). */
export function pgClientConfig(conn: PgConn, applicationName?: string): pg.ClientConfig {
  const p = conn.params;
  const timeout = p.connect_timeout ? Number(p.connect_timeout) : undefined;
  return {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    ...(conn.password !== undefined ? { password: conn.password } : {}),
    ...(p.options !== undefined ? { options: p.options } : {}),
    ...(p.client_encoding !== undefined ? { client_encoding: p.client_encoding } : {}),
    application_name: p.application_name ?? applicationName ?? 'fapiao-guard',
    ...(timeout !== undefined && Number.isFinite(timeout) && timeout > 0
      ? { connectionTimeoutMillis: timeout * 1000 }
      : {}),
    ...(p.keepalives === '0' ? { keepAlive: false } : p.keepalives ? { keepAlive: true } : {}),
    ...sslConfig(p),
  };
}

/** sslmode and certificate files with libpq's meaning (node-pg's own parser reads them differently). */
function sslConfig(p: Readonly<Record<string, string>>): Pick<pg.ClientConfig, 'ssl'> {
  const mode = p.sslmode;
  if (mode === undefined && !p.sslrootcert && !p.sslcert) return {};
  if (mode === 'disable') return { ssl: false };
  const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
  const ca = read(p.sslrootcert);
  const files = {
    ...(ca ? { ca } : {}),
    ...(p.sslcert ? { cert: read(p.sslcert)! } : {}),
    ...(p.sslkey ? { key: read(p.sslkey)! } : {}),
  };
  switch (mode) {
    case 'verify-full':
      return { ssl: files };
    case 'verify-ca':
      return { ssl: { ...files, checkServerIdentity: () => undefined } };
    default: // allow, prefer, require: encrypted, the certificate checked only against an explicit root (libpq's require)
      return { ssl: ca ? { ...files, checkServerIdentity: () => undefined } : { ...files, rejectUnauthorized: false } };
  }
}

/** host:port (or the socket directory) for messages and same-server fallbacks. */
export function endpointOf(conn: PgConn): string {
  return conn.host.startsWith('/') ? `${conn.host}/.s.PGSQL.${conn.port}` : `${conn.host.toLowerCase()}:${conn.port}`;
}

/** For config validation: why libpq's reading of this URL is refused, or undefined when it is fine. */
export function pgUrlProblem(url: string): string | undefined {
  try {
    parsePgUrl(url, {});
    return undefined;
  } catch (err) {
    return err instanceof UsageError ? err.message.replace(/^PostgreSQL URL '[^']*': /, '') : String(err);
  }
}
