// The CLI as people and cron run it: exit codes, one-line errors, --json shapes, interrupts,
// and the README's "restore by hand" with stock tools only (age, zstd, pg_restore).
import { execSync, spawn, spawnSync } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type TestDatabase, createDatabase, createSampleDatabase, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { BIN, errorLine, runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let source: TestDatabase;
let t: TestRepo;
let big: TestDatabase | undefined;
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSampleDatabase('cli', 2000);
  t = await createTestRepo({ targets: [{ name: 'invoices', url: source.url }] });
});

afterAll(async () => {
  await Promise.all([source?.drop(), big?.drop(), ...dbs.map((d) => d.drop())]);
  await t?.cleanup();
});

const cfg = () => ['--config', t.configFile];

describe('fapiao-guard CLI', () => {
  it('backup --json, list --json and verify --json print the documented shapes', async () => {
    const backup = await runCli(['backup', '--target', 'invoices', '--json', ...cfg()]);
    expect(backup.code).toBe(0);
    const result = JSON.parse(backup.stdout);
    expect(Object.keys(result).sort()).toEqual(['finishedAt', 'id', 'objects', 'startedAt', 'storedBytes', 'target']);
    expect(result.objects[0]).toEqual({
      name: 'dump.zst.age',
      size: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // logs are JSON on stderr, never mixed into stdout
    const logLines = backup.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(logLines.map((l) => l.msg)).toContain('backup complete');

    const list = await runCli(['list', '--json', ...cfg()]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      {
        id: result.id,
        target: 'invoices',
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        storedBytes: result.storedBytes,
        status: 'complete',
      },
    ]);

    const verify = await runCli(['verify', 'latest', '--deep', '--json', ...cfg()]);
    expect(verify.code).toBe(0);
    const [report] = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ backupId: result.id, ok: true, deep: true });
  });

  it('exit 1 and a one-line message naming the object when verify finds damage', async () => {
    const [entry] = JSON.parse((await runCli(['list', '--json', ...cfg()])).stdout);
    const file = path.join(fileURLToPath(t.repoUrl), 'backups', 'invoices', entry.id, 'details.json.age');
    const { readFile } = await import('node:fs/promises');
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 3]! ^= 0xff;
    await writeFile(file, damaged);
    try {
      const verify = await runCli(['verify', ...cfg()]);
      expect(verify.code).toBe(1);
      expect(errorLine(verify)).toMatch(
        new RegExp(
          `^fapiao-guard: checksum mismatch for 'backups/invoices/${entry.id}/details.json.age': expected [0-9a-f]{16}…, got [0-9a-f]{16}…`,
        ),
      );
    } finally {
      await writeFile(file, original);
    }
  });

  it('exit 2 with every configuration problem and its path at once', async () => {
    const bad = path.join(t.dir, 'bad.yaml');
    await writeFile(
      bad,
      'repository:\n  url: ftp://nope\nencryption:\n  recipients: [not-a-key]\ntargets:\n  - name: Bad Name\n  - url: postgres://x/y\n    colour: blue\n',
    );
    const res = await runCli(['list', '--config', bad]);
    expect(res.code).toBe(2);
    const line = errorLine(res);
    expect(line).toContain('repository.url: must start with file:// or s3://');
    expect(line).toContain('encryption.recipients[0]:');
    expect(line).toContain('targets[0].name: must be lowercase');
    expect(line).toContain('targets[0].url: required');
    expect(line).toContain('targets[1].name: required');
    expect(line).toContain('targets[1].colour: unknown key');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exit 2 for usage errors and a missing config file, with a hint', async () => {
    expect((await runCli(['no-such-command'])).code).toBe(2);
    const missing = await runCli(['list', '--config', path.join(t.dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(errorLine(missing)).toMatch(/configuration file '.*nope\.yaml' not found \(hint: .*demo/);
    const unset = await runCli(['list', '--config', t.configFile, '--target', 'nope']);
    expect(unset.code).toBe(2);
  });

  it('a global option a command has no use for is refused (exit 2), not silently ignored', async () => {
    const daemon = await runCli(['daemon', '--json', '--config', t.configFile]);
    expect(daemon.code).toBe(2);
    expect(errorLine(daemon)).toMatch(/^fapiao-guard: 'daemon' does not take --json: it prints no result/);
    const init = await runCli(['init', '--target', 'invoices', '--config', t.configFile]);
    expect(init.code).toBe(2);
    expect(errorLine(init)).toMatch(
      /^fapiao-guard: 'init' does not take --target: one repository holds the backups of every target/,
    );
    // reconcile compares one table: without a reconcile section no target is it
    const rec = await runCli(['findings', '--target', 'invoices', '--config', t.configFile]);
    expect(rec.code).toBe(2);
    expect(errorLine(rec)).toContain(
      "reconcile compares the table in reconcile.local, not a target; drop --target 'invoices'",
    );
  });

  it('exit 3 when the database cannot be reached, with the password masked', async () => {
    const file = path.join(t.dir, 'unreachable.yaml');
    const text = (await import('node:fs/promises')).readFile(t.configFile, 'utf8');
    const doc = JSON.parse(await text);
    doc.targets[0].url = 'postgres://fg:s3cret-pw@127.0.0.1:1/invoices';
    await writeFile(file, JSON.stringify(doc));
    const res = await runCli(['backup', '--config', file]);
    expect(res.code).toBe(3);
    expect(errorLine(res)).toMatch(
      /^fapiao-guard: cannot connect to 'postgres:\/\/fg:\*\*\*@127\.0\.0\.1:1\/invoices'/,
    );
    expect(res.stderr + res.stdout).not.toContain('s3cret-pw');
  });

  it('one target failing does not cost the others their backup; exit 3 names the failure', async () => {
    const file = path.join(t.dir, 'two.yaml');
    const doc = JSON.parse(await (await import('node:fs/promises')).readFile(t.configFile, 'utf8'));
    doc.targets = [
      { name: 'down', url: 'postgres://postgres@127.0.0.1:1/nope' },
      { ...doc.targets[0], name: 'up' },
    ];
    await writeFile(file, JSON.stringify(doc));
    const res = await runCli(['backup', '--config', file, '--json']);
    expect(res.code).toBe(3);
    expect(JSON.parse(res.stdout).map((r: { target: string }) => r.target)).toEqual(['up']);
    expect(errorLine(res)).toMatch(
      /cannot connect to 'postgres:\/\/postgres@127\.0\.0\.1:1\/nope'.*\(hint: 1 of 2 targets failed \(down\); the others were backed up\)$/,
    );
  });

  it('exit 3 naming the cause when restoring with the wrong identity', async () => {
    const other = path.join(t.dir, 'other.key');
    execSync(`age-keygen -o ${other} 2>/dev/null`);
    const to = await createDatabase('cli_wrongkey');
    dbs.push(to);
    const res = await runCli(['restore', 'latest', '--to', to.url, '--identity', other, ...cfg()]);
    expect(res.code).toBe(3);
    expect(errorLine(res)).toMatch(/identit/i);
  });

  it('exit 2 with the URL to write when --to is a bare database name (not a connection failure)', async () => {
    const res = await runCli(['restore', 'latest', '--to', 'nc_shop_r2', ...cfg()]);
    expect(res.code).toBe(2);
    expect(errorLine(res)).toMatch(
      /--to must be a postgres:\/\/ URL .*got 'nc_shop_r2'.*--to postgres:\/\/postgres@127\.0\.0\.1:5432\/nc_shop_r2/,
    );
  });

  it('restore by hand with stock tools only: age -d | zstd -d | pg_restore', async () => {
    const [entry] = JSON.parse((await runCli(['list', '--json', ...cfg()])).stdout);
    const dir = path.join(fileURLToPath(t.repoUrl), 'backups', 'invoices', entry.id);
    const manifest = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(path.join(dir, 'manifest.json'), 'utf8')),
    );
    expect(manifest.objects[0].layers).toEqual(['pg_dump:custom', 'zstd', 'age']);
    const to = await createDatabase('cli_byhand');
    dbs.push(to);
    // exactly the README's commands
    execSync(`sha256sum ${dir}/dump.zst.age | grep -q ${manifest.objects[0].sha256}`);
    execSync(`age -d -i ${t.identityFile} ${dir}/dump.zst.age | zstd -d | pg_restore --exit-on-error -d '${to.url}'`, {
      stdio: 'pipe',
    });
    const a = await queryOne<{ n: string; s: string }>(
      source.url,
      'select count(*) n, sum(total_amount)::text s from public.invoices',
    );
    const b = await queryOne<{ n: string; s: string }>(
      to.url,
      'select count(*) n, sum(total_amount)::text s from public.invoices',
    );
    expect(b).toEqual(a);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s mid-backup: exits 3 within seconds, no manifest, no temp files, pg_dump gone',
    async (sig) => {
      big ??= await createSampleDatabase('cli_big', 150_000);
      const file = path.join(t.dir, 'big.yaml');
      const doc = JSON.parse(await (await import('node:fs/promises')).readFile(t.configFile, 'utf8'));
      doc.targets = [{ name: 'big', url: big.url, verifyTables: ['public.invoices'] }];
      doc.backup = { compression: 'zstd:19' }; // slow on purpose: the dump takes long enough to interrupt
      await writeFile(file, JSON.stringify(doc));
      const child = spawn(process.execPath, [BIN, 'backup', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'))); // a failed wait must not leave it running
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // interrupt once the dump is streaming into its upload: the dump object's temp file has bytes
      const root = fileURLToPath(t.repoUrl);
      const streaming = async () => {
        const files = await readdir(path.join(root, 'backups', 'big'), { recursive: true }).catch(() => [] as string[]);
        const temps = files.filter((f) => /dump\.zst\.age\.tmp-[0-9a-f]{12}$/.test(String(f)));
        const sizes = await Promise.all(
          temps.map((f) =>
            stat(path.join(root, 'backups', 'big', String(f))).then(
              (s) => s.size,
              () => 0,
            ),
          ),
        );
        return sizes.some((n) => n > 0) ? true : undefined;
      };
      const exited = () =>
        child.exitCode !== null || child.signalCode !== null
          ? `the backup exited (${child.exitCode ?? child.signalCode}): ${stderr}`
          : undefined;
      await waitFor('the dump streaming into its upload', streaming, 60_000, { pollMs: 20, abandon: exited });
      const sentAt = Date.now();
      child.kill(sig);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(Date.now() - sentAt).toBeLessThan(10_000);
      expect(code).toBe(3);
      expect(stderr).toContain(`\nfapiao-guard: backup of 'big' interrupted by ${sig}; no manifest written\n`);
      const bigFiles = await readdir(path.join(root, 'backups', 'big'), { recursive: true }).catch(
        () => [] as string[],
      );
      expect(bigFiles.filter((f) => /manifest\.json|\.tmp-|\.age$/.test(String(f)))).toEqual([]);
      // no shell: `sh -c "pgrep -f …"` would find its own command line
      const stray = spawnSync('pgrep', ['-f', `pg_dump .*${big.name}`])
        .stdout.toString()
        .trim();
      expect(stray).toBe('');
    },
  ); // the first one creates 150,000 invoices: over a minute on a busy machine (testTimeout)
});
