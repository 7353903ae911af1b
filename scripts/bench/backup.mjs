// Benchmark: bare `pg_dump -Fc` (default settings) vs our backup to file:// and to S3 protocol
// servers (s3rver, and Ceph RGW via scripts/s3-server/rgw.sh), on the same database, in one run.
// Prints seconds, stored bytes, peak RSS and ratios against the bare pg_dump, and RGW's start time
// and memory. Usage: npm run build && node scripts/bench/backup.mjs
//   BENCH_INVOICES=2000000 (default)  BENCH_DB=fg_bench  BENCH_RUNS=1
//   BENCH_S3=0 skips the s3rver run, BENCH_RGW=0 the RGW run (also skipped, saying so, when RGW
//   is not installed: scripts/s3-server/rgw.sh install). The "+ invoice keys" run adds a reconcile section whose local
//   table is the target's, so the backup also stores invoice-keys.age (the key index).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateIdentity, formatIdentityFile } from '../../dist/src/core/crypto/index.js';
import { databaseSize, ensureBenchDatabase } from './bench-db.mjs';
import { measure, mib } from './measure.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const invoices = Number(process.env.BENCH_INVOICES ?? 2_000_000);
const dbName = process.env.BENCH_DB ?? 'fg_bench';
const work = path.join(root, '.bench', 'backup');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const { url } = await ensureBenchDatabase(dbName, invoices);
const { identity, recipient } = generateIdentity();
writeFileSync(path.join(work, 'age.key'), formatIdentityFile(identity), { mode: 0o600 });

function writeConfig(name, repository, extra = {}) {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      repository,
      encryption: { recipients: [recipient], identityFile: path.join(work, 'age.key') },
      targets: [{ name: 'bench', url, verifyTables: ['public.invoices'] }],
      ...extra,
    }),
  );
  return file;
}

const cli = path.join(root, 'bin', 'fapiao-guard.js');
async function ours(config, env = {}) {
  await measure(process.execPath, [cli, 'init', '--config', config, '--log-level', 'warn'], { env });
  const run = await measure(
    process.execPath,
    [cli, 'backup', '--config', config, '--target', 'bench', '--json', '--log-level', 'warn'],
    { env },
  );
  return { ...run, stored: JSON.parse(run.stdout).storedBytes };
}

// s3rver in a child process, as the test suite runs it
const s3dir = path.join(work, 's3rver');
mkdirSync(s3dir);
const s3 = spawn(
  process.execPath,
  ['--openssl-legacy-provider', path.join(root, 'test/helpers/s3rver-child.cjs'), s3dir, 'bench'],
  { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
);
const port = await new Promise((resolve) =>
  createInterface({ input: s3.stdout }).once('line', (l) => resolve(JSON.parse(l).port)),
);
const s3env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

const results = [];
let rgwNote;
try {
  const bare = await measure('sh', ['-c', `pg_dump -Fc -d '${url}' | wc -c`]);
  results.push({
    name: 'bare pg_dump -Fc > /dev/null',
    seconds: bare.seconds,
    stored: Number(bare.stdout.trim()),
    rss: bare.maxRssKiB,
  });
  const file = await ours(writeConfig('file', { url: pathToFileURL(path.join(work, 'repo')).href }));
  results.push({
    name: 'fapiao-guard backup → file://',
    seconds: file.seconds,
    stored: file.stored,
    rss: file.maxRssKiB,
  });
  const reconcile = {
    local: { target: 'bench', table: 'public.invoices' },
    upstream: { type: 'file', path: path.join(work, 'none.csv') },
  };
  const keyed = await ours(
    writeConfig('keys', { url: pathToFileURL(path.join(work, 'repo-keys')).href }, { reconcile }),
  );
  results.push({
    name: 'fapiao-guard backup → file:// + invoice keys',
    seconds: keyed.seconds,
    stored: keyed.stored,
    rss: keyed.maxRssKiB,
  });
  if (process.env.BENCH_S3 !== '0') {
    const s3cfg = writeConfig('s3', {
      url: 's3://bench/repo',
      s3: {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        checksums: 'when_required',
      },
    });
    const viaS3 = await ours(s3cfg, s3env);
    results.push({
      name: 'fapiao-guard backup → s3:// (s3rver)',
      seconds: viaS3.seconds,
      stored: viaS3.stored,
      rss: viaS3.maxRssKiB,
    });
  }
  if (process.env.BENCH_RGW !== '0') await benchRgw();
} finally {
  s3.kill('SIGTERM');
}

/** Ceph RGW started by scripts/s3-server/rgw.sh (as the test suite does), one bucket, then stopped. */
async function benchRgw() {
  const script = path.join(root, 'scripts/s3-server/rgw.sh');
  const dir = path.join(work, 'rgw');
  let info;
  const started = Date.now();
  try {
    info = JSON.parse(
      execFileSync('bash', [script, 'start', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .trim()
        .split('\n')
        .at(-1),
    );
  } catch (err) {
    console.error(`RGW run skipped: ${String(err.stderr || err.message).trim()}`);
    return;
  }
  const startSeconds = (Date.now() - started) / 1000;
  try {
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const credentials = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
    const client = new S3Client({ endpoint: info.endpoint, region: info.region, credentials, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    client.destroy();
    const rgwIdle = rssOf(dir);
    const cfg = writeConfig('rgw', {
      url: 's3://bench/repo',
      s3: { endpoint: info.endpoint, region: info.region, forcePathStyle: true },
    });
    const run = await ours(cfg, {
      AWS_ACCESS_KEY_ID: info.accessKeyId,
      AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
      AWS_REGION: info.region,
    });
    results.push({
      name: 'fapiao-guard backup → s3:// (Ceph RGW)',
      seconds: run.seconds,
      stored: run.stored,
      rss: run.maxRssKiB,
    });
    rgwNote = `Ceph RGW: started in ${startSeconds.toFixed(1)} s; daemons' RSS idle ${fmtRss(rgwIdle)}, after the backup ${fmtRss(rssOf(dir))}`;
  } finally {
    execFileSync('bash', [script, 'stop', dir], { stdio: 'inherit' });
  }
}

function rssOf(dir) {
  const out = {};
  for (const name of ['mon.a', 'osd.0', 'client.rgw.a']) {
    try {
      const pid = readFileSync(path.join(dir, 'run', `${name}.pid`), 'utf8').trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      out[name] = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      out[name] = 0;
    }
  }
  return out;
}
function fmtRss(r) {
  const total = Object.values(r).reduce((a, b) => a + b, 0);
  return `${(total / 1024).toFixed(0)} MiB (${Object.entries(r)
    .map(([k, v]) => `${k} ${(v / 1024).toFixed(0)}`)
    .join(', ')})`;
}

const base = results[0];
console.log(
  `database ${dbName}: ${invoices} invoices, ${mib(await databaseSize(dbName))} MiB on disk; node ${process.version}; ${new Date().toISOString()}`,
);
console.log('| run | seconds | vs bare | stored MiB | size vs bare | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(2)} | ${(r.seconds / base.seconds).toFixed(2)}x | ${mib(r.stored)} | ${((r.stored / base.stored - 1) * 100).toFixed(1)}% | ${r.rss ? (r.rss / 1024).toFixed(0) : 'n/a'} |`,
  );
}
if (rgwNote) console.log(`\n${rgwNote}`);
rmSync(work, { recursive: true, force: true });
