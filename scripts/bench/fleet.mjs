// The fleet simulation, large (issue 13): N targets (small databases on the local server) whose
// backups all fall on one fire time, D daemons with daemon.concurrency C on one state database.
// Prints the makespan against the ideal (total work / total concurrency), the most runs at once per
// daemon (never above C), that every fire time ran exactly once, then the same with one daemon
// SIGKILLed half-way (its runs redone by the others, none lost, none completed twice).
// Connections: each daemon holds up to 5 (state pool) + concurrency + 3 (queue pool) on the state
// database, and each running backup 2 on its target (the snapshot's connection and pg_dump), so the
// fleet needs about daemons × (8 + 3 × concurrency) at once, whatever the number of targets; the
// bench refuses to start when that does not fit in the server's free connections, and prints the
// most it saw in use (pg_stat_activity, sampled every 250 ms).
// Usage: npm run build && node scripts/bench/fleet.mjs [targets=200] [daemons=3] [concurrency=2]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatIdentityFile, generateIdentity } from '../../dist/src/core/crypto/index.js';
import { dbUrl, q } from './bench-db.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [N, D, C] = [Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 2)];
const work = path.join(root, '.bench', 'fleet');
const PREFIX = 'fg_fleet_queue';
const admin = dbUrl('postgres');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const { identity, recipient } = generateIdentity();
writeFileSync(path.join(work, 'age.key'), formatIdentityFile(identity), { mode: 0o600 });

const [{ max, reserved, used }] = await q(
  admin,
  `select current_setting('max_connections')::int as max, current_setting('superuser_reserved_connections')::int as reserved,
     (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used`,
);
const needed = D * (5 + C + 3 + 2 * C) + 2;
console.log(
  `connections: the fleet needs up to ${needed} (${D} daemons × (5 state + ${C + 3} queue + ${C} backups × 2) + the bench's own); server max_connections ${max} (${reserved} reserved for superusers), ${used} in use before the start`,
);
if (needed > max - reserved - used)
  throw new Error(
    `the fleet needs ${needed} connections and only ${max - reserved - used} are free: fewer daemons or less concurrency`,
  );

const names = Array.from({ length: N }, (_, i) => `${PREFIX}_${String(i + 1).padStart(3, '0')}`);
const template = `${PREFIX}_template`;
async function setup() {
  const setupStarted = Date.now();
  console.log(`creating ${N} databases (copies of one template)…`);
  await q(admin, `drop database if exists ${template} with (force)`);
  await q(admin, `create database ${template}`);
  await q(
    dbUrl(template),
    `create table invoices (id serial primary key, amount numeric, note text); insert into invoices (amount, note) select g, md5(g::text) from generate_series(1, 2000) g`,
  );
  for (const name of names) {
    await q(admin, `drop database if exists ${name} with (force)`);
    await q(admin, `create database ${name} template ${template}`);
  }
  await q(admin, `drop database ${template}`);
  console.log(`  ${((Date.now() - setupStarted) / 1000).toFixed(1)}s`);
}

function dailyAt(at) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((x) => [x.type, Number(x.value)]),
  );
  return `${p.second} ${p.minute} ${p.hour} * * *`;
}

function startDaemon(config, log) {
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin/fapiao-guard.js'), 'daemon', '--config', config, '--listen', 'off'],
    { stdio: ['ignore', 'ignore', openSync(log, 'a')], env: { ...process.env, FAPIAO_GUARD_LOG_LEVEL: 'warn' } },
  );
  const exited = new Promise((r) => child.on('close', r));
  return { child, exited, log };
}

const alive = (d) => d.child.exitCode === null && d.child.signalCode === null;
const logTail = (d) => (existsSync(d.log) ? readFileSync(d.log, 'utf8').trim().split('\n').slice(-5).join('\n') : '');

