// Benchmark: `fapiao-guard evidence` for a month of daily reconciliations and drills.
// One real backup, drill and reconcile run (CLI) of BENCH_INVOICES sample invoices with the planted
// differences of the demo export; then 30 days of them: each day of November 2026 gets a copy of
// the reconcile run (its three reports and its row in the state DB), of the drill (report object in
// the repository, HTML, state row) and of the backup's manifest (re-signed under the day's id).
// Measures the CLI process that writes the pack (node start included), then `evidence verify`.
// Usage: npm run build && node scripts/bench/evidence.mjs     (BENCH_INVOICES=30000 default)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { formatIdentityFile, generateIdentity } from '../../dist/src/core/crypto/index.js';
import { sampleDataStatements } from '../../dist/src/demo/sample-data.js';
import { generateTaxExport } from '../../dist/src/demo/tax-export.js';
import { makeBackupId } from '../../dist/src/core/run-id.js';
import { manifestBytes } from '../../dist/src/core/repository/manifest.js';
import { loadSigningKey, signatureText } from '../../dist/src/core/signing/signing-keys.js';
import { SERVER, dbUrl, q } from './bench-db.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const invoices = Number(process.env.BENCH_INVOICES ?? 30_000);
const work = path.join(root, '.bench', 'evidence');
const cli = path.join(root, 'bin', 'fapiao-guard.js');
const suffix = randomBytes(3).toString('hex');
const [localDb, stateDb] = [`fg_bench_ev_${suffix}`, `fg_bench_ev_state_${suffix}`];

