// Head-to-head of the two PostgreSQL job queues issue 13 named (docs/JOBS.md says which one we use and
// why): graphile-worker 0.17 (ours, src/daemon/job-queue.ts) and pg-boss 10, on the same workload
// modelled on the daemon's: T targets, one job per target that "works" for D ms (a sleep, so the
// queue's own overhead is what is measured, not pg_dump), W worker processes with concurrency C each,
// one run at a time per target across all workers (graphile-worker: a named queue per target, as
// src/daemon/job-queue.ts does; pg-boss 10: a queue with the `singleton` policy and the target as
// `singletonKey`, one `work()` loop of batchSize 1 per slot).
// Each engine gets its own throw-away database on the local server, each scenario its own schema.
// Prints, per engine and scenario: enqueue time of T jobs, makespan against the ideal T·D/(W·C), start
// latency under the backlog (enqueue → start) and on idle workers (one job at a time), the most jobs
// at once per worker (never above C), that every job ran exactly once, and how long the jobs of a
// worker SIGKILLed half-way took to start elsewhere: graphile-worker as the daemon does it
// (src/daemon/daemon.ts: a sweep every daemon.heartbeat, 10 s and 2 s here, sees the dead pid and calls
// force_unlock_workers on its pool's id), pg-boss by expiry (a small expireInSeconds, and one a
// backup needs, which is not waited for: its release time is read from pg-boss's job table).
// Usage: node scripts/bench/queue-engines.mjs [targets=200] [workers=3] [concurrency=2] [workMs=200]
//   QUEUE_BENCH_HEARTBEAT=10 (seconds between sweeps, the daemon's default daemon.heartbeat)
//   QUEUE_BENCH_IDLE=20 (jobs of the idle start-latency probe)
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger as GwLogger } from 'graphile-worker';
import pg from 'pg';
import { SERVER, dbUrl, q } from './bench-db.mjs';

const TASK = 'bench_work';

const pidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

// ---------------------------------------------------------------- worker process (forked below)

async function graphileWorker(o) {
  const { run } = await import('graphile-worker');
  const { EventEmitter } = await import('node:events');
  const pool = new pg.Pool({ connectionString: o.url, max: o.concurrency + 3 });
  pool.on('error', (err) => process.stderr.write(`pool ${process.pid}: ${err.message}\n`));
  pool.on('connect', (client) => client.on('error', () => undefined)); // a lost connection: the pool's error above
  const events = new EventEmitter();
  const recorded = [];
  // as src/daemon/daemon.ts records its pool in fapiao_guard.daemons.worker_ids
  events.on('pool:create', ({ workerPool }) =>
    recorded.push(
      pool.query(`insert into ${o.schema}.bench_workers (pid, worker_id) values ($1, $2)`, [
        process.pid,
        workerPool.id,
      ]),
    ),
  );
  const runner = await run({
    pgPool: pool,
    schema: o.schema,
    concurrency: o.concurrency,
    noHandleSignals: true,
    pollInterval: 1000, // as src/daemon/job-queue.ts
    taskList: { [TASK]: async (payload) => work(o, payload.target) },
    logger: silentGw(),
    events,
  });
  await Promise.all(recorded);
  // the daemon's sweep (claimDeadDaemons + releaseWorkers), same host: a recorded pid that is gone
  const sweep = async () => {
    const rows = (
      await pool.query(`select distinct pid from ${o.schema}.bench_workers where not released and pid <> $1`, [
        process.pid,
      ])
    ).rows;
    const dead = rows.map((r) => r.pid).filter((pid) => !pidAlive(pid));
    if (dead.length === 0) return;
    const ids = (
      await pool.query(
        `update ${o.schema}.bench_workers set released = true where not released and pid = any($1::int[]) returning worker_id`,
        [dead],
      )
    ).rows.map((r) => r.worker_id);
    if (ids.length) await pool.query(`select ${o.schema}.force_unlock_workers($1::text[])`, [ids]);
    process.send({ ev: 'released', t: Date.now(), pids: dead });
  };
  const timer = setInterval(() => void sweep().catch(() => undefined), o.heartbeat * 1000);
  return async () => {
    clearInterval(timer);
    await runner.stop();
    await pool.end();
  };
}