function maxConcurrent(rows) {
  const edges = rows
    .flatMap((r) => [
      [r.started_at.getTime(), 1],
      [(r.finished_at ?? new Date()).getTime(), -1],
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

async function scenario(label, kill) {
  const state = `${PREFIX}_state`;
  await q(admin, `drop database if exists ${state}`);
  await q(admin, `create database ${state}`);
  const stateUrl = dbUrl(state);
  const repo = path.join(work, `repo-${label}`);
  const fireTime = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
  const config = path.join(work, `${label}.yaml`);
  writeFileSync(
    config,
    JSON.stringify({
      timezone: 'Asia/Shanghai',
      repository: { url: pathToFileURL(repo).href },
      encryption: { recipients: [recipient], identityFile: path.join(work, 'age.key') },
      state: { url: stateUrl },
      targets: names.map((name) => ({ name, url: dbUrl(name), verifyTables: ['public.invoices'] })),
      schedules: { backup: dailyAt(fireTime) },
      daemon: { heartbeat: '2s', staleAfter: '6s', shutdownTimeout: '20s', concurrency: C },
    }),
  );
  spawnSync(process.execPath, [path.join(root, 'bin/fapiao-guard.js'), 'init', '--config', config], {
    stdio: 'ignore',
  });
  spawnSync(process.execPath, [path.join(root, 'bin/fapiao-guard.js'), 'jobs', '--config', config], {
    stdio: 'ignore',
  }); // creates the state schema
  // yesterday's fire time ran everywhere: a daemon that starts after today's catches it up
  await q(
    stateUrl,
    `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, finished_at)
    select 'backup', t, $1, 'schedule', 'old-host', 1, 'succeeded', $1 from unnest($2::text[]) t`,
    [new Date(fireTime.getTime() - 86_400_000), names],
  );
  const daemons = Array.from({ length: D }, (_, i) => startDaemon(config, path.join(work, `${label}-daemon-${i}.log`)));
  try {
    return await watch(label, kill, fireTime, stateUrl, daemons);
  } finally {
    for (const d of daemons) if (alive(d)) d.child.kill('SIGKILL'); // only after a failure: watch() stops them
    await Promise.all(daemons.map((d) => d.exited));
    await q(admin, `drop database if exists ${state} with (force)`);
  }
}

async function watch(label, kill, fireTime, stateUrl, daemons) {
  const ours = `job = 'backup' and fire_time = $1`;
  let killed = null;
  let peak = { all: 0, fleet: 0 };
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const [{ n, all, fleet }] = await q(
      stateUrl,
      `select (select count(*)::int from fapiao_guard.job_runs where ${ours} and status = 'succeeded') as n,
        count(*)::int as all, (count(*) filter (where datname like '${PREFIX}%'))::int as fleet
       from pg_stat_activity where backend_type = 'client backend'`,
      [fireTime],
    );
    peak = { all: Math.max(peak.all, all), fleet: Math.max(peak.fleet, fleet) };
    if (kill && !killed && n >= N / 2) {
      killed = daemons[0];
      killed.child.kill('SIGKILL');
    }
    if (n >= N) break;
    const gone = daemons.filter((d) => d !== killed && !alive(d));
    if (gone.length > 0)
      throw new Error(`${label}: a daemon exited (${gone[0].child.exitCode}) at ${n} of ${N}:\n${logTail(gone[0])}`);
    if (Date.now() > deadline) throw new Error(`${label}: only ${n} of ${N} backups after 30 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await Promise.all(daemons.map((d) => (alive(d) ? (d.child.kill('SIGTERM'), d.exited) : d.exited)));
  const rows = await q(
    stateUrl,
    `select target, pid, status, attempt, started_at, finished_at, error from fapiao_guard.job_runs where ${ours} order by id`,
    [fireTime],
  );
  const ok = rows.filter((r) => r.status === 'succeeded');
  const work_ = ok.reduce((s, r) => s + (r.finished_at - r.started_at), 0) / 1000;
  const makespan =
    (Math.max(...ok.map((r) => r.finished_at.getTime())) - Math.min(...rows.map((r) => r.started_at.getTime()))) / 1000;
  const pids = daemons.map((d) => d.child.pid);
  const perDaemon = pids.map((pid) => maxConcurrent(rows.filter((r) => r.pid === pid && r.status !== 'skipped')));
  const perTarget = new Map();
  for (const r of ok) perTarget.set(r.target, (perTarget.get(r.target) ?? 0) + 1);
  const once = names.every((n) => perTarget.get(n) === 1);
  const lost = rows.filter((r) => r.status === 'interrupted');
  const redone = ok.filter((r) => r.attempt > 1).length;
  console.log(
    `\n${label}: ${N} targets, ${D} daemons × concurrency ${C} (load average at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  console.log(
    `  makespan ${makespan.toFixed(1)}s; ideal (work ${work_.toFixed(1)}s / ${D * C} slots${kill ? `, ${D - 1} daemons after the kill` : ''}) ${(work_ / (D * C)).toFixed(1)}s; ratio ${(makespan / (work_ / (D * C))).toFixed(2)}`,
  );
  console.log(
    `  runs per daemon ${pids.map((p) => ok.filter((r) => r.pid === p).length).join('/')}; most at once per daemon ${perDaemon.join('/')} (limit ${C}): ${Math.max(...perDaemon) <= C ? 'ok' : 'EXCEEDED'}`,
  );
  console.log(
    `  every fire time succeeded exactly once: ${once ? 'yes' : 'NO'} (${ok.length} succeeded rows for ${N} targets)`,
  );
  console.log(
    `  connections at most: ${peak.fleet} by the fleet (state and target databases), ${peak.all} on the whole server (limit ${max})`,
  );
  const lines = daemons.map((d) => (existsSync(d.log) ? readFileSync(d.log, 'utf8').split('\n').filter(Boolean) : []));
  const messages = new Map();
  for (const line of lines.flat()) {
    let msg = line;
    try {
      msg = JSON.parse(line).msg ?? line;
    } catch {
      // not JSON: counted as it is
    }
    messages.set(msg, (messages.get(msg) ?? 0) + 1);
  }
  console.log(
    `  daemon log lines at warn and above: ${lines.map((l) => l.length).join('/')}${[...messages].map(([m, n]) => `\n    ${n}× ${m.slice(0, 160)}`).join('')}`,
  );
  if (kill)
    console.log(
      `  SIGKILL of daemon pid ${killed.child.pid} half-way: ${lost.length} attempt(s) lost (${lost.filter((r) => r.pid === killed.child.pid).length} on it), ${redone} redone by the others as attempt 2+; none lost: ${ok.length === N ? 'yes' : 'NO'}`,
    );
  return { once, max: Math.max(...perDaemon) };
}

try {
  await setup();
  const a = await scenario('all-alive', false);
  const b = await scenario('sigkill', true);
  process.exitCode = a.once && b.once && a.max <= C && b.max <= C ? 0 : 1;
} finally {
  for (const name of [...names, template]) await q(admin, `drop database if exists ${name} with (force)`);
  rmSync(work, { recursive: true, force: true });
}
