// Benchmark: reconcile N local vs N upstream invoices (two PostgreSQL databases, default 10M each)
// with 100 planted differences of each kind; our bucket-digest drill-down vs a naive full key
// export-and-diff, each in its own process (time, rows transferred, peak RSS, exactness).
// Usage: npm run build && node scripts/bench/reconcile.mjs [--rows 10000000] [--rebuild] [--name suffix]
//        [--fields]: ours twice instead of ours vs naive: comparing key, day, total and status only,
//        then every detail field (金额, 税额, tax IDs, issue second) in the digests, to price the latter
//        env FAPIAO_GUARD_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const ROWS = Number(flag('--rows', '10000000'));
const SERVER = process.env.FAPIAO_GUARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = flag('--name', '');
const LOCAL = `fg_bench_rec_local${NAME ? `_${NAME}` : ''}`;
const UP = `fg_bench_rec_up${NAME ? `_${NAME}` : ''}`;
const DAYS = 90;
const END = '2026-11-27T16:00:00Z';
const TZ = 'Asia/Shanghai';
const WINDOW = { from: '2026-08-29', to: '2026-11-28', timezone: TZ };
const PER_KIND = 100;
const dbUrl = (name) => {
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  return u.toString();
};

async function withPg(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// ---------- data: generated in SQL, built once and reused ----------
const SCHEMA = `create table public.invoices (
  id bigint primary key, invoice_code varchar(12), invoice_number varchar(20) not null, issued_at timestamptz not null,
  seller_tax_id varchar(20) not null, buyer_tax_id varchar(20), amount numeric(14,2) not null, tax_amount numeric(14,2) not null,
  total_amount numeric(14,2) not null, status smallint not null default 0);
create table public.bench_planted (kind text, key text, cause text)`;

function batchSql(from, to) {
  return `insert into public.invoices
select i, case when i % 10 < 6 then null else '0' || lpad(((310000000 + i * 97) % 100000000000)::text, 11, '0') end,
  case when i % 10 < 6 then '2631' || '2' || lpad(i::text, 15, '0') else lpad((i % 100000000)::text, 8, '0') end,
  '${END}'::timestamptz - make_interval(secs => (i::bigint * 86400 * ${DAYS}) / ${ROWS}),
  '91310110666007217T', '9131' || lpad((i * 13 % 100000000000000)::text, 14, '0'),
  a, round(a * 0.13, 2), a + round(a * 0.13, 2),
  case when i % 97 = 0 then 2 when i % 89 = 0 then 3 else 0 end
from (select i, round((10 + (i * 2654435761 % 2000000) / 100.0)::numeric, 2) as a from generate_series(${from}, ${to - 1}) i) s`;
}

const KEY = `(case when coalesce(invoice_code, '') = '' then invoice_number else invoice_code || '-' || invoice_number end)`;
/** Disjoint victims spread over the table: kind k uses ids 1000 + j*step + k. */
const victims = (k) =>
  `select 1000 + j * ${Math.floor((ROWS - 2000) / PER_KIND)} + ${k} * 7 as id from generate_series(0, ${PER_KIND - 1}) j`;

async function build() {
  const exists = await withPg(
    SERVER,
    async (c) =>
      (await c.query(`select shobj_description(oid, 'pg_database') as d from pg_database where datname = $1`, [UP]))
        .rows[0]?.d,
  );
  if (exists === `fapiao-guard bench rows=${ROWS}` && !args.includes('--rebuild')) return false;
  console.error(`building ${ROWS} invoices in ${LOCAL} and ${UP} (once; reused afterwards)…`);
  const t0 = Date.now();
  await withPg(SERVER, async (c) => {
    for (const d of [UP, LOCAL]) await c.query(`drop database if exists ${d} with (force)`);
    await c.query(`create database ${LOCAL}`);
  });
  await withPg(dbUrl(LOCAL), async (c) => {
    await c.query(`set synchronous_commit = off; set maintenance_work_mem = '1GB'; set work_mem = '256MB'`);
    await c.query(SCHEMA);
    for (let from = 1; from <= ROWS; from += 1_000_000) {
      await c.query(batchSql(from, Math.min(from + 1_000_000, ROWS + 1)));
      console.error(`  ${Math.min(from + 999_999, ROWS)} rows (${((Date.now() - t0) / 1000).toFixed(0)}s)`);
    }
    await c.query(`create index invoices_issued_at on public.invoices (issued_at)`);
    await c.query(`create index invoices_key on public.invoices (coalesce(invoice_code, ''), invoice_number)`);
    await c.query(`vacuum analyze public.invoices`);
  });
  await withPg(SERVER, (c) => c.query(`create database ${UP} template ${LOCAL}`));
  // plant 100 of each kind, and record the expected findings in the local database
  const plantedSql = [];
  await withPg(dbUrl(UP), async (up) => {
    await up.query(
      `insert into public.bench_planted select 'extra', ${KEY}, null from public.invoices where id in (${victims(0)})`,
    );
    await up.query(`delete from public.invoices where id in (${victims(0)})`);
    await up.query(
      `insert into public.bench_planted select 'amount_mismatch', ${KEY}, null from public.invoices where id in (${victims(2)})`,
    );
    await up.query(`update public.invoices set total_amount = total_amount + 0.01 where id in (${victims(2)})`);
    await up.query(
      `insert into public.bench_planted select 'status_mismatch', ${KEY}, null from public.invoices where id in (${victims(3)}) and status = 0`,
    );
    await up.query(`update public.invoices set status = 2 where id in (${victims(3)}) and status = 0`);
    await up.query(
      `insert into public.bench_planted select 'duplicate', ${KEY}, null from public.invoices where id in (${victims(4)})`,
    );
    await up.query(
      `insert into public.invoices select id + ${ROWS * 10}, invoice_code, invoice_number, issued_at, seller_tax_id, buyer_tax_id, amount, tax_amount, total_amount, status from public.invoices where id in (${victims(4)})`,
    );
    // typos: the 数电 number's 6th digit differs upstream → a missing and an extra, paired
    await up.query(
      `insert into public.bench_planted select 'extra', ${KEY}, 'probable_typo' from public.invoices where id in (${victims(5)}) and invoice_code is null`,
    );
    await up.query(
      `update public.invoices set invoice_number = overlay(invoice_number placing '9' from 6 for 1) where id in (${victims(5)}) and invoice_code is null`,
    );
    await up.query(
      `insert into public.bench_planted select 'missing', ${KEY}, 'probable_typo' from public.invoices where id in (${victims(5)}) and invoice_code is null`,
    );
    plantedSql.push(...(await up.query(`select kind, key, cause from public.bench_planted`)).rows);
    await up.query('truncate public.bench_planted');
    await up.query('vacuum analyze public.invoices');
  });
  await withPg(dbUrl(LOCAL), async (lo) => {
    await lo.query(
      `insert into public.bench_planted select 'missing', ${KEY}, null from public.invoices where id in (${victims(1)})`,
    );
    await lo.query(`delete from public.invoices where id in (${victims(1)})`);
    await lo.query(
      `insert into public.bench_planted select 'date_mismatch', ${KEY}, null from public.invoices where id in (${victims(6)})`,
    );
    await lo.query(`update public.invoices set issued_at = issued_at + interval '1 day' where id in (${victims(6)})`);
    for (const p of plantedSql)
      await lo.query(`insert into public.bench_planted values ($1, $2, $3)`, [p.kind, p.key, p.cause]);
    await lo.query(`vacuum analyze public.invoices`);
  });
  await withPg(SERVER, (c) => c.query(`comment on database ${UP} is 'fapiao-guard bench rows=${ROWS}'`));
  console.error(`built in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  return true;
}

// ---------- the two contenders, each in its own process ----------
async function ours(fieldsMode) {
  const root = new URL('../../dist/src/reconcile/', import.meta.url);
  const { PgSource } = await import(new URL('sources/pg-source.js', root));
  const { compareSources } = await import(new URL('engine/engine.js', root));
  const { classify } = await import(new URL('engine/classify.js', root));
  const columns = {
    code: 'invoice_code',
    number: 'invoice_number',
    issuedAt: 'issued_at',
    total: 'total_amount',
    status: 'status',
    sellerTaxId: 'seller_tax_id',
  };
  // --fields: every detail column mapped; `none` compares key, day, total and status only
  if (fieldsMode) Object.assign(columns, { buyerTaxId: 'buyer_tax_id', amount: 'amount', tax: 'tax_amount' });
  const statusMap = { 0: 'valid', 2: 'voided', 3: 'red_flushed' };
  const t0 = performance.now();
  const [up, lo] = await Promise.all(
    [UP, LOCAL].map((d) =>
      PgSource.open({ url: dbUrl(d), table: 'public.invoices', columns, statusMap, timezone: TZ }),
    ),
  );
  const result = await compareSources(up, lo, {
    window: WINDOW,
    partition: false,
    limits: { listLimit: 2000, maxPrefix: 8 },
    ...(fieldsMode === 'none' ? { fields: [] } : {}),
  });
  const findings = classify(result.diffs, {
    now: new Date('2026-11-28T12:00:00Z'),
    syncLagSeconds: 7200,
    fields: result.fields,
  });
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all([up.close(), lo.close()]);
  const s = result.stats;
  return {
    seconds,
    rowsTransferred: up.rowsTransferred + lo.rowsTransferred,
    digestGroups: up.digestRows + lo.digestRows,
    queries: up.queries + lo.queries,
    method: `${s.hashMethod}, ${s.strategy}${s.strategy === 'slots' ? ` (${s.differingSlots} differing minute slots)` : ''}`,
    findings: findings.map((f) => [f.kind, f.key, f.cause ?? null]),
    fields: result.fields,
  };
}

/** The naive way: export every key with its total and status from both sides, diff in memory. */
async function naive() {
  const t0 = performance.now();
  const exportSql = `copy (select ${KEY}, round(total_amount * 100)::bigint, status from public.invoices
    where issued_at >= '${WINDOW.from}'::timestamp at time zone '${TZ}' and issued_at < '2026-11-29'::timestamp at time zone '${TZ}') to stdout`;
  const read = (db, onRow) =>
    new Promise((resolve, reject) => {
      const child = spawn('psql', ['-X', '-q', '-d', dbUrl(db), '-c', exportSql], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const rl = createInterface({ input: child.stdout });
      let n = 0;
      rl.on('line', (line) => {
        n++;
        onRow(line);
      });
      child.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`psql exited ${code}`))));
    });
  const upstream = new Map();
  const dupUp = new Set();
  const nUp = await read(UP, (line) => {
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    if (upstream.has(key)) dupUp.add(key);
    upstream.set(key, line.slice(tab + 1));
  });
  const findings = [];
  const seen = new Set();
  const nLo = await read(LOCAL, (line) => {
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    const rest = line.slice(tab + 1);
    seen.add(key);
    const u = upstream.get(key);
    if (u === undefined) findings.push(['extra', key]);
    else if (u !== rest)
      findings.push([u.split('\t')[0] !== rest.split('\t')[0] ? 'amount_mismatch' : 'status_mismatch', key]);
  });
  for (const key of upstream.keys()) if (!seen.has(key)) findings.push(['missing', key]);
  for (const key of dupUp) findings.push(['duplicate', key]);
  return { seconds: (performance.now() - t0) / 1000, rowsTransferred: nUp + nLo, findings };
}

function runChild(mode) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=8192',
        fileURLToPath(import.meta.url),
        '--child',
        mode,
        '--rows',
        String(ROWS),
        '--name',
        NAME,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${mode} exited ${code}`))));
  });
}

