// Benchmark: `fapiao-guard copy` of one backup between two file:// repositories (CLI process:
// source sha256 checked as read, destination read back and hashed, manifest last) against the
// stock tools doing the same work (cp -r of the backup folder, then sha256sum of both sides) and
// against a bare cp -r (no checks at all), in one run. Interleaved rounds, medians.
// Usage: npm run build && node scripts/bench/copy.mjs
//   BENCH_ROUNDS=3 (default)  BENCH_INVOICES=200000 (default)  BENCH_DB=fg_bench_copy (dropped
//   at the end unless BENCH_KEEP=1)  BENCH_COMPRESSION=none (default: a large object to move)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatIdentityFile, generateIdentity } from '../../dist/src/core/crypto/index.js';
import { SERVER, ensureBenchDatabase, q } from './bench-db.mjs';
import { measure, mib } from './measure.mjs';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const invoices = Number(process.env.BENCH_INVOICES ?? 200_000);
const dbName = process.env.BENCH_DB ?? 'fg_bench_copy';
const work = path.join(root, '.bench', 'copy');
const cli = path.join(root, 'bin', 'fapiao-guard.js');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const { url } = await ensureBenchDatabase(dbName, invoices);
const { identity, recipient } = generateIdentity();
const keyFile = path.join(work, 'age.key');
writeFileSync(keyFile, formatIdentityFile(identity), { mode: 0o600 });
const primary = path.join(work, 'primary');
const second = path.join(work, 'second');
const config = path.join(work, 'fapiao-guard.yaml');
writeFileSync(
  config,
  JSON.stringify({
    repository: { url: pathToFileURL(primary).href },
    repositories: [{ name: 'second', url: pathToFileURL(second).href }],
    encryption: { recipients: [recipient], identityFile: keyFile },
    targets: [{ name: 'bench', url }],
    backup: { compression: process.env.BENCH_COMPRESSION ?? 'none' },
  }),
);
const run = (args) => measure(process.execPath, [cli, ...args, '--config', config, '--log-level', 'warn']);
await run(['init']);
await run(['init', '--repository', 'second']);
const backup = JSON.parse((await run(['backup', '--json'])).stdout)[0];
const folder = (repo) => path.join(repo, 'backups', 'bench', backup.id);
const bareDir = path.join(work, 'bare');

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const times = { copy: [], checked: [], bare: [] };
for (let round = 1; round <= rounds; round++) {
  rmSync(path.join(second, 'backups'), { recursive: true, force: true });
  const copied = await run(['copy', '--json']);
  const result = JSON.parse(copied.stdout);
  if (result[0]?.copied?.[0]?.id !== backup.id) throw new Error(`copy did not copy ${backup.id}: ${copied.stdout}`);
  times.copy.push(copied.seconds);
  rmSync(bareDir, { recursive: true, force: true });
  mkdirSync(bareDir, { recursive: true });
  const src = folder(primary);
  times.checked.push(
    (
      await measure('bash', [
        '-c',
        `cp -r '${src}' '${bareDir}/c' && (cd '${src}' && sha256sum *) > /dev/null && (cd '${bareDir}/c' && sha256sum *) > /dev/null`,
      ])
    ).seconds,
  );
  rmSync(bareDir, { recursive: true, force: true });
  mkdirSync(bareDir, { recursive: true });
  times.bare.push((await measure('cp', ['-r', src, `${bareDir}/b`])).seconds);
  process.stderr.write(
    `round ${round}: copy ${times.copy.at(-1).toFixed(2)}s, cp+sha256sum ${times.checked.at(-1).toFixed(2)}s, cp ${times.bare.at(-1).toFixed(2)}s\n`,
  );
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [copy, checked, bare] = [median(times.copy), median(times.checked), median(times.bare)];
console.log(
  `backup ${backup.id}: ${mib(backup.storedBytes)} MiB in ${backup.objects.length} objects (${invoices} invoices, compression ${process.env.BENCH_COMPRESSION ?? 'none'}), ${rounds} rounds, medians`,
);
console.log(
  `fapiao-guard copy (process start, list, checks, read-back): ${copy.toFixed(2)}s  ${mib(backup.storedBytes / copy)} MiB/s`,
);
console.log(
  `cp -r + sha256sum of both sides:                          ${checked.toFixed(2)}s  ratio ${(copy / checked).toFixed(2)}x`,
);
console.log(
  `cp -r alone (no checks):                                  ${bare.toFixed(2)}s  ratio ${(copy / bare).toFixed(2)}x`,
);
rmSync(bareDir, { recursive: true, force: true });
if (process.env.BENCH_KEEP !== '1' && !process.env.BENCH_DB)
  await q(SERVER, `drop database if exists ${dbName} with (force)`);
