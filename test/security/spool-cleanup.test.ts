// Item 11 (first half) of the hostile-input review: `restore --jobs 2` killed with -9 leaves its
// decrypted dump behind; it sits in a private folder (0700, file 0600) named for this user, and
// the next restore deletes it. A folder another user could read is refused.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { waitFor } from '../daemon/helpers.js';

let source: TestDatabase;
let t: TestRepo;
let work: string;
let spoolBase: string;
const folder = () => path.join(spoolBase, `fapiao-guard-spool-${process.getuid!()}`);

beforeAll(async () => {
  source = await createSampleDatabase('sec_spool', 300);
  work = await mkdtemp(path.join(tmpdir(), 'fgt-spool-'));
  spoolBase = path.join(work, 'spool');
  await mkdir(spoolBase);
  t = await createTestRepo({
    targets: [{ name: 'inv', url: source.url }],
    extra: { restore: { spoolDir: spoolBase } },
  });
  expect((await runCli(['backup', '--config', t.configFile])).code).toBe(0);
});

afterAll(async () => {
  await source?.drop();
  await t?.cleanup();
  await rm(work, { recursive: true, force: true });
});

describe('the spool of a parallel restore', () => {
  it('killed with -9, its decrypted dump is private and deleted by the next restore', async () => {
    // pg_restore that waits before restoring (its pid noted), so the spool file exists when we kill
    const shim = path.join(work, 'bin');
    await mkdir(shim, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v pg_restore']).toString().trim();
    await writeFile(
      path.join(shim, 'pg_restore'),
      `#!/bin/bash\ncase "$1" in --version|-l) exec ${real} "$@";; esac\necho $$ > ${work}/shim.pid\nsleep 20\nexec ${real} "$@"\n`,
    );
    await chmod(path.join(shim, 'pg_restore'), 0o755);
    const scratch = await createDatabase('sec_spool_to');
    try {
      let pid = 0;
      const killed = runCli(
        ['restore', 'latest', '--target', 'inv', '--to', scratch.url, '--jobs', '2', '--config', t.configFile],
        { env: { PATH: `${shim}:${process.env.PATH}` }, onSpawn: (p) => (pid = p) },
      );
      const shimPid = await waitFor(
        'pg_restore started on the spool',
        async () => (await readFile(path.join(work, 'shim.pid'), 'utf8').catch(() => undefined))?.trim(),
        120_000,
      );
      process.kill(pid, 'SIGKILL');
      await killed;
      process.kill(Number(shimPid), 'SIGKILL');
      const left = await readdir(folder());
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(new RegExp(`^\\S+\\.${pid}\\.[0-9a-f]{8}\\.dump$`));
      expect((await stat(folder())).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(folder(), left[0]!))).mode & 0o777).toBe(0o600);

      const next = await runCli([
        'restore',
        'latest',
        '--target',
        'inv',
        '--to',
        scratch.url,
        '--clean',
        '--config',
        t.configFile,
      ]);
      expect(errorLine(next)).toBe('');
      expect(next.code).toBe(0);
      expect(await readdir(folder())).toEqual([]);
      expect(next.stderr).toContain('deleted decrypted dumps left by killed restores');
    } finally {
      await scratch.drop();
    }
  });

  it('refuses a spool folder others can read', async () => {
    await chmod(folder(), 0o755);
    const scratch = await createDatabase('sec_spool_open');
    try {
      const res = await runCli([
        'restore',
        'latest',
        '--target',
        'inv',
        '--to',
        scratch.url,
        '--jobs',
        '2',
        '--config',
        t.configFile,
      ]);
      expect(res.code).toBe(3);
      expect(errorLine(res)).toMatch(
        /spool folder '.+' is not a private folder of this user \(owner \d+, mode 755\): the decrypted dump would be readable by others/,
      );
    } finally {
      await chmod(folder(), 0o700);
      await scratch.drop();
    }
  });
});