if (args.includes('--child')) {
  const mode = flag('--child');
  const result =
    mode === 'naive' ? await naive() : await ours(mode === 'ours' ? undefined : mode.slice('ours-'.length));
  result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify(result));
} else {
  await build();
  const planted = await withPg(
    dbUrl(LOCAL),
    async (c) => (await c.query('select kind, key, cause from public.bench_planted')).rows,
  );
  const expected = planted.map((p) => `${p.kind} ${p.key} ${p.cause ?? ''}`).sort();
  if (args.includes('--fields')) {
    const base = await runChild('ours-none');
    const all = await runChild('ours-all');
    const same = (r) =>
      JSON.stringify(r.findings.map(([k, key, c]) => `${k} ${key} ${c ?? ''}`).sort()) === JSON.stringify(expected);
    console.log(
      `reconcile fields bench: ${ROWS.toLocaleString('en')} invoices per side, ${planted.length} planted differences (none in the detail fields)`,
    );
    for (const [label, r] of [
      ['key, day, total, status', base],
      [`+ ${all.fields.join(', ')}`, all],
    ]) {
      console.log(
        `  ${label}: ${r.seconds.toFixed(1)}s, ${r.method}, rows transferred ${r.rowsTransferred.toLocaleString('en')}, peak RSS ${r.peakRssMB} MB, exact ${same(r) ? 'yes' : 'NO'}`,
      );
    }
    console.log(
      `  every detail field costs ${(all.seconds / base.seconds).toFixed(2)}x the time of key, day, total and status`,
    );
    process.exit(same(base) && same(all) ? 0 : 1);
  }
  const a = await runChild('ours');
  const b = await runChild('naive');
  const oursSet = a.findings.map(([k, key, c]) => `${k} ${key} ${c ?? ''}`).sort();
  const exact = JSON.stringify(oursSet) === JSON.stringify(expected);
  const missed = expected.filter((e) => !oursSet.includes(e)).length;
  const spurious = oursSet.filter((e) => !expected.includes(e)).length;
  const kinds = (list) =>
    Object.entries(list.reduce((m, f) => ((m[f[0]] = (m[f[0]] ?? 0) + 1), m), {}))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  console.log(
    `reconcile bench: ${ROWS.toLocaleString('en')} local vs ${ROWS.toLocaleString('en')} upstream invoices, ${DAYS} days, ${planted.length} planted differences (${PER_KIND} per kind)`,
  );
  console.log(
    `  ours  (digests + drill-down): ${a.seconds.toFixed(1)}s, rows transferred ${a.rowsTransferred.toLocaleString('en')} (+ ${a.digestGroups.toLocaleString('en')} digest groups, ${a.queries} queries), peak RSS ${a.peakRssMB} MB`,
  );
  console.log(`        hash method ${a.method}`);
  console.log(
    `  naive (export keys + diff):   ${b.seconds.toFixed(1)}s, rows transferred ${b.rowsTransferred.toLocaleString('en')}, peak RSS ${b.peakRssMB} MB`,
  );
  console.log(
    `  speed-up ${(b.seconds / a.seconds).toFixed(1)}x; rows transferred ${(b.rowsTransferred / Math.max(1, a.rowsTransferred)).toFixed(0)}x fewer`,
  );
  console.log(`  ours found: ${kinds(a.findings)}`);
  console.log(
    `  naive found: ${kinds(b.findings)} (no causes, no cross-day matching: a re-dated invoice is a missing plus an extra)`,
  );
  console.log(`  exact: ${exact ? 'yes' : 'NO'} (${expected.length} expected, ${missed} missed, ${spurious} spurious)`);
  console.log(
    `  goals: >=10x ${b.seconds / a.seconds >= 10 ? 'met' : 'NOT met'}, <200 MB ${a.peakRssMB < 200 ? 'met' : 'NOT met'}`,
  );
  process.exitCode = exact ? 0 : 1;
}
