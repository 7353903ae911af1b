// The fleet simulation (issue 13), small: 20 targets whose backups all fall on the same fire time,
// 3 daemons (real subprocesses) with daemon.concurrency 2 on one state database. Every fire time
// runs exactly once, no daemon ever runs more than 2 jobs at once, the work is spread over the
// daemons, and /metrics shows the queue per host. A pg_dump shim makes each backup last ≥ 1 s so
// that runs overlap. Daemons that start after the fire time catch it up (a run of the day before is
// in history), so the test does not depend on how fast they start. scripts/bench/fleet.mjs is the
// large version, with a SIGKILL. Needs `npm run build`.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { openStateDb } from '../../src/core/state/state-db.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import {
  type DaemonProcess,
  killDaemon,
  parsePrometheus,
  pgDumpShim,
  runs,
  startDaemon,
  waitFor,
  writeOpsConfig,
} from './helpers.js';

const TARGETS = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
const CONCURRENCY = 2;
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  source = await createSampleDatabase('fleet', 50);
  state = await createDatabase('fleet_state');
  t = await createTestRepo({ targets: TARGETS.map((name) => ({ name, url: source.url })) });
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map(killDaemon));
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

/** A daily six-field cron expression for `at` in Asia/Shanghai (the test repository's zone). */
function dailyAt(at: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, Number(p.value)]),
  );
  return `${parts.second} ${parts.minute} ${parts.hour} * * *`;
}

/** The most runs of one process at any instant, from their start and finish times. */
function maxConcurrent(rows: Array<{ started_at: Date; finished_at: Date | null }>): number {
  const edges = rows
    .flatMap(
      (r) =>
        [
          [r.started_at.getTime(), 1],
          [(r.finished_at ?? new Date()).getTime(), -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

describe('a fleet of daemons on one queue', () => {
  it('20 targets at one fire time, 3 daemons × concurrency 2: each fire time once, ≤ 2 at once per daemon, shared', async () => {
    const fireTime = new Date(Math.ceil((Date.now() + 20_000) / 1000) * 1000);
    const schedule = dailyAt(fireTime);
    const config = await writeOpsConfig(t, 'fleet.yaml', {
      state: { url: state.url },
      schedules: { backup: schedule },
      daemon: { heartbeat: '1s', staleAfter: '3s', shutdownTimeout: '10s', concurrency: CONCURRENCY },
    });
    await (await openStateDb(parseConfig(await readFile(config, 'utf8'), process.env, config))).end();
    // yesterday's fire time ran: a daemon that starts late catches today's up instead of missing it
    for (const target of TARGETS) {
      await query(
        state.url,
        `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, finished_at) values ('backup', $1, $2, 'schedule', 'old-host', 1, 'succeeded', $2)`,
        [target, new Date(fireTime.getTime() - 86_400_000)],
      );
    }
    const shim = await pgDumpShim('[ "$1" = --version ] && exec "$REAL" "$@"; sleep 1; exec "$REAL" "$@"');
    for (let i = 0; i < 3; i++) daemons.push(startDaemon(config, { PATH: shim.path }));
    const addresses = await Promise.all(daemons.map((d) => d.address));
    const ours = `job = 'backup' and fire_time = $1`;
    const done = await waitFor(
      'every target backed up once',
      async () => {
        const ok = await runs(state.url, `${ours} and status = 'succeeded'`, [fireTime]);
        return ok.length >= TARGETS.length ? ok : undefined;
      },
      150_000,
      daemons,
    );
    const metrics = parsePrometheus(await (await fetch(`http://${addresses[0]}/metrics`)).text());
    await Promise.all(
      daemons.map((d) => {
        d.child.kill('SIGTERM');
        return d.exited;
      }),
    );

    const rows = await runs(state.url, ours, [fireTime]);
    // exactly once: one succeeded run per target, no other attempt, nothing left queued or running
    expect(done.map((r) => r.target).sort()).toEqual(TARGETS);
    expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
    const pids = daemons.map((d) => d.pid);
    expect(rows.every((r) => pids.includes(r.pid))).toBe(true);
    // no daemon ever ran more than its concurrency, and more than one daemon did the work
    const perDaemon = pids.map((pid) => maxConcurrent(rows.filter((r) => r.pid === pid)));
    expect(Math.max(...perDaemon)).toBeLessThanOrEqual(CONCURRENCY);
    expect(new Set(rows.map((r) => r.pid)).size).toBeGreaterThanOrEqual(2);
    const first = Math.min(...rows.map((r) => r.started_at.getTime()));
    const last = Math.max(...rows.map((r) => r.finished_at!.getTime()));
    console.info(
      `[measure] fleet: ${rows.length} runs by daemon ${pids.map((p) => rows.filter((r) => r.pid === p).length).join('/')}, most at once per daemon ${perDaemon.join('/')}, makespan ${((last - first) / 1000).toFixed(1)}s`,
    );
    // /metrics: this daemon's concurrency, and the queue per host (all daemons run on this host)
    expect(metrics.samples.find((s) => s.name === 'fapiao_guard_concurrency')!.value).toBe(CONCURRENCY);
    expect(metrics.samples.some((s) => s.name === 'fapiao_guard_queue_succeeded' && s.labels.host)).toBe(true);
    expect(metrics.samples.find((s) => s.name === 'fapiao_guard_queue_queued')).toBeDefined();
  }, 240_000);
});
