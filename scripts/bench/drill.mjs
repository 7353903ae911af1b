// Benchmark: bare `pg_restore -j2` of a plain dump file vs our whole drill (CLI process: list,
// scratch database, download + verify + decrypt + zstd -d + spool, pg_restore -j2, row counts and
// checksums of every table, report) of the same backup, in one run. Goal: ≤ 1.25x.
// Usage: npm run build && node scripts/bench/drill.mjs
//   BENCH_ROUNDS=3 (default; interleaved, medians)
//   BENCH_INVOICES=2000000 (default)  BENCH_DB=fg_bench (reused when it has that many invoices)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { formatIdentityFile, generateIdentity } from '../../dist/src/core/crypto/index.js';
import { SERVER, databaseSize, dbUrl, ensureBenchDatabase } from './bench-db.mjs';
import { measure, mib } from './measure.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const invoices = Number(process.env.BENCH_INVOICES ?? 2_000_000);
const dbName = process.env.BENCH_DB ?? 'fg_bench';
const work = path.join(root, '.bench', 'drill');
const cli = path.join(root, 'bin', 'fapiao-guard.js');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

async function q(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

function sh(script) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}`))));
  });
}

const { url } = await ensureBenchDatabase(dbName, invoices);
const stateDb = 'fg_bench_state';
if ((await q(SERVER, `select 1 from pg_database where datname = '${stateDb}'`)).length === 0)
  await q(SERVER, `create database ${stateDb}`);

const { identity, recipient } = generateIdentity();
const keyFile = path.join(work, 'age.key');
writeFileSync(keyFile, formatIdentityFile(identity), { mode: 0o600 });
const config = path.join(work, 'fapiao-guard.yaml');
writeFileSync(
  config,
  JSON.stringify({
    repository: { url: pathToFileURL(path.join(work, 'repo')).href },
    encryption: { recipients: [recipient], identityFile: keyFile },
    targets: [{ name: 'bench', url, verifyTables: ['public.invoices', 'public.invoice_items'] }],
    state: { url: dbUrl(stateDb) },
    drill: {
      jobs: Number(process.env.BENCH_DRILL_JOBS ?? 2),
      rtoObjective: '1h',
      reportDir: path.join(work, 'reports'),
    },
    ...(process.env.BENCH_SPOOL_DIR ? { restore: { spoolDir: process.env.BENCH_SPOOL_DIR } } : {}),
  }),
);

await measure(process.execPath, [cli, 'init', '--config', config, '--log-level', 'warn']);
const backup = JSON.parse(
  (
    await measure(process.execPath, [
      cli,
      'backup',
      '--config',
      config,
      '--target',
      'bench',
      '--json',
      '--log-level',
      'warn',
    ])
  ).stdout,
);
const dumpObject = backup.objects.find((o) => o.name.startsWith('dump.'));
const stored = path.join(work, 'repo', 'backups', 'bench', backup.id, dumpObject.name);

// The same archive as a plain file for the bare restore, with the stock tools (not timed).
const plain = path.join(work, 'dump.pgc');
await sh(`age -d -i '${keyFile}' '${stored}' ${dumpObject.name.includes('.zst.') ? '| zstd -d -q' : ''} > '${plain}'`);

// Interleaved rounds (bare, drill, bare, drill, ...) after a CHECKPOINT each, so neither side
// inherits the other's dirty pages or the order of runs; the ratio is of the medians.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const bareDb = 'fg_bench_bare_restore';
const bares = [];
const drills = [];
for (let round = 1; round <= rounds; round++) {
  await q(SERVER, `drop database if exists ${bareDb} with (force)`);
  await q(SERVER, `create database ${bareDb} template template0`);
  await q(SERVER, 'checkpoint');
  const bare = await measure('pg_restore', [
    '-j2',
    '--exit-on-error',
    '--no-owner',
    '--no-privileges',
    `--dbname=${dbUrl(bareDb)}`,
    plain,
  ]);
  await q(SERVER, `drop database ${bareDb} with (force)`);
  await q(SERVER, 'checkpoint');
  const run = await measure(process.execPath, [
    cli,
    'drill',
    'latest',
    '--target',
    'bench',
    '--json',
    '--config',
    config,
    '--log-level',
    'warn',
  ]);
  const report = JSON.parse(run.stdout);
  if (report.verdict !== 'pass') throw new Error(`the drill failed: ${report.cause}`);
  bares.push(bare.seconds);
  drills.push({ seconds: run.seconds, rssMiB: (run.maxRssKiB ?? 0) / 1024, report });
  const s = report.seconds;
  console.log(
    `round ${round}: bare ${bare.seconds.toFixed(2)} s · drill ${run.seconds.toFixed(2)} s (RTO ${s.total.toFixed(2)}: download+decrypt ${s.download.toFixed(2)}, restore ${s.restore.toFixed(2)}, checks after it ${s.checks.toFixed(2)}, ${report.tablesCheckedDuringRestore} tables checked during it) · ${(run.seconds / bare.seconds).toFixed(2)}x`,
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bareMedian = median(bares);
const drillMedian = median(drills.map((d) => d.seconds));
const last = drills.at(-1).report;
console.log(
  `drill bench: ${invoices} invoices, database ${mib(await databaseSize(dbName))} MiB, stored dump ${mib(dumpObject.size)} MiB, node ${process.version}, ${rounds} rounds`,
);
console.log(`bare pg_restore -j2 (plain file)        ${bareMedian.toFixed(2).padStart(7)} s median`);
console.log(
  `fapiao-guard drill (whole CLI process)  ${drillMedian.toFixed(2).padStart(7)} s median   peak RSS ${Math.max(...drills.map((d) => d.rssMiB)).toFixed(0)} MiB`,
);
console.log(`  checks: ${last.checks.length} (${last.checks.map((c) => c.name).join(', ')})`);
const rtoMedian = median(drills.map((d) => d.report.seconds.total));
console.log(
  `fapiao-guard drill RTO (its report: download+decrypt+restore+checks) ${rtoMedian.toFixed(2)} s median · ${(rtoMedian / bareMedian).toFixed(2)}x`,
);
console.log(
  `ratio drill/bare (whole process, incl. start, scratch create/drop, reports): ${(drillMedian / bareMedian).toFixed(2)}x (goal ≤ 1.25x)`,
);
if (existsSync(plain)) rmSync(plain);