async function pgBossWorker(o) {
  const { default: PgBoss } = await import('pg-boss');
  const boss = new PgBoss({
    connectionString: o.url,
    schema: o.schema,
    max: o.concurrency + 3,
    schedule: false,
    supervise: true,
    maintenanceIntervalSeconds: o.maintenanceSeconds,
  });
  boss.on('error', (err) => process.stderr.write(`pg-boss ${process.pid}: ${err.message}\n`));
  await boss.start();
  for (let i = 0; i < o.concurrency; i++)
    await boss.work(TASK, { batchSize: 1, pollingIntervalSeconds: o.pollSeconds }, async ([job]) =>
      work(o, job.data.target),
    );
  return async () => boss.stop({ graceful: true, wait: true, timeout: 10_000 });
}

let running = 0;
async function work(o, target) {
  running++;
  process.send({ ev: 'start', target, t: Date.now(), running });
  await sleep(o.workMs);
  running--;
  process.send({ ev: 'finish', target, t: Date.now() });
}

if (process.env.QUEUE_BENCH_WORKER) {
  const o = JSON.parse(process.env.QUEUE_BENCH_WORKER);
  const stop = await (o.engine === 'graphile-worker' ? graphileWorker(o) : pgBossWorker(o));
  process.on('message', async (m) => {
    if (m === 'stop') {
      await stop();
      process.exit(0);
    }
  });
  process.send({ ev: 'ready' });
} else {
  await main();
}

// ---------------------------------------------------------------- the bench

