// The daemon as a subprocess against one state database: two daemons on a 1-second schedule run each
// fire time exactly once; SIGKILL of one mid-run is noticed and the next fire time still runs; catch-up
// after downtime; SIGTERM during a backup and during a claim; /metrics, /healthz and /status scraped.
// Needs `npm run build`. Tests wait on state (job_runs rows, log lines, marker files) with deadlines
// from the schedule and FAST's timings, never on fixed sleeps; every daemon a test starts is killed
// after it, passed or failed.
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cronMatcher, previousFireTime } from '../../src/daemon/schedule-times.js';
import pg from 'pg';
import { type TestDatabase, createDatabase, createSampleDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { startHttpReceiver } from '../notify/receivers.js';
import {
  type DaemonProcess,
  killDaemon,
  marks,
  parsePrometheus,
  pgDumpShim,
  runs,
  startDaemon,
  waitFor,
  waitForLog,
  writeOpsConfig,
} from './helpers.js';

let source: TestDatabase;
let t: TestRepo;
const states: TestDatabase[] = [];
const daemons: DaemonProcess[] = [];
const FAST = { heartbeat: '1s', staleAfter: '3s', shutdownTimeout: '10s' };
// Deadlines. A daemon is up in ~1 s when idle; a busy machine (load 10 on 2 cores) makes it 10 s.
const START = 20_000;
/** one fire time of the 1-second schedules, claimed and run, with the same room */
const FIRE = 15_000;
/** a dead daemon's run noticed: at the next sweep (every heartbeat) or after staleAfter */
const NOTICED = 3_000 + 2 * 1_000 + FIRE;

beforeAll(async () => {
  source = await createSampleDatabase('daemon', 300);
  t = await createTestRepo({
    targets: [
      { name: 'inv', url: source.url },
      { name: 'other', url: source.url },
    ],
  });
});

afterEach(async () => {
  // a test that failed half-way leaves its daemons running: they would keep claiming fire times
  await Promise.all(daemons.splice(0).map(killDaemon));
});

afterAll(async () => {
  await Promise.all([source?.drop(), ...states.map((s) => s.drop())]);
  await t?.cleanup();
});

async function stateDb(prefix: string): Promise<TestDatabase> {
  const db = await createDatabase(prefix);
  states.push(db);
  return db;
}

function daemon(config: string, env?: NodeJS.ProcessEnv): DaemonProcess {
  const d = startDaemon(config, env);
  daemons.push(d);
  return d;
}

/** Upload temp files (`.<name>.tmp-<hex>`) anywhere in the file:// repository. */
async function tempFiles(): Promise<string[]> {
  return (await readdir(fileURLToPath(t.repoUrl), { recursive: true })).filter((f) =>
    /\.tmp-[0-9a-f]{12}$/.test(path.basename(f)),
  );
}

async function stop(d: DaemonProcess): Promise<{ code: number | null; seconds: number }> {
  const sent = performance.now();
  d.child.kill('SIGTERM');
  const { code, at } = await d.exited;
  return { code, seconds: (at - sent) / 1000 };
}

describe('fapiao-guard daemon', () => {
  it('two daemons, one state DB, a 1-second schedule: every fire time runs exactly once; /metrics, /healthz and /status answer', async () => {
    const state = await stateDb('two');
    const config = await writeOpsConfig(t, 'two.yaml', {
      state: { url: state.url },
      schedules: { prune: '* * * * * *' },
      daemon: FAST,
    });
    const a = daemon(config);
    const b = daemon(config);
    await Promise.all([a.address, b.address]);
    // five fire times of each target run (one a second), whichever daemon ran them
    const done = async () => {
      const ok = await runs(state.url, `status = 'succeeded'`);
      return ['inv', 'other'].every((x) => ok.filter((r) => r.target === x).length >= 5) ? ok : undefined;
    };
    await waitFor('five succeeded runs of each target', done, 5 * 1000 + FIRE, [a, b]);

    const [addrA, addrB] = [await a.address, await b.address];
    const health = await fetch(`http://${addrA}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, checks: { scheduler: 'running', stateDb: 'ok', tasks: 2 } });
    const metricsText = await (await fetch(`http://${addrB}/metrics`)).text();
    const status = (await (await fetch(`http://${addrA}/status`)).json()) as {
      targets: Array<{ target: string; jobs: Array<{ job: string; schedule: string }> }>;
      daemons: unknown[];
    };
    const html = await fetch(`http://${addrA}/status`, { headers: { accept: 'text/html' } });
    const stopped = await Promise.all([stop(a), stop(b)]);
    expect(stopped.map((s) => s.code)).toEqual([0, 0]);

    const rows = await runs(state.url);
    // exactly once: one row per (target, fire time), and one 'job succeeded' log line per row across both daemons
    for (const target of ['inv', 'other']) {
      const mine = rows.filter((r) => r.target === target && r.status !== 'skipped');
      const seconds = mine.map((r) => r.fire_time.getTime() / 1000);
      expect(new Set(seconds).size).toBe(seconds.length);
      expect(seconds.length).toBeGreaterThanOrEqual(5);
      // no fire time lost between the first and the last one
      expect(seconds.at(-1)! - seconds[0]! + 1).toBe(seconds.length);
      expect(mine.every((r) => [a.pid, b.pid].includes(r.pid))).toBe(true);
      // all succeeded, except that SIGTERM may catch the last one running: interrupted, not a failure
      expect(mine.slice(0, -1).map((r) => r.status)).toEqual(mine.slice(0, -1).map(() => 'succeeded'));
      expect(['succeeded', 'interrupted']).toContain(mine.at(-1)!.status);
      expect(mine.some((r) => r.is_failure)).toBe(false);
    }
    const succeededLogs = [...a.logs('job succeeded'), ...b.logs('job succeeded')];
    expect(succeededLogs.length).toBe(rows.filter((r) => r.status === 'succeeded').length);
    expect(new Set(succeededLogs.map((l) => l.run)).size).toBe(succeededLogs.length);
    // the daemon that loses a claim finds the fire time taken and moves on quietly: no error-level
    // line from either (a skipped "taken" check shows here as duplicate-key errors, not in the rows)
    const errorLines = [a, b].flatMap((d) =>
      d
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level >= 50)
        .map((l) => `pid ${d.pid}: ${l.msg}`),
    );
    expect(errorLines).toEqual([]);
    const jitter = rows.map((r) => r.started_at.getTime() - r.fire_time.getTime()).sort((x, y) => x - y);
    console.info(
      `[measure] runs ${rows.length}, by daemon A ${rows.filter((r) => r.pid === a.pid).length} / B ${rows.filter((r) => r.pid === b.pid).length}; start delay after fire time: median ${jitter[Math.floor(jitter.length / 2)]} ms, max ${jitter.at(-1)} ms; shutdown ${stopped.map((s) => s.seconds.toFixed(2)).join('s, ')}s`,
    );
    expect(jitter.at(-1)!).toBeLessThan(1000);

    const { samples, types, helps } = parsePrometheus(metricsText);
    const lastSuccess = samples.find(
      (s) =>
        s.name === 'fapiao_guard_job_last_success_timestamp_seconds' &&
        s.labels.job === 'prune' &&
        s.labels.target === 'inv',
    );
    expect(lastSuccess!.value).toBeGreaterThan(Date.now() / 1000 - 10);
    expect(
      samples.find((s) => s.name === 'fapiao_guard_job_runs_total' && s.labels.target === 'other')!.value,
    ).toBeGreaterThanOrEqual(3);
    expect(
      samples.find((s) => s.name === 'fapiao_guard_job_failures_total' && s.labels.target === 'other')!.value,
    ).toBe(0);
    expect(
      samples.find((s) => s.name === 'fapiao_guard_rpo_objective_seconds' && s.labels.target === 'inv')!.value,
    ).toBe(26 * 3600);
    expect(samples.find((s) => s.name === 'fapiao_guard_scheduler_up')!.value).toBe(1);
    expect(types.get('fapiao_guard_job_runs_total')).toBe('counter');
    expect(types.get('fapiao_guard_job_last_duration_seconds')).toBe('gauge');
    for (const name of new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, ''))))
      expect(helps.has(name) || helps.has(`${name}_bucket`), name).toBe(true);

    expect(status.targets.map((x) => x.target)).toEqual(['inv', 'other']);
    expect(status.targets[0]!.jobs).toContainEqual(expect.objectContaining({ job: 'prune', schedule: '* * * * * *' }));
    expect(status.daemons).toHaveLength(2);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await html.text()).toContain('<h1>fapiao-guard:');
  });

  it('SIGKILL of a daemon mid-backup: the other marks the run interrupted, alerts once, and runs the next fire time', async () => {
    const state = await stateDb('kill');
    const rx = await startHttpReceiver();
    try {
      const config = await writeOpsConfig(t, 'kill.yaml', {
        state: { url: state.url },
        schedules: { backup: '* * * * * *' },
        daemon: FAST,
        notify: [{ type: 'webhook', url: `${rx.url}/alerts`, on: ['failure'] }],
      });
      // pg_dump waits until the test opens the gate: daemon A's backup is still running when A is
      // killed, however long daemon B takes to start
      const shim = await pgDumpShim(
        '[ "$1" = --version ] && exec "$REAL" "$@"; while [ ! -e "$MARKS/open" ]; do sleep 0.05; done; exec "$REAL" "$@"',
      );
      const env = { PATH: shim.path };
      const a = daemon(config, env);
      await a.address;
      const victim = await waitFor(
        'a backup running on daemon A',
        async () => (await runs(state.url, `status = 'running' and pid = $1 and target = 'inv'`, [a.pid]))[0],
        FIRE,
        [a],
      );
      await waitFor(
        'a later fire time skipped while it runs',
        async () => (await runs(state.url, `status = 'skipped' and target = 'inv'`))[0],
        FIRE,
        [a],
      );
      const b = daemon(config, env);
      await b.address;
      process.kill(a.pid, 'SIGKILL');
      await a.exited;
      await writeFile(path.join(shim.marks, 'open'), '');
      const marked = await waitFor(
        'the run marked interrupted',
        async () => (await runs(state.url, `id = $1 and status = 'interrupted'`, [victim.id]))[0],
        NOTICED,
        [b],
      );
      expect(marked).toMatchObject({
        is_failure: true,
        error: `the process running it (host ${hostname()}, pid ${a.pid}) ended without finishing: crash or kill`,
      });
      const next = await waitFor(
        'a later fire time succeeding on daemon B',
        async () =>
          (
            await runs(state.url, `target = 'inv' and status = 'succeeded' and pid = $1 and fire_time > $2`, [
              b.pid,
              victim.fire_time,
            ])
          )[0],
        2 * FIRE,
        [b],
      );
      expect(next.trigger).toBe('schedule');
      await stop(b);
      // the crash alerted once, from daemon B, naming the target and the cause
      const alerts = rx.requests
        .map((r) => JSON.parse(r.body) as Record<string, unknown>)
        .filter((p) => p.runId === victim.id);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        event: 'failure',
        job: 'backup',
        target: 'inv',
        status: 'interrupted',
        error: marked.error,
      });
      // while a run held the lock, later fire times were skipped, never run alongside it
      const all = await runs(state.url, `target = 'inv'`);
      for (const r of all.filter((x) => x.status !== 'skipped')) {
        const overlapping = all.filter(
          (o) =>
            o.id !== r.id &&
            o.status !== 'skipped' &&
            o.started_at < (r.finished_at ?? new Date()) &&
            (o.finished_at ?? new Date()) > r.started_at,
        );
        expect(overlapping).toEqual([]);
      }
      expect(all.some((r) => r.status === 'skipped')).toBe(true);
    } finally {
      await rx.close();
    }
  });

  it('catch-up: after downtime the latest missed fire time runs once at start; never on a first start or twice', async () => {
    const state = await stateDb('catchup');
    const schedule = '0 3 * * *'; // 03:00 Asia/Shanghai, daily
    const config = await writeOpsConfig(t, 'catchup.yaml', {
      state: { url: state.url },
      schedules: { prune: schedule },
      daemon: FAST,
    });
    // a daemon ran 'inv' three days ago, then none ran; 'other' was never scheduled
    const first = daemon(config);
    await first.address;
    await stop(first); // SIGTERM at once after start: must still stop
    const threeDaysAgo = previousFireTime(
      cronMatcher(schedule, 'Asia/Shanghai'),
      new Date(Date.now() - 3 * 86_400_000),
      new Date(Date.now() - 5 * 86_400_000),
    )!;
    await query(
      state.url,
      `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, finished_at) values ('prune', 'inv', $1, 'schedule', 'old-host', 1, 'succeeded', $1)`,
      [threeDaysAgo],
    );
    const expected = previousFireTime(cronMatcher(schedule, 'Asia/Shanghai'), new Date(), threeDaysAgo)!;

    const second = daemon(config);
    const caught = await waitFor(
      'the catch-up run',
      async () => (await runs(state.url, `trigger = 'catch-up' and status = 'succeeded'`))[0],
      START + FIRE,
      [second],
    );
    expect(caught).toMatchObject({ job: 'prune', target: 'inv', pid: second.pid });
    expect(caught.fire_time.toISOString()).toBe(expected.toISOString());
    expect(second.logs('catching up a missed fire time')).toHaveLength(1);
    expect(await waitForLog(second, 'catch-up checked', FIRE)).toMatchObject({ caughtUp: 1 });
    await stop(second);

    // a restart right after: catch-up looks again (the log says so) and finds nothing missed
    const third = daemon(config);
    expect(await waitForLog(third, 'catch-up checked', START)).toMatchObject({ caughtUp: 0 });
    await stop(third);
    expect((await runs(state.url, `trigger = 'catch-up'`)).length).toBe(1);
    expect((await runs(state.url, `target = 'other'`)).length).toBe(0);
  });

  it('SIGTERM during a backup: pg_dump stopped, upload aborted, no manifest, run interrupted (not alerted), exit 0 within shutdownTimeout', async () => {
    const state = await stateDb('term');
    const rx = await startHttpReceiver();
    try {
      const config = await writeOpsConfig(t, 'term.yaml', {
        state: { url: state.url },
        schedules: { backup: '* * * * * *' },
        daemon: FAST,
        notify: [{ type: 'webhook', url: `${rx.url}/all`, on: ['failure', 'success'] }],
      });
      const before = new Set((await t.repo.listBackups()).map((x) => x.id));
      const tempsBefore = new Set(await tempFiles()); // a SIGKILLed daemon in an earlier test may have left its own
      // pg_dump sends 50 kB, leaves a mark, then stalls
      const shim = await pgDumpShim(
        '[ "$1" = --version ] && exec "$REAL" "$@"; "$REAL" "$@" | (head -c 50000; touch "$MARKS/dumped.$BASHPID"; exec sleep 30)',
      );
      const d = daemon(config, { PATH: shim.path });
      await d.address;
      // both targets' backups are mid-dump and their uploads have begun (a temp file each)
      const running = await waitFor(
        'both targets backing up',
        async () => {
          const rows = await runs(state.url, `status = 'running'`);
          return rows.length === 2 ? rows[0] : undefined;
        },
        FIRE,
        [d],
      );
      await waitFor(
        'both dumps streaming',
        async () => ((await marks(shim.marks, 'dumped.')).length === 2 ? true : undefined),
        FIRE,
        [d],
      );
      await waitFor(
        'both uploads begun',
        async () => ((await tempFiles()).filter((f) => !tempsBefore.has(f)).length === 2 ? true : undefined),
        FIRE,
        [d],
      );
      const stopped = await stop(d);
      console.info(
        `[measure] daemon exit after SIGTERM mid-backup: ${stopped.seconds.toFixed(2)}s (shutdownTimeout 10s)`,
      );
      expect(stopped.code).toBe(0);
      expect(stopped.seconds).toBeLessThan(10);
      // both targets' backups were running: each is recorded interrupted, none is left running
      const rows = await runs(state.url, `status <> 'skipped'`);
      expect(rows.map((r) => r.id)).toContain(running.id);
      for (const row of rows)
        expect(row).toMatchObject({
          status: 'interrupted',
          is_failure: false,
          error: 'interrupted by SIGTERM: the daemon is shutting down',
        });
      const added = (await t.repo.listBackups()).filter((x) => !before.has(x.id));
      expect(added.every((x) => x.status === 'incomplete')).toBe(true);
      // the backups said so, and their aborted uploads left nothing behind
      const failed = d.logs('backup failed; no manifest was written, earlier backups are untouched');
      expect(failed.map((l) => l.err).sort()).toEqual([
        "backup of 'inv' interrupted by SIGTERM: the daemon is shutting down; no manifest written",
        "backup of 'other' interrupted by SIGTERM: the daemon is shutting down; no manifest written",
      ]);
      for (const l of failed) expect(added.find((x) => x.id === l.backup)?.objects ?? []).toEqual([]);
      const leftovers = (await tempFiles()).filter((f) => !tempsBefore.has(f));
      expect(leftovers).toEqual([]);
      expect(d.logs('daemon stopped')[0]).toMatchObject({ interrupted: rows.length, abandoned: 0 });
      expect(rx.requests).toEqual([]);
    } finally {
      await rx.close();
    }
  });

  it('SIGTERM while a claim is on its way to the state database: the run it claims ends recorded, none is left running', async () => {
    const state = await stateDb('claim');
    const config = await writeOpsConfig(t, 'claim.yaml', {
      state: { url: state.url },
      schedules: { prune: '* * * * * *' },
      daemon: FAST,
    });
    const d = daemon(config);
    await d.address; // the state database is migrated
    await waitFor(
      'a first prune of inv',
      async () => (await runs(state.url, `target = 'inv' and status = 'succeeded'`))[0],
      START + FIRE,
      [d],
    );
    // hold the claim lock of prune/inv (CLAIM_LOCK in src/daemon/job-runs.ts): its next claims wait
    const holder = new pg.Client({ connectionString: state.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock($1, hashtext($2))', [0x66676a62, 'prune/inv']);
      const waiting = `select 1 from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`;
      await waitFor('a claim waiting for the lock', async () => (await query(state.url, waiting))[0], FIRE, [d]);
      process.kill(d.pid, 'SIGTERM');
      await waitForLog(d, 'daemon stopping', FIRE);
      await holder.query('commit'); // the waiting claims go through now, after the stop began
    } finally {
      await holder.end();
    }
    const { code } = await d.exited;
    expect(code).toBe(0);
    expect(await runs(state.url, `status = 'running'`)).toEqual([]);
    // the first claim after the lock was released won its fire time: its run started and ended
    const claimed = (await runs(state.url, `target = 'inv' and status <> 'skipped'`)).at(-1)!;
    expect(claimed.finished_at).not.toBeNull();
    expect(d.logs('job started').filter((l) => l.run === claimed.id)).toHaveLength(1);
  });
});
