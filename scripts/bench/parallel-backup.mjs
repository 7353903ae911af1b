// Benchmark: parallel backups (targets[].jobs: 2, pg_dump --format=directory --jobs=2, one object
// per file) against today's single-stream backup (jobs: 1) and bare `pg_dump -Fd -j 2`, on one
// database in one run: an invoice table partitioned by month (24 partitions) plus its line items.
// A third run compresses inside pg_dump's workers (compression: pg_dump:1). Also the restores of both backups with --jobs 2 (single stream: spooled to a file first;
// parallel: table files decrypted one per job, just before pg_restore loads them). Prints seconds, stored bytes,
// peak RSS, the parallel backup's peak spool, and ratios.
// Usage: npm run build && node scripts/bench/parallel-backup.mjs
//   BENCH_INVOICES=400000 (default; 2000000 is the size)  BENCH_JOBS=2  BENCH_DB=fg_bench_par
//   (dropped at the end unless BENCH_KEEP=1)  BENCH_RESTORE=0 skips the restores.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { formatIdentityFile, generateIdentity } from '../../dist/src/core/crypto/index.js';
import { SERVER, databaseSize, dbUrl, q } from './bench-db.mjs';
import { measure, mib } from './measure.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const invoices = Number(process.env.BENCH_INVOICES ?? 400_000);
const jobs = Number(process.env.BENCH_JOBS ?? 2);
const dbName = process.env.BENCH_DB ?? 'fg_bench_par';
const work = path.join(root, '.bench', 'parallel-backup');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** 24 monthly partitions of invoices (2025-01 … 2026-12) and 1-3 line items per invoice, deterministic. */
async function ensureDatabase() {
  const exists = (await q(SERVER, 'select 1 from pg_database where datname = $1', [dbName])).length > 0;
  if (exists) {
    const rows = await q(dbUrl(dbName), 'select count(*)::bigint as n from public.invoices').catch(() => [{ n: -1 }]);
    if (Number(rows[0].n) === invoices) return;
    await q(SERVER, `drop database ${dbName} with (force)`);
  }
  await q(SERVER, `create database ${dbName}`);
  const c = new pg.Client({ connectionString: dbUrl(dbName) });
  await c.connect();
  const started = Date.now();
  await c.query(`create table public.invoices (
    id bigint not null, invoice_code varchar(12), invoice_number varchar(20) not null, kind text not null,
    issued_at timestamptz not null, seller_tax_id varchar(20) not null, seller_name text not null, buyer_name text not null,
    amount numeric(14,2) not null, tax_amount numeric(14,2) not null, total_amount numeric(14,2) not null,
    status smallint not null default 0, remarks text, primary key (id, issued_at)) partition by range (issued_at)`);
  for (let m = 0; m < 24; m++) {
    const from = `${2025 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-01 00:00+08`;
    const to = `${2025 + Math.floor((m + 1) / 12)}-${String(((m + 1) % 12) + 1).padStart(2, '0')}-01 00:00+08`;
    await c.query(
      `create table public.invoices_${2025 + Math.floor(m / 12)}_${String((m % 12) + 1).padStart(2, '0')} partition of public.invoices for values from ('${from}') to ('${to}')`,
    );
  }
  await c.query(`create table public.invoice_items (invoice_id bigint not null, line_no int not null, item_name text not null,
    tax_code varchar(19) not null, quantity numeric(14,4) not null, unit_price numeric(16,6) not null, amount numeric(14,2) not null,
    primary key (invoice_id, line_no))`);
  const h = (salt) => `((i * 2654435761 + ${salt}) % 1000003)`;
  for (let from = 1; from <= invoices; from += 100_000) {
    const to = Math.min(from + 100_000, invoices + 1);
    await c.query(`insert into public.invoices
      select i, case when ${h(1)} % 10 < 6 then null else lpad((${h(2)} * 97 % 100000000000)::text, 12, '0') end, lpad(i::text, 20, '0'),
        (array['digital','special','ordinary'])[1 + ${h(3)} % 3],
        timestamptz '2025-01-01 00:00+08' + make_interval(secs => ((i::bigint - 1) * 730 * 86400 / ${invoices})::double precision),
        (array['91310110666007217T','91110000600037341L','91440300MA5F1234XC'])[1 + ${h(4)} % 3],
        (array['上海云杉信息科技有限公司','北京华联商贸有限公司','深圳前海数智供应链有限公司'])[1 + ${h(4)} % 3],
        (array['招商银行股份有限公司深圳分行','美团科技有限公司','京东世纪贸易有限公司','个人'])[1 + ${h(5)} % 4],
        round((10 + ${h(6)} * 37 % 2000000 / 100.0)::numeric, 2), round((${h(6)} * 37 % 2000000 / 1000.0)::numeric, 2),
        round((10 + ${h(6)} * 37 % 2000000 / 90.0)::numeric, 2), (${h(7)} % 4)::smallint,
        case when ${h(8)} % 5 = 0 then '项目编号 P' || (${h(8)} % 9000 + 1000) else null end
      from generate_series(${from}, ${to - 1}) as i`);
    await c.query(`insert into public.invoice_items
      select i, n, (array['*信息技术服务*软件维护费','*现代服务*咨询服务费','*纸制品*复印纸','*运输服务*国内道路货物运输服务'])[1 + (i + n) % 4],
        (array['3040201990000000000','3040602000000000000','1060101010000000000'])[1 + (i + n) % 3],
        1 + (i * n) % 20, round((${h(9)} / 7.0)::numeric, 6), round((${h(9)} / 3.0)::numeric, 2)
      from generate_series(${from}, ${to - 1}) as i, generate_series(1, 1 + (i % 3)::int) as n`);
  }
  await c.query('analyze');
  await c.end();
  process.stderr.write(`built ${dbName}: ${invoices} invoices in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const step = (what) => process.stderr.write(`${new Date().toISOString()} load ${load()}: ${what}\n`);
step('start');
await ensureDatabase();
const url = dbUrl(dbName);
const { identity, recipient } = generateIdentity();
writeFileSync(path.join(work, 'age.key'), formatIdentityFile(identity), { mode: 0o600 });
const cli = path.join(root, 'bin', 'fapiao-guard.js');

function writeConfig(name, targetJobs, compression = 'zstd:1') {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      repository: { url: pathToFileURL(path.join(work, `repo-${name}`)).href },
      encryption: { recipients: [recipient], identityFile: path.join(work, 'age.key') },
      targets: [{ name: 'bench', url, verifyTables: ['public.invoices', 'public.invoice_items'], jobs: targetJobs }],
      backup: { compression },
      restore: { spoolDir: path.join(work, 'spool') },
    }),
  );
  return file;
}

async function backup(config) {
  await measure(process.execPath, [cli, 'init', '--config', config, '--log-level', 'warn']);
  const run = await measure(process.execPath, [
    cli,
    'backup',
    '--config',
    config,
    '--target',
    'bench',
    '--json',
    '--log-level',
    'warn',
  ]);
  const out = JSON.parse(run.stdout);
  return { ...run, stored: out.storedBytes, objects: out.objects.length, peakSpool: out.peakSpool, id: out.id };
}

async function restore(config, id, label) {
  const to = `${dbName}_r`;
  await q(SERVER, `drop database if exists ${to} with (force)`);
  await q(SERVER, `create database ${to}`);
  try {
    const run = await measure(process.execPath, [
      cli,
      'restore',
      id,
      '--config',
      config,
      '--target',
      'bench',
      '--to',
      dbUrl(to),
      '--jobs',
      String(jobs),
      '--log-level',
      'warn',
    ]);
    return { name: label, seconds: run.seconds, rss: run.maxRssKiB };
  } finally {
    await q(SERVER, `drop database if exists ${to} with (force)`);
  }
}

const results = [];
step('bare pg_dump');
const bareDir = path.join(work, 'bare');
const bare = await measure('sh', [
  '-c',
  `pg_dump -Fd -j ${jobs} -f '${bareDir}' -d '${url}' && du -sb '${bareDir}' | cut -f1`,
]);
results.push({
  name: `bare pg_dump -Fd -j ${jobs} (gzip, unencrypted, local disk)`,
  seconds: bare.seconds,
  stored: Number(bare.stdout.trim()),
  rss: bare.maxRssKiB,
});
rmSync(bareDir, { recursive: true, force: true });
step('backup jobs: 1');
const singleCfg = writeConfig('single', 1);
const single = await backup(singleCfg);
results.push({
  name: 'fapiao-guard backup, jobs: 1 (one stream, today)',
  seconds: single.seconds,
  stored: single.stored,
  rss: single.maxRssKiB,
});
step(`backup jobs: ${jobs}, zstd:1`);
const parallelCfg = writeConfig('parallel', jobs);
const parallel = await backup(parallelCfg);
results.push({
  name: `fapiao-guard backup, jobs: ${jobs} (directory, ${parallel.objects} objects, zstd:1 per file)`,
  seconds: parallel.seconds,
  stored: parallel.stored,
  rss: parallel.maxRssKiB,
  spool: parallel.peakSpool,
});
// compression inside pg_dump's workers (gzip level 1): parallel compression, compressed spool files, no zstd per file
step(`backup jobs: ${jobs}, pg_dump:1`);
const gzipCfg = writeConfig('parallel-gzip', jobs, 'pg_dump:1');
const gzip = await backup(gzipCfg);
results.push({
  name: `fapiao-guard backup, jobs: ${jobs}, compression pg_dump:1 (gzip in the workers)`,
  seconds: gzip.seconds,
  stored: gzip.stored,
  rss: gzip.maxRssKiB,
  spool: gzip.peakSpool,
});

const restores = [];
if (process.env.BENCH_RESTORE !== '0') {
  restores.push(
    await restore(
      singleCfg,
      single.id,
      `restore --jobs ${jobs} of the jobs: 1 backup (archive spooled to a file first)`,
    ),
  );
  step('restores');
  restores.push(
    await restore(
      parallelCfg,
      parallel.id,
      `restore --jobs ${jobs} of the jobs: ${jobs} zstd:1 backup (table files decrypted and zstd -d one per job)`,
    ),
  );
  restores.push(
    await restore(
      gzipCfg,
      gzip.id,
      `restore --jobs ${jobs} of the jobs: ${jobs} pg_dump:1 backup (table files decrypted one per job, pg_restore gunzips)`,
    ),
  );
}
step('done');

console.log(
  `database ${dbName}: ${invoices} invoices (24 monthly partitions) + line items, ${mib(await databaseSize(dbName))} MiB on disk; ${jobs} jobs; node ${process.version}; ${new Date().toISOString()}`,
);
console.log('| run | seconds | vs bare | vs jobs: 1 | stored MiB | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(2)} | ${(r.seconds / bare.seconds).toFixed(2)}x | ${(r.seconds / single.seconds).toFixed(2)}x | ${mib(r.stored)} | ${r.rss ? (r.rss / 1024).toFixed(0) : 'n/a'} |`,
  );
}
console.log('');
for (const r of results.filter((x) => x.spool))
  console.log(`${r.name}: peak spool ${mib(r.spool.bytes)} MiB in ${r.spool.files} files`);
if (restores.length > 0) {
  console.log('\n| restore | seconds | vs the jobs: 1 backup | peak RSS MiB |');
  console.log('|---|---:|---:|---:|');
  for (const r of restores)
    console.log(
      `| ${r.name} | ${r.seconds.toFixed(2)} | ${(r.seconds / restores[0].seconds).toFixed(2)}x | ${r.rss ? (r.rss / 1024).toFixed(0) : 'n/a'} |`,
    );
}
console.log(`\nload average at the end: ${load()}`);
rmSync(work, { recursive: true, force: true });
if (process.env.BENCH_KEEP !== '1') await q(SERVER, `drop database if exists ${dbName} with (force)`);
