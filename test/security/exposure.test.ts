// Issue 10 item 15: what the tool writes is private by default, and its HTTP face is not open to
// the network or to web pages by accident: reports, drill reports and repository files 0600
// (folders 0700) unless `umask` says otherwise; `daemon.listen: ":port"` is loopback; optional
// bearer token for /status and /metrics; Host header checked against DNS rebinding.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';
import { parseListen } from '../../src/daemon/daemon-config.js';
import { closeServer, refusal, startHttpServer } from '../../src/daemon/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { StatusReport } from '../../src/daemon/status/status.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';
import { writeDrillConfigFile } from '../drill/helpers.js';

const mode = async (file: string): Promise<string> => ((await stat(file)).mode & 0o777).toString(8);

describe('files written by the CLI are private by default', () => {
  let source: TestDatabase;
  let state: TestDatabase;
  let t: TestRepo;

  beforeAll(async () => {
    [source, state] = await Promise.all([createSampleDatabase('modes', 100), createDatabase('modes_state')]);
    t = await createTestRepo({ targets: [{ name: 'modes', url: source.url, globals: true }] });
  });

  afterAll(async () => {
    await Promise.all([source?.drop(), state?.drop()]);
    await t?.cleanup();
  });

  it('backup objects and manifest 0600 in a 0700 folder; drill reports 0600; `umask: "022"` opens them', async () => {
    const backup = await runCli(['backup', '--config', t.configFile]);
    expect(backup.code, backup.stderr).toBe(0);
    const folder = path.join(fileURLToPath(t.repoUrl), 'backups', 'modes');
    const [id] = await readdir(folder);
    expect(await mode(path.join(folder, id!))).toBe('700');
    for (const name of await readdir(path.join(folder, id!)))
      expect([name, await mode(path.join(folder, id!, name))]).toEqual([name, '600']);

    const config = await writeDrillConfigFile(t, state.url, { reportDir: path.join(t.dir, 'drill-reports') });
    const drill = await runCli(['drill', 'latest', '--json', '--config', config]);
    expect(drill.code, drill.stderr).toBe(0);
    const report = JSON.parse(drill.stdout) as { htmlReport: string; reportObject: string };
    expect(await mode(report.htmlReport)).toBe('600');
    expect(await mode(path.dirname(report.htmlReport))).toBe('700');
    expect(await mode(path.join(fileURLToPath(t.repoUrl), report.reportObject))).toBe('600');

    const open = await writeDrillConfigFile(t, state.url, { reportDir: path.join(t.dir, 'open-reports') }, 'open.yaml');
    const { readFile, writeFile } = await import('node:fs/promises');
    await writeFile(open, JSON.stringify({ ...JSON.parse(await readFile(open, 'utf8')), umask: '022' }));
    const drill2 = await runCli(['drill', 'latest', '--json', '--config', open]);
    expect(drill2.code, drill2.stderr).toBe(0);
    expect(await mode((JSON.parse(drill2.stdout) as { htmlReport: string }).htmlReport)).toBe('644');
  }, 240_000); // three CLI runs; a loaded 2-core machine takes seconds just to start node

  it('umask is validated', () => {
    expect(() =>
      parseConfig(
        JSON.stringify({
          repository: { url: 'file:///tmp/x' },
          encryption: { recipients: [] },
          targets: [],
          umask: '999',
        }),
        {},
        'x.yaml',
      ),
    ).toThrow(/umask/);
  });
});

describe('the daemon HTTP server', () => {
  it('":port" listens on loopback; every interface only when named', () => {
    expect(parseListen(':19189')).toEqual({ host: '127.0.0.1', port: 19189 });
    expect(parseListen('*:19189')).toEqual({ host: '0.0.0.0', port: 19189 });
    expect(parseListen('0.0.0.0:19189')).toEqual({ host: '0.0.0.0', port: 19189 });
    expect(parseListen('[::]:19189')).toEqual({ host: '::', port: 19189 });
  });

  it('reads daemon.token and daemon.allowedHosts; a short token is refused', () => {
    const base = {
      repository: { url: 'file:///tmp/x' },
      encryption: { recipients: [generateIdentity().recipient] },
      targets: [{ name: 'a', url: 'postgres://h/a' }],
    };
    const config = parseConfig(
      JSON.stringify({ ...base, daemon: { token: 'a-long-enough-token-123', allowedHosts: ['Backup.Example.com'] } }),
      {},
      'x.yaml',
    );
    expect(config.daemon).toMatchObject({ token: 'a-long-enough-token-123', allowedHosts: ['backup.example.com'] });
    expect(() => parseConfig(JSON.stringify({ ...base, daemon: { token: 'short' } }), {}, 'x.yaml')).toThrow(
      /daemon.token/,
    );
  });

  it('refuses unknown Host names (DNS rebinding) and, with a token, /status and /metrics without it', async () => {
    const token = 'status-token-0123456789';
    const handlers = {
      health: async () => ({ ok: true, checks: {} }),
      metrics: async () => ({ contentType: 'text/plain', body: 'fg_up 1\n' }),
      status: async () => ({ jobRuns: [] }) as unknown as StatusReport, // the HTTP layer is under test, not the report
    };
    const { server, address } = await startHttpServer('127.0.0.1:0', handlers, silentLogger(), {
      token,
      allowedHosts: ['backup.example.com'],
    });
    try {
      // node:http, not fetch: fetch never sends a Host header of our choosing
      const [hostName, port] = [
        address.slice(0, address.lastIndexOf(':')),
        Number(address.slice(address.lastIndexOf(':') + 1)),
      ];
      const get = (p: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number }>((resolve, reject) => {
          const req = request({ host: hostName, port, path: p, headers }, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0 });
          });
          req.on('error', reject);
          req.end();
        });
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/status.json')).status).toBe(401);
      expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
      expect((await get('/metrics', { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await get('/status.json', { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await get('/status.json', { authorization: `Bearer ${token}`, host: 'attacker.example' })).status).toBe(
        421,
      );
      expect((await get('/healthz', { host: 'backup.example.com:9187' })).status).toBe(200);
    } finally {
      await closeServer(server);
    }
    const allowed = new Set(['localhost']);
    expect(refusal({ headers: { host: 'localhost:9187' }, url: '/status' }, allowed)).toBeUndefined();
    expect(refusal({ headers: { host: '[::1]:9187' }, url: '/status' }, allowed)).toBeUndefined();
    expect(refusal({ headers: {}, url: '/status' }, allowed)?.status).toBe(421);
    expect(refusal({ headers: { host: 'rebound.attacker.example' }, url: '/healthz' }, allowed)?.status).toBe(421);
  });
});
