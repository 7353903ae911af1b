// No check passes on nothing, and blame lands where it belongs (the CLI as cron runs it; needs
// `npm run build`): a missing, uninitialised or empty repository is exit 3 with the reason for
// verify, verify --all, drill, status and list (status on an empty one: exit 1); a wrong identity is
// "no identity matched", never a damaged backup; one damaged manifest does not hide the others;
// init on a path that cannot be created fails at once.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { formatIdentityFile, generateIdentity } from '../../src/core/crypto/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;

/** a config like t's, with another repository url (and state database) */
async function configWith(name: string, repoUrl: string, extra = ''): Promise<string> {
  const file = path.join(t.dir, name);
  await writeFile(
    file,
    `timezone: Asia/Shanghai\nrepository: { url: '${repoUrl}' }\nencryption: { recipients: [${t.recipient}], identityFile: '${t.identityFile}' }\n` +
      `state: { url: '${state.url}' }\ntargets: [{ name: nt, url: '${source.url}' }]\n${extra}`,
  );
  return file;
}

beforeAll(async () => {
  source = await createSampleDatabase('nothing', 200);
  state = await createDatabase('nothing_state');
  t = await createTestRepo({ targets: [{ name: 'nt', url: source.url }] });
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('no check passes on nothing', () => {
  it('a repository path that does not exist (unmounted share, typo): verify, verify --all, drill, status, list exit 3 naming it', async () => {
    const url = pathToFileURL(path.join(t.dir, 'not-mounted', 'repo')).href;
    const config = await configWith('missing.yaml', url);
    for (const args of [
      ['verify'],
      ['verify', '--all'],
      ['verify', '--all', '--deep'],
      ['drill'],
      ['status'],
      ['list'],
      ['verify', '--all', '--json'],
      ['status', '--json'],
      ['list', '--json'],
    ]) {
      const res = await runCli([...args, '--config', config]);
      expect(res.code, args.join(' ')).toBe(3);
      expect(errorLine(res), args.join(' ')).toContain(`no fapiao-guard repository at '${url}'`);
    }
  }, 240_000); // nine CLI runs: ~30 s idle, over 60 s in a full parallel run on 2 cores

  it('an initialised but empty repository: verify and verify --all exit 3 "no backup to verify", drill exit 3, status exit 1, list exit 0', async () => {
    const url = pathToFileURL(path.join(t.dir, 'empty-repo')).href;
    const config = await configWith('empty.yaml', url);
    expect((await runCli(['init', '--config', config])).code).toBe(0);
    for (const args of [
      ['verify'],
      ['verify', '--all'],
      ['verify', '--all', '--deep'],
      ['verify', '--all', '--json'],
    ]) {
      const res = await runCli([...args, '--config', config]);
      expect(res.code, args.join(' ')).toBe(3);
      expect(errorLine(res), args.join(' ')).toMatch(/no backup to verify of target\(s\) 'nt'/);
    }
    const drill = await runCli(['drill', '--config', config]);
    expect(drill.code).toBe(3);
    expect(errorLine(drill)).toMatch(/no complete backup of target 'nt'/);
    for (const json of [[], ['--json']]) {
      const status = await runCli(['status', ...json, '--config', config]);
      expect(status.code).toBe(1);
      expect(errorLine(status)).toMatch(/no complete backup of 'nt'/);
    }
    const list = await runCli(['list', '--config', config]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^no backups in /);
  }, 240_000);

  it('a wrong identity: verify --deep exits 3 "no identity matched recipient(s)", not a failed backup', async () => {
    await runBackup({ config: t.config, repo: t.repo, logger: silentLogger() }, t.config.targets[0]!);
    const other = path.join(t.dir, 'other.key');
    await writeFile(other, formatIdentityFile(generateIdentity().identity), { mode: 0o600 });
    const res = await runCli(['verify', '--deep', '--identity', other, '--config', t.configFile]);
    expect(res.code).toBe(3);
    expect(errorLine(res)).toMatch(
      /^fapiao-guard: no identity matched recipient\(s\) sha256:[0-9a-f]{16} of backup 'nt\/\S+'/,
    );
    expect(res.stderr + res.stdout).not.toMatch(/do not rely on them/);
    const right = await runCli(['verify', '--deep', '--config', t.configFile]);
    expect(right.code).toBe(0);
  }, 180_000);

  it('one truncated manifest: list shows it DAMAGED, verify --all verifies the others and exits 1, prune keeps it and carries on', async () => {
    const good = await runBackup({ config: t.config, repo: t.repo, logger: silentLogger() }, t.config.targets[0]!);
    const bad = await runBackup({ config: t.config, repo: t.repo, logger: silentLogger() }, t.config.targets[0]!);
    const manifestPath = path.join(t.dir, 'repo', 'backups', 'nt', bad.id, 'manifest.json');
    await writeFile(manifestPath, '{"format": 1, "id": "');
    const list = await runCli(['list', '--json', '--config', t.configFile]);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as Array<{ id: string; status: string; problem?: string }>;
    expect(rows.find((r) => r.id === bad.id)).toMatchObject({
      status: 'damaged',
      problem: expect.stringContaining('is not valid JSON'),
    });
    expect(rows.find((r) => r.id === good.id)?.status).toBe('complete');
    const verify = await runCli(['verify', '--all', '--json', '--config', t.configFile]);
    expect(verify.code).toBe(1);
    const reports = JSON.parse(verify.stdout) as Array<{ backupId: string; ok: boolean }>;
    expect(reports.find((r) => r.backupId === good.id)?.ok).toBe(true);
    expect(reports.find((r) => r.backupId === bad.id)?.ok).toBe(false);
    const prune = await runCli(['prune', '--json', '--config', t.configFile]);
    expect(prune.code).toBe(0);
    const [result] = JSON.parse(prune.stdout) as Array<{
      backups: Array<{ id: string; outcome: string; reasons: string[] }>;
    }>;
    expect(result!.backups.find((b) => b.id === bad.id)).toMatchObject({
      outcome: 'kept',
      reasons: [expect.stringMatching(/^manifest damaged/)],
    });
  }, 180_000);
});

describe('init', () => {
  it('on a path that cannot be created fails at once with the OS reason (no spinning)', async () => {
    const config = await configWith('proc.yaml', 'file:///proc/fapiao-guard-test/repo');
    const started = Date.now();
    const res = await runCli(['init', '--config', config], { timeoutMs: 20_000 });
    expect(res.signal).toBeNull();
    expect(res.code).toBe(3);
    expect(errorLine(res)).toMatch(
      /cannot create '\/proc\/fapiao-guard-test\/repo\/fapiao-guard\.json': .*(ENOENT|no such file)/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('on a path whose parent is a file says so', async () => {
    await mkdir(path.join(t.dir, 'blocker-parent'), { recursive: true });
    await writeFile(path.join(t.dir, 'blocker-parent', 'file'), 'x');
    const config = await configWith(
      'blocked.yaml',
      pathToFileURL(path.join(t.dir, 'blocker-parent', 'file', 'repo')).href,
    );
    const res = await runCli(['init', '--config', config], { timeoutMs: 20_000 });
    expect(res.code).toBe(3);
    expect(errorLine(res)).toMatch(/cannot create '.*blocker-parent\/file\/repo\/fapiao-guard\.json'/);
    await rm(path.join(t.dir, 'blocker-parent'), { recursive: true, force: true });
  });
});