async function main() {
  const [T, W, C, D] = [200, 3, 2, 200].map((d, i) => Number(process.argv[2 + i] ?? d));
  const HEARTBEAT = Number(process.env.QUEUE_BENCH_HEARTBEAT ?? 10);
  const IDLE = Number(process.env.QUEUE_BENCH_IDLE ?? 20);
  const ideal = (T * D) / (W * C) / 1000;
  const dbs = { gw: `queue_compare_gw_${process.pid}`, boss: `queue_compare_pgboss_${process.pid}` };
  const admin = SERVER;
  for (const name of Object.values(dbs)) {
    await q(admin, `drop database if exists ${name}`);
    await q(admin, `create database ${name}`);
  }
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
  };

  /** One scenario: fresh schema, W workers, T jobs (a worker SIGKILLed half-way if `kill`), idle probe. */
  async function scenario(s) {
    const n = s.jobs ?? T;
    const url = dbUrl(s.engine === 'graphile-worker' ? dbs.gw : dbs.boss);
    let add; // (target) => Promise
    let closeProducer;
    let remaining; // () => rows about what the engine still holds
    let activeKeys; // pg-boss: the targets of jobs still active
    let pending; // () => jobs not yet complete in the engine
    if (s.engine === 'graphile-worker') {
      const { runMigrations, makeWorkerUtils } = await import('graphile-worker');
      await runMigrations({ connectionString: url, schema: s.schema, logger: silentGw() });
      await q(
        url,
        `create table ${s.schema}.bench_workers (pid int not null, worker_id text not null, released bool not null default false)`,
      );
      const utils = await makeWorkerUtils({ connectionString: url, schema: s.schema, logger: silentGw() });
      // as src/daemon/job-queue.ts enqueue(): a named queue per target, a job key per fire time
      add = (target) =>
        utils.addJob(TASK, { target }, { queueName: `bench/${target}`, jobKey: target, maxAttempts: 13 });
      closeProducer = () => utils.release();
      pending = async () => (await q(url, `select count(*)::int as n from ${s.schema}._private_jobs`))[0].n;
      remaining = async () =>
        q(url, `select count(*)::int as n from ${s.schema}._private_jobs`).then(
          ([r]) => `${r.n} jobs left in the queue`,
        );
    } else {
      const { default: PgBoss } = await import('pg-boss');
      const boss = new PgBoss({ connectionString: url, schema: s.schema, supervise: false, schedule: false, max: 2 });
      boss.on('error', (err) => process.stderr.write(`pg-boss producer: ${err.message}\n`));
      await boss.start();
      await boss.createQueue(TASK, {
        name: TASK,
        policy: 'singleton',
        retryLimit: 2,
        expireInSeconds: s.expireSeconds,
      });
      add = (target) => boss.send(TASK, { target }, { singletonKey: target });
      closeProducer = () => boss.stop({ graceful: false, wait: true });
      pending = async () =>
        (
          await q(
            url,
            `select count(*)::int as n from ${s.schema}.job where name = $1 and state in ('created', 'retry', 'active')`,
            [TASK],
          )
        )[0].n;
      activeKeys = async () =>
        (await q(url, `select singleton_key from ${s.schema}.job where name = $1 and state = 'active'`, [TASK])).map(
          (r) => r.singleton_key,
        );
      remaining = async () =>
        q(url, `select state, count(*)::int as n from ${s.schema}.job where name = $1 group by state order by 1`, [
          TASK,
        ]).then((rows) => rows.map((r) => `${r.n} ${r.state}`).join(', '));
    }

    const enqueuedAt = new Map();
    const starts = []; // {target, pid, t}
    const finishes = []; // {target, pid, t}
    const released = [];
    const waiters = new Set();
    const onEvent = () => {
      for (const w of waiters) w();
      waiters.clear();
    };
    const workers = [];
    for (let i = 0; i < W; i++) {
      const child = fork(new URL(import.meta.url).pathname, [], {
        env: {
          ...process.env,
          QUEUE_BENCH_WORKER: JSON.stringify({
            engine: s.engine,
            url,
            schema: s.schema,
            concurrency: C,
            workMs: s.workMs ?? D,
            heartbeat: s.heartbeat ?? HEARTBEAT,
            pollSeconds: s.pollSeconds,
            maintenanceSeconds: s.maintenanceSeconds,
          }),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const ready = new Promise((resolve, reject) => {
        child.on('message', (m) => {
          if (m.ev === 'ready') resolve();
          else if (m.ev === 'start') starts.push({ target: m.target, pid: child.pid, t: m.t });
          else if (m.ev === 'finish') finishes.push({ target: m.target, pid: child.pid, t: m.t });
          else if (m.ev === 'released') released.push(m);
          onEvent();
        });
        child.on('exit', (code, signal) => reject(new Error(`worker exited early: ${code ?? signal}`)));
      });
      workers.push({ child, ready, exited: new Promise((r) => child.on('exit', r)) });
    }
    await Promise.all(workers.map((w) => w.ready));
    const until = async (cond, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => {
          waiters.add(r);
          setTimeout(r, 200);
        });
      }
      return true;
    };

    // the burst: T jobs, enqueued one after another as claims do; a worker SIGKILLed half-way
    const targets = Array.from({ length: n }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
    const t0 = Date.now();
    let kill = null;
    const killer =
      s.kill &&
      // half-way, at a moment it runs a job (pg-boss's workers wait out the poll interval between jobs)
      until(() => {
        const pid = workers[0].child.pid;
        const busy = starts.filter((x) => x.pid === pid).length > finishes.filter((x) => x.pid === pid).length;
        return (finishes.length >= n / 2 && busy) || finishes.length >= (n * 9) / 10;
      }, 600_000).then(() => {
        const victim = workers[0].child;
        kill = { pid: victim.pid, t: Date.now(), finished: finishes.length };
        victim.kill('SIGKILL');
      });
    for (const target of targets) {
      enqueuedAt.set(target, Date.now());
      await add(target);
    }
    const enqueueSeconds = (Date.now() - t0) / 1000;
    const done = new Set();
    const allDone = () => {
      for (const f of finishes) done.add(f.target);
      return targets.every((t) => done.has(t));
    };
    const drained = async () => allDone() && (await pending()) === 0;
    const untilAsync = async (cond, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await cond())) {
        if (Date.now() > deadline) return false;
        await sleep(250);
      }
      return true;
    };
    let complete;
    if (s.giveUpAfterOthers) {
      // expiry far away: wait for every job but the killed worker's, then a little longer
      await killer;
      // (held: still active in pg-boss, also one it fetched but had not started when it died)
      await untilAsync(async () => {
        if (allDone()) return true;
        const active = new Set(await activeKeys());
        return targets.every((t) => done.has(t) || active.has(t)) && (await pending()) === active.size;
      }, 600_000);
      complete = await untilAsync(drained, s.giveUpAfterOthers * 1000);
    } else {
      await until(allDone, 600_000);
      if (killer) await killer;
      // and until the engine holds no job: one done but not recorded complete by a killed worker runs again
      complete = await untilAsync(drained, 600_000);
    }
    const burstEnd = finishes.length ? Math.max(...finishes.map((f) => f.t)) : Date.now();

    // idle probe: one job at a time on idle workers, start latency from the enqueue
    const idle = [];
    if (!s.kill && !s.jobs)
      for (let i = 0; i < IDLE; i++) {
        const target = `idle${i}`;
        const at = Date.now();
        await add(target);
        await until(() => starts.some((x) => x.target === target), 30_000);
        const st = starts.find((x) => x.target === target);
        if (st) idle.push((st.t - at) / 1000);
        await sleep(D + 100 + Math.random() * 400);
      }
    if (!s.kill) await until(() => finishes.length >= starts.length, 5_000);

    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    for (const w of alive) w.child.send('stop');
    await Promise.race([Promise.all(alive.map((w) => w.exited)), sleep(20_000)]);
    for (const w of alive) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    const left = await remaining();
    await closeProducer();

    // the measures
    const burstStarts = starts.filter((x) => enqueuedAt.has(x.target));
    const firstStart = new Map();
    for (const x of burstStarts) if (!firstStart.has(x.target)) firstStart.set(x.target, x.t);
    const latency = targets.filter((t) => firstStart.has(t)).map((t) => (firstStart.get(t) - enqueuedAt.get(t)) / 1000);
    const perWorker = workers.map((w) => {
      const edges = [
        ...starts.filter((x) => x.pid === w.child.pid).map((x) => [x.t, 1]),
        ...finishes.filter((x) => x.pid === w.child.pid).map((x) => [x.t, -1]),
      ].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let now = 0;
      let most = 0;
      for (const [, d] of edges) most = Math.max(most, (now += d));
      return most;
    });
    const count = (xs) => {
      const m = new Map();
      for (const x of xs) m.set(x.target, (m.get(x.target) ?? 0) + 1);
      return m;
    };
    const finishCount = count(finishes.filter((f) => enqueuedAt.has(f.target)));
    const startCount = count(burstStarts);
    const finishedOnce = targets.filter((t) => finishCount.get(t) === 1).length;
    const twice = targets.filter((t) => (finishCount.get(t) ?? 0) > 1);
    // a target whose second run started while its first still ran (two pg_dumps of one database)
    const overlapping = targets.filter((t) => {
      const st = burstStarts.filter((x) => x.target === t).map((x) => x.t);
      const fi = finishes.filter((x) => x.target === t).map((x) => x.t);
      return st.length > 1 && fi.length > 0 && st[1] < Math.min(...fi);
    }).length;
    const never = targets.filter((t) => !finishCount.get(t));
    const startedTwice = targets.filter((t) => (startCount.get(t) ?? 0) > 1).length;
    let recovery = null;
    if (kill) {
      // the jobs the killed worker held: started there and not finished there, or finished there but not
      // yet recorded complete by the engine when it died (so started again elsewhere, or still active)
      const restartOf = (t) => starts.find((x) => x.target === t && x.pid !== kill.pid && x.t > kill.t);
      const stillActive = new Set(s.engine === 'pg-boss' ? await activeKeys() : []);
      const held = [
        ...new Set([
          ...burstStarts.filter((x) => x.pid === kill.pid && x.t <= kill.t).map((x) => x.target),
          ...stillActive,
        ]),
      ].filter(
        (t) => !finishes.some((f) => f.target === t && f.pid === kill.pid) || restartOf(t) || stillActive.has(t),
      );
      const unrecorded = held.filter((t) => finishes.some((f) => f.target === t && f.pid === kill.pid)).length;
      const waits = held
        .map(restartOf)
        .filter(Boolean)
        .map((x) => (x.t - kill.t) / 1000);
      recovery = {
        heldTargets: held,
        held: held.length,
        unrecorded,
        restarted: waits.length,
        first: Math.min(...waits),
        last: Math.max(...waits),
      };
      if (s.engine === 'pg-boss' && waits.length < held.length) {
        const rows = await q(
          url,
          `select extract(epoch from started_on + expire_in - now())::float8 as due from ${s.schema}.job where name = $1 and state = 'active'`,
          [TASK],
        ).catch(() => []);
        recovery.dueInSeconds = rows.map((r) => r.due);
      }
    }
    return {
      ...s,
      enqueueSeconds,
      makespan: (burstEnd - t0) / 1000,
      complete,
      latency,
      idle,
      perWorker,
      finishedOnce,
      finishedTwice: twice.length,
      twice,
      never,
      overlapping,
      startedTwice,
      recovery,
      kill,
      left,
    };
  }

  const scenarios = [
    { key: 'gw', label: 'graphile-worker 0.17', engine: 'graphile-worker', schema: 'gw_alive' },
    {
      key: 'boss2',
      label: 'pg-boss 10, poll 2 s (default)',
      engine: 'pg-boss',
      schema: 'pgboss_poll2',
      pollSeconds: 2,
      expireSeconds: 900,
      maintenanceSeconds: 120,
    },
    {
      key: 'boss05',
      label: 'pg-boss 10, poll 0.5 s (minimum)',
      engine: 'pg-boss',
      schema: 'pgboss_poll05',
      pollSeconds: 0.5,
      expireSeconds: 900,
      maintenanceSeconds: 120,
    },
    {
      key: 'gwKill',
      label: `graphile-worker 0.17, SIGKILL, sweep every ${HEARTBEAT} s`,
      engine: 'graphile-worker',
      schema: 'gw_kill',
      kill: true,
    },
    {
      key: 'gwKill2',
      label: 'graphile-worker 0.17, SIGKILL, sweep every 2 s (daemon.heartbeat 2s)',
      engine: 'graphile-worker',
      schema: 'gw_kill2',
      heartbeat: 2,
      kill: true,
    },
    {
      key: 'bossKillShort',
      label: 'pg-boss 10, SIGKILL, poll 0.5 s, expireIn 5 s, maintenance 1 s',
      engine: 'pg-boss',
      schema: 'pgboss_kill_short',
      pollSeconds: 0.5,
      expireSeconds: 5,
      maintenanceSeconds: 1,
      kill: true,
    },
    {
      key: 'bossKillLong',
      label: 'pg-boss 10, SIGKILL, poll 0.5 s, expireIn 3600 s (a backup), maintenance 120 s',
      engine: 'pg-boss',
      schema: 'pgboss_kill_long',
      pollSeconds: 0.5,
      expireSeconds: 3600,
      maintenanceSeconds: 120,
      kill: true,
      giveUpAfterOthers: 30,
    },
  ];
  const overrun = (engine, extra) => ({
    key: `${engine}Overrun`,
    label: `${engine === 'gw' ? 'graphile-worker 0.17' : 'pg-boss 10, expireIn 5 s, maintenance 1 s, poll 0.5 s'}: jobs longer than 5 s`,
    engine: engine === 'gw' ? 'graphile-worker' : 'pg-boss',
    schema: `${engine}_overrun`,
    jobs: W * C,
    workMs: 8000,
    ...extra,
  });
  scenarios.push(overrun('gw', {}), overrun('boss', { pollSeconds: 0.5, expireSeconds: 5, maintenanceSeconds: 1 }));
  const r = {};
  let ok = true;
  try {
    console.log(
      `${T} targets, ${W} worker processes × concurrency ${C}, each job ${D} ms; ideal ${ideal.toFixed(2)} s`,
    );
    for (const s of scenarios) {
      const x = await scenario(s);
      r[s.key] = x;
      if (s.jobs) {
        console.log(`\n${s.label}`);
        console.log(
          `  ${s.jobs} jobs of ${s.workMs / 1000} s: ${x.startedTwice} started more than once, ${x.overlapping} of them while the first run still ran; most at once per worker ${x.perWorker.join('/')} (limit ${C}); engine holds: ${x.left}`,
        );
        continue; // shows a failure mode; not a pass/fail check
      }
      const lat = (xs, unit = 1) =>
        `p50 ${(pct(xs, 50) * unit).toFixed(unit === 1 ? 2 : 0)} / p95 ${(pct(xs, 95) * unit).toFixed(unit === 1 ? 2 : 0)} / max ${(Math.max(...xs) * unit).toFixed(unit === 1 ? 2 : 0)}`;
      console.log(`\n${s.label}`);
      console.log(`  enqueue ${T} jobs ${x.enqueueSeconds.toFixed(2)} s (${(T / x.enqueueSeconds).toFixed(0)} jobs/s)`);
      console.log(
        `  makespan ${x.makespan.toFixed(2)} s, ${(x.makespan / ideal).toFixed(2)}x the ideal${x.complete ? '' : ' (NOT every job finished)'}`,
      );
      console.log(`  start latency under the backlog (s): ${lat(x.latency)}`);
      if (x.idle.length)
        console.log(`  start latency on idle workers (ms, ${x.idle.length} jobs): ${lat(x.idle, 1000)}`);
      console.log(
        `  most at once per worker ${x.perWorker.join('/')} (limit ${C}): ${Math.max(...x.perWorker) <= C ? 'ok' : 'EXCEEDED'}`,
      );
      console.log(
        `  finished exactly once: ${x.finishedOnce}/${T}; finished twice: ${x.finishedTwice}; started twice: ${x.startedTwice}; engine holds: ${x.left || 'nothing'}`,
      );
      if (x.recovery) {
        const rc = x.recovery;
        console.log(
          `  SIGKILL of pid ${x.kill.pid} after ${x.kill.finished} of ${T} finished: it held ${rc.held} job(s) (${rc.unrecorded} of them done but not yet recorded complete); ${rc.restarted} started elsewhere` +
            (rc.restarted ? ` after ${rc.first.toFixed(2)}-${rc.last.toFixed(2)} s` : '') +
            (rc.dueInSeconds?.length
              ? `; the others become due for expiry in ${rc.dueInSeconds.map((d) => d.toFixed(0)).join(', ')} s (plus up to the maintenance interval)`
              : ''),
        );
      }
      if (Math.max(...x.perWorker) > C) ok = false;
      if (!s.kill && (x.finishedOnce !== T || x.startedTwice)) ok = false;
      // a SIGKILL may make a job run twice (at least once: its work was done, its completion not yet
      // recorded), but only one the killed worker held, and none may be lost
      if (s.kill && x.twice.some((t) => !x.recovery.heldTargets.includes(t))) ok = false;
      if (s.kill && x.never.some((t) => !(s.giveUpAfterOthers && x.recovery.heldTargets.includes(t)))) ok = false;
    }

    // the table, pg-boss against graphile-worker from this run
    const f2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
    const ratio = (a, b) => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
    const rows = [
      ['enqueue T jobs, s', (x) => x.enqueueSeconds],
      ['makespan, s', (x) => x.makespan],
      ['makespan / ideal', (x) => x.makespan / ideal],
      ['start latency, backlog p50, s', (x) => pct(x.latency, 50)],
      ['start latency, backlog p95, s', (x) => pct(x.latency, 95)],
      ['start latency, backlog max, s', (x) => Math.max(...x.latency)],
      ['start latency, idle p50, s', (x) => pct(x.idle, 50)],
      ['start latency, idle p95, s', (x) => pct(x.idle, 95)],
      ['start latency, idle max, s', (x) => Math.max(...x.idle)],
      ['most at once per worker', (x) => Math.max(...x.perWorker)],
    ];
    console.log(
      `\n| measure (${T} jobs, ${W}×${C}, ${D} ms) | graphile-worker | pg-boss poll 2 s | ratio | pg-boss poll 0.5 s | ratio |`,
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const [name, get] of rows) {
      const [g, b2, b05] = [get(r.gw), get(r.boss2), get(r.boss05)];
      console.log(`| ${name} | ${f2(g)} | ${f2(b2)} | ${ratio(b2, g)} | ${f2(b05)} | ${ratio(b05, g)} |`);
    }
    const once = (x) => `${x.finishedOnce}/${T}`;
    console.log(`| finished exactly once | ${once(r.gw)} | ${once(r.boss2)} | | ${once(r.boss05)} | |`);
    const rec = (x) =>
      x.recovery.restarted
        ? `${x.recovery.restarted}/${x.recovery.held} after ${f2(x.recovery.first)}-${f2(x.recovery.last)} s`
        : `0/${x.recovery.held}`;
    const gwRec = r.gwKill.recovery.last;
    console.log(
      `| SIGKILL: killed worker's jobs restarted | ${rec(r.gwKill)} (sweep ${HEARTBEAT} s); ${rec(r.gwKill2)} (sweep 2 s) | ${rec(r.bossKillLong)} within 30 s (expireIn 3600 s) | | ${rec(r.bossKillShort)} (expireIn 5 s) | ${ratio(r.bossKillShort.recovery.last, gwRec)} |`,
    );
    console.log(
      `| SIGKILL: finished exactly once / twice | ${once(r.gwKill)} / ${r.gwKill.finishedTwice} | ${once(r.bossKillLong)} / ${r.bossKillLong.finishedTwice} | | ${once(r.bossKillShort)} / ${r.bossKillShort.finishedTwice} | |`,
    );
    console.log(
      `| SIGKILL: makespan / ideal (${W} workers) | ${f2(r.gwKill.makespan / ideal)} | n/a | | ${f2(r.bossKillShort.makespan / ideal)} | ${ratio(r.bossKillShort.makespan, r.gwKill.makespan)} |`,
    );
  } finally {
    for (const name of Object.values(dbs)) await q(admin, `drop database if exists ${name} with (force)`);
  }
  process.exitCode = ok ? 0 : 1;
}

/** graphile-worker's log: errors only, to stderr. */
function silentGw() {
  return new GwLogger(() => (level, message) => {
    if (level === 'error') process.stderr.write(`graphile-worker ${process.pid}: ${message}\n`);
  });
}
