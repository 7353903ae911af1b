// Benchmark: bare `pg_restore -j2` of a plain dump file vs our whole drill (CLI process: list,
// scratch database, download + verify + decrypt + zstd -d + spool, pg_restore -j2, row counts and
// checksums of every table, report) of the same backup, in one run. Goal: ≤ 1.25x.
// Usage: npm run build && node scripts/bench/drill.mjs
//   BENCH_INVOICES=2000000 (default)  BENCH_DB=fg_bench (reused when it has that many invoices)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { formatIdentityFile, generateIdentity } from '../../dist/src/crypto/index.js';
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
if ((await q(SERVER, `select 1 from pg_database where datname = '${stateDb}'`)).length === 0) await q(SERVER, `create database ${stateDb}`);

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
    drill: { jobs: Number(process.env.BENCH_DRILL_JOBS ?? 2), rtoObjective: '1h', reportDir: path.join(work, 'reports') },
  }),
);

await measure(process.execPath, [cli, 'init', '--config', config, '--log-level', 'warn']);
const backup = JSON.parse((await measure(process.execPath, [cli, 'backup', '--config', config, '--target', 'bench', '--json', '--log-level', 'warn'])).stdout);
const dumpObject = backup.objects.find((o) => o.name.startsWith('dump.'));
const stored = path.join(work, 'repo', 'backups', 'bench', backup.id, dumpObject.name);

// The same archive as a plain file for the bare restore, with the stock tools (not timed).
const plain = path.join(work, 'dump.pgc');
await sh(`age -d -i '${keyFile}' '${stored}' ${dumpObject.name.includes('.zst.') ? '| zstd -d -q' : ''} > '${plain}'`);

const bareDb = 'fg_bench_bare_restore';
await q(SERVER, `drop database if exists ${bareDb} with (force)`);
await q(SERVER, `create database ${bareDb} template template0`);
const bare = await measure('pg_restore', ['-j2', '--exit-on-error', '--no-owner', '--no-privileges', `--dbname=${dbUrl(bareDb)}`, plain]);
await q(SERVER, `drop database ${bareDb} with (force)`);

const drill = await measure(process.execPath, [cli, 'drill', 'latest', '--target', 'bench', '--json', '--config', config, '--log-level', 'warn']);
const report = JSON.parse(drill.stdout);
if (report.verdict !== 'pass') throw new Error(`the drill failed: ${report.cause}`);

const s = report.seconds;
console.log(`drill bench: ${invoices} invoices, database ${mib(await databaseSize(dbName))} MiB, stored dump ${mib(dumpObject.size)} MiB, node ${process.version}`);
console.log(`bare pg_restore -j2 (plain file)        ${bare.seconds.toFixed(2).padStart(7)} s`);
console.log(`fapiao-guard drill (whole CLI process)  ${drill.seconds.toFixed(2).padStart(7)} s   peak RSS ${((drill.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`);
console.log(`  of which: download+decrypt ${s.download.toFixed(2)} s · restore (incl. download) ${s.restore.toFixed(2)} s · checks ${s.checks.toFixed(2)} s · RTO ${s.total.toFixed(2)} s`);
console.log(`  checks: ${report.checks.length} (${report.checks.map((c) => c.name).join(', ')})`);
console.log(`ratio drill/bare: ${(drill.seconds / bare.seconds).toFixed(2)}x (goal ≤ 1.25x)`);
if (existsSync(plain)) rmSync(plain);