function run(args, { ok = [0] } = {}) {
  const started = process.hrtime.bigint();
  const res = spawnSync(process.execPath, [cli, ...args, '--config', path.join(work, 'fapiao-guard.yaml')], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, FAPIAO_GUARD_LOG_LEVEL: 'warn' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!ok.includes(res.status)) throw new Error(`fapiao-guard ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return { ...res, seconds };
}

rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'exports'), { recursive: true });
try {
  await q(SERVER, `create database ${localDb}`);
  await q(SERVER, `create database ${stateDb}`);
  const c = new pg.Client({ connectionString: dbUrl(localDb) });
  await c.connect();
  for (const sql of sampleDataStatements({ invoices, days: 30, endAt: '2026-11-30T15:00:00Z' })) await c.query(sql);
  await c.end();
  const { identity, recipient } = generateIdentity();
  writeFileSync(path.join(work, 'age.key'), formatIdentityFile(identity), { mode: 0o600 });
  spawnSync(process.execPath, [cli, 'keygen', '--signing', '--out', path.join(work, 'signing.key')], {
    encoding: 'utf8',
  });
  const config = {
    timezone: 'Asia/Shanghai',
    repository: { url: pathToFileURL(path.join(work, 'repo')).href },
    encryption: { recipients: [recipient], identityFile: path.join(work, 'age.key') },
    targets: [{ name: 'invoices', url: dbUrl(localDb), verifyTables: ['public.invoices', 'public.invoice_items'] }],
    state: { url: dbUrl(stateDb) },
    drill: { reportDir: 'drill-reports' },
    reconcile: { upstream: { type: 'file', path: 'exports/*.csv' }, reportDir: 'reports' },
    signing: { keyFile: path.join(work, 'signing.key'), publicKeyFile: path.join(work, 'signing.key.pub') },
  };
  writeFileSync(path.join(work, 'fapiao-guard.yaml'), JSON.stringify(config, null, 2));
  await generateTaxExport({
    sourceUrl: dbUrl(localDb),
    out: path.join(work, 'exports', 'november.csv'),
    timezone: 'Asia/Shanghai',
  });
  run(['init']);
  run(['backup']);
  run(['drill']);
  run(['reconcile', '--from', '2026-11-01', '--to', '2026-11-30'], { ok: [0, 1] });

  // 30 days of them
  const key = await loadSigningKey(config.signing.keyFile);
  const [realRun] = await q(dbUrl(stateDb), 'select id from fapiao_guard.reconcile_runs');
  const [realDrill] = await q(dbUrl(stateDb), 'select drill_id, report_object, html_report from fapiao_guard.drills');
  const backupDir = path.join(work, 'repo', 'backups', 'invoices');
  const [realBackup] = readdirSync(backupDir);
  const manifest = JSON.parse(readFileSync(path.join(backupDir, realBackup, 'manifest.json'), 'utf8'));
  for (let d = 1; d <= 30; d++) {
    const at = (hour) => new Date(Date.UTC(2026, 10, d, hour - 8)); // hour:00 +08:00 on 2026-11-d
    const [runId, drillId, backupId] = [makeBackupId(at(3)), makeBackupId(at(4)), makeBackupId(at(2))];
    for (const ext of ['json', 'csv', 'html'])
      copyFileSync(
        path.join(work, 'reports', `reconcile-${realRun.id}.${ext}`),
        path.join(work, 'reports', `reconcile-${runId}.${ext}`),
      );
    await q(
      dbUrl(stateDb),
      `insert into fapiao_guard.reconcile_runs select $1, scope, $2, $2::timestamptz + interval '20 seconds', window_from, window_to, upstream, local, summary, ok from fapiao_guard.reconcile_runs where id = $3`,
      [runId, at(3), realRun.id],
    );
    const object = `drills/invoices/${drillId}.json`;
    copyFileSync(path.join(work, 'repo', realDrill.report_object), path.join(work, 'repo', object));
    const html = path.join(path.dirname(realDrill.html_report), `drill-invoices-${drillId}.html`);
    copyFileSync(realDrill.html_report, html);
    await q(
      dbUrl(stateDb),
      `insert into fapiao_guard.drills (drill_id, target, backup_id, status, started_at, finished_at, host, pid, scratch_database, kept, rto_seconds, rpo_seconds, seconds, cause, report_object, html_report, report)
      select $1, target, backup_id, status, $2, $2::timestamptz + interval '1 minute', host, pid, scratch_database, kept, rto_seconds, rpo_seconds, seconds, cause, $3, $4, report from fapiao_guard.drills where drill_id = $5`,
      [drillId, at(4), object, html, realDrill.drill_id],
    );
    mkdirSync(path.join(backupDir, backupId));
    const copy = {
      ...manifest,
      id: backupId,
      startedAt: at(2).toISOString(),
      finishedAt: new Date(at(2).getTime() + 60_000).toISOString(),
    };
    writeFileSync(path.join(backupDir, backupId, 'manifest.json.sig'), signatureText(manifestBytes(copy), key));
    writeFileSync(path.join(backupDir, backupId, 'manifest.json'), manifestBytes(copy));
  }

  const out = path.join(work, 'november.zip');
  const built = run(['evidence', '--from', '2026-11-01', '--to', '2026-11-30', '--out', out, '--json']);
  const result = JSON.parse(built.stdout);
  const verified = run(['evidence', 'verify', out, '--key', config.signing.publicKeyFile]);
  const reportBytes = readdirSync(path.join(work, 'reports')).reduce(
    (s, f) => s + statSync(path.join(work, 'reports', f)).size,
    0,
  );
  console.log(
    `evidence pack for 30 days (30 reconcile runs x 3 reports, 30 drills, 30 manifests; ${invoices} invoices): ${result.files} files`,
  );
  console.log(
    `  build:  ${built.seconds.toFixed(2)} s (CLI process; ${result.seconds.toFixed(2)} s inside), pack ${(result.bytes / 1048576).toFixed(2)} MiB (reports on disk ${(reportBytes / 1048576).toFixed(2)} MiB)`,
  );
  console.log(`  verify: ${verified.seconds.toFixed(2)} s`);
} finally {
  for (const db of [localDb, stateDb])
    await q(SERVER, `drop database if exists ${db} with (force)`).catch(() => undefined);
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
}
