// Item 13 and the sweep of item 6 of the hostile-input review: a daemon that cannot reach its state
// database at start waits for it instead of exiting; a fire time that finds the database down is
// alerted and runs as a catch-up once it answers; the stale-run sweep never marks a run its own
// process holds. The outage is a TCP proxy in front of the real PostgreSQL that refuses or cuts
// connections (nothing is mocked). Needs `npm run build`.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markStaleRuns } from '../../src/daemon/job-runs.js';
import { claimDeadDaemons, daemonHeartbeat } from '../../src/daemon/daemon-registry.js';
import { openStateDb } from '../../src/core/state/state-db.js';
import { parseConfig } from '../../src/core/config/config.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { startHttpReceiver } from '../notify/receivers.js';
import { type DaemonProcess, runs, startDaemon, waitFor, waitForLog, writeOpsConfig } from './helpers.js';

/** A TCP proxy to PostgreSQL that can be switched off: new connections are reset, open ones cut. */
class PgSwitch {
  up = false;
  private readonly sockets = new Set<Socket>();
  private constructor(
    readonly server: Server,
    readonly target: URL,
  ) {}

  static async start(target: string): Promise<PgSwitch> {
    const url = new URL(target);
    // eslint-disable-next-line prefer-const -- assigned once below; the server's handler closes over it
    let sw!: PgSwitch;
    const server = createServer((client) => {
      if (!sw.up) return void client.destroy();
      const upstream = connect(Number(url.port || 5432), url.hostname);
      for (const s of [client, upstream]) {
        sw.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sw.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    sw = new PgSwitch(server, url);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return sw;
  }

  /** The target URL with the proxy's host and port. */
  url(): string {
    const u = new URL(this.target.href);
    u.hostname = '127.0.0.1';
    u.port = String((this.server.address() as AddressInfo).port);
    return u.toString();
  }

  down(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.down();
    return new Promise((r) => this.server.close(() => r()));
  }
}

let source: TestDatabase;
let t: TestRepo;
const states: TestDatabase[] = [];
const daemons: DaemonProcess[] = [];
const FAST = { heartbeat: '1s', staleAfter: '3s', shutdownTimeout: '10s' };

beforeAll(async () => {
  source = await createSampleDatabase('outage', 100);
  t = await createTestRepo({ targets: [{ name: 'inv', url: source.url }] });
});

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  await Promise.all([source?.drop(), ...states.map((s) => s.drop())]);
  await t?.cleanup();
});

/** A state database with fapiao-guard's tables, made as the daemon makes it (openStateDb migrates). */
async function migratedStateDb(name: string): Promise<TestDatabase> {
  const state = await createDatabase(name);
  states.push(state);
  const file = await writeOpsConfig(t, `${name}.yaml`, { state: { url: state.url } });
  await (await openStateDb(parseConfig(await readFile(file, 'utf8'), process.env, file))).end();
  return state;
}

describe('the state database goes away', () => {
  it('at start the daemon waits for it; a fire time while it is down is alerted and caught up when it returns', async () => {
    const state = await createDatabase('outage_state');
    states.push(state);
    const sw = await PgSwitch.start(state.url);
    const rx = await startHttpReceiver();
    try {
      const config = await writeOpsConfig(t, 'outage.yaml', {
        state: { url: sw.url() },
        schedules: { prune: '*/5 * * * * *' },
        daemon: FAST,
        notify: [{ type: 'webhook', url: `${rx.url}/alerts`, on: ['failure'] }],
      });
      const d = startDaemon(config);
      daemons.push(d);
      await waitFor(
        'a retry at start',
        async () => (d.logs('state database unreachable at start; retrying').length >= 2 ? true : undefined),
        30_000,
        [d],
      );
      expect(d.child.exitCode).toBeNull();
      sw.up = true;
      await d.address;
      const first = await waitFor(
        'a scheduled run',
        async () => (await runs(state.url, `trigger = 'schedule' and status = 'succeeded'`))[0],
        30_000,
        [d],
      );

      // down right after a fire time: the next one (within 5 s) finds no database
      await waitFor(
        'a fresh fire time',
        async () => ((await runs(state.url, `fire_time > $1`, [first.fire_time]))[0] ? true : undefined),
        30_000,
        [d],
      );
      sw.down();
      const missed = await waitFor(
        'the missed fire time',
        async () => d.logs('fire time missed: state database unreachable')[0],
        30_000,
        [d],
      );
      const alert = await waitFor(
        'the alert',
        async () =>
          rx.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>).find((p) => p.event === 'failure'),
        30_000,
        [d],
      );
      expect(alert).toMatchObject({ job: 'prune', target: 'inv', status: 'failed' });
      expect(String(alert.error)).toMatch(
        /^fire time \S+ missed: the state database is unreachable \(.+\); it runs as a catch-up when the database is back$/,
      );
      sw.up = true;
      const caught = await waitFor(
        'the catch-up of the missed fire time',
        async () => (await runs(state.url, `trigger = 'catch-up' and fire_time = $1`, [missed.fireTime]))[0],
        30_000,
        [d],
      );
      expect(caught).toMatchObject({ job: 'prune', target: 'inv', pid: d.pid });
      d.child.kill('SIGTERM');
      expect((await d.exited).code).toBe(0);
    } finally {
      await rx.close();
      await sw.close();
    }
  }, 120_000);

  it('the database goes away while a job runs and is back after it ended: the daemon lives on, and the target is not held back', async () => {
    // graphile-worker 0.17 writes a finished job's completion without awaiting it; with the state
    // database gone at that moment the daemon died of an unhandled rejection (seen on a loaded
    // machine), and the job and its (job, target) queue stayed locked for 4 hours
    const state = await createDatabase('outage_done');
    states.push(state);
    const sw = await PgSwitch.start(state.url);
    sw.up = true;
    // pg_dump waits for this lock, so the backup is surely running when the database goes away
    const holder = new pg.Client({ connectionString: source.url });
    await holder.connect();
    try {
      const config = await writeOpsConfig(t, 'outage-done.yaml', {
        state: { url: sw.url() },
        schedules: { backup: '*/2 * * * * *' },
        daemon: FAST,
      });
      await holder.query('begin; lock table public.invoices in access exclusive mode');
      const d = startDaemon(config);
      daemons.push(d);
      const started = await waitForLog(d, 'job started', 60_000);
      sw.down();
      await holder.query('commit');
      await waitForLog(d, 'could not record the run; the next daemon marks it interrupted', 60_000);
      await waitForLog(
        d,
        'queue: a finished job could not be recorded (state database unreachable); repaired once it answers',
        30_000,
      );
      sw.up = true;
      await waitForLog(d, 'queue: finished jobs recorded after the state database came back', 60_000);
      // a later fire time of the same target runs: its queue is free again
      const later = await waitFor(
        'a later backup run',
        async () =>
          (await runs(state.url, `job = 'backup' and status = 'succeeded' and fire_time > $1`, [started.fireTime]))[0],
        60_000,
        [d],
      );
      expect(later).toMatchObject({ job: 'backup', target: 'inv', pid: d.pid });
      expect(d.child.exitCode).toBeNull();
      d.child.kill('SIGTERM');
      expect((await d.exited).code).toBe(0);
    } finally {
      await holder.end().catch(() => undefined);
      await sw.close();
    }
  }, 180_000);

  it('the stale-run sweep never marks a run its own process holds, however late its heartbeat', async () => {
    const state = await migratedStateDb('outage_sweep');
    // one running row per job and target: two jobs
    const insert = (job: string, pid: number) =>
      query<{ id: number }>(
        state.url,
        `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, heartbeat_at) values ($1, 'inv', now(), 'schedule', $2, $3, 'running', now() - interval '1 hour') returning id::int`,
        [job, hostname(), pid],
      );
    const [mine] = await insert('reconcile', process.pid);
    const [other] = await insert('backup', process.pid);
    const pool = new pg.Pool({ connectionString: state.url });
    try {
      const marked = await markStaleRuns(pool, 3, hostname(), () => true, [mine!.id]);
      expect(marked.map((r) => r.id)).toEqual([other!.id]);
      expect((await runs(state.url, `id = $1`, [mine!.id]))[0]!.status).toBe('running');
    } finally {
      await pool.end();
    }
  });

  it('the dead-daemon sweep never claims its own daemon after an outage, and a daemon presumed gone is back with its next heartbeat', async () => {
    // seen in one Node 24 suite run here (one of four): after an outage the daemon's own heartbeat
    // was stale, its sweep recorded itself as gone and released its own queue worker's job, the
    // finished job whose completion the outage had lost, so the queue repair never saw it
    const state = await migratedStateDb('outage_self');
    const insert = (id: string, host: string, pid: number) =>
      query(
        state.url,
        `insert into fapiao_guard.daemons (daemon_id, host, pid, heartbeat_at, worker_ids) values ($1, $2, $3, now() - interval '1 hour', array[$1 || '-w1'])`,
        [id, host, pid],
      );
    await insert('mine', hostname(), process.pid);
    await insert('other', 'another-host', 4242);
    const pool = new pg.Pool({ connectionString: state.url });
    try {
      const claimed = await claimDeadDaemons(pool, 3, hostname(), () => true, 'mine');
      expect(claimed).toEqual([{ daemonId: 'other', host: 'another-host', pid: 4242, workerIds: ['other-w1'] }]);
      const stopped = async () =>
        Object.fromEntries(
          (
            await query<{ daemon_id: string; stopped: boolean }>(
              state.url,
              `select daemon_id, stopped_at is not null as stopped from fapiao_guard.daemons`,
            )
          ).map((r) => [r.daemon_id, r.stopped]),
        );
      expect(await stopped()).toEqual({ mine: false, other: true });
      // the other daemon was alive after all (it had lost the database): its next beat puts it back
      expect(await daemonHeartbeat(pool, 'other')).toBe(true);
      expect(await daemonHeartbeat(pool, 'other')).toBe(false);
      expect(await daemonHeartbeat(pool, 'mine')).toBe(false);
      expect(await stopped()).toEqual({ mine: false, other: false });
    } finally {
      await pool.end();
    }
  });
});
