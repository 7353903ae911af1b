// Item 16 of the hostile-input review: damaged input is never exit 70. A manifest whose dump
// object has layers this version cannot read is exit 3 with the reason; a run left `running` by a
// killed CLI shows in `status` as stale (exit 1) even with no daemon up to sweep it.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { pgDumpShim, runs, waitFor, writeOpsConfig } from '../daemon/helpers.js';

let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let config: string;

beforeAll(async () => {
  [source, state] = await Promise.all([createSampleDatabase('sec_exit', 200), createDatabase('sec_exit_state')]);
  t = await createTestRepo({ targets: [{ name: 'inv', url: source.url }] });
  config = await writeOpsConfig(t, 'exit.yaml', { state: { url: state.url }, daemon: { staleAfter: '60s' } });
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('damaged input is exit 2 or 3, never 70', () => {
  it('a manifest whose dump has unknown layers: restore is exit 3 naming the layers', async () => {
    expect((await runCli(['backup', '--config', config])).code).toBe(0);
    const root = fileURLToPath(t.repoUrl);
    const manifests = (await readdir(root, { recursive: true })).filter((f) => path.basename(f) === 'manifest.json');
    expect(manifests).toHaveLength(1);
    const file = path.join(root, manifests[0]!);
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { objects: Array<{ layers: string[] }> };
    const dump = manifest.objects.find((o) => o.layers[0] === 'pg_dump:custom')!;
    dump.layers = ['pg_dump:custom', 'brotli', 'age'];
    await writeFile(file, JSON.stringify(manifest, null, 2));
    const scratch = await createDatabase('sec_exit_scratch');
    try {
      const res = await runCli(['restore', 'latest', '--target', 'inv', '--to', scratch.url, '--config', config]);
      expect(res.code).toBe(3);
      expect(errorLine(res)).toMatch(
        /has layers pg_dump:custom\+brotli\+age that this version cannot read \(hint: a newer fapiao-guard wrote it, or the manifest is damaged/,
      );
    } finally {
      await scratch.drop();
    }
  }, 180_000);

  it('a run left running by a killed `run` CLI shows in status as stale, exit 1', async () => {
    const env = { PATH: (await pgDumpShim('[ "$1" = --version ] || sleep 3; exec "$REAL" "$@"')).path };
    let pid = 0;
    const killed = runCli(['run', 'backup', '--target', 'inv', '--config', config], { env, onSpawn: (p) => (pid = p) });
    const running = await waitFor(
      'the run recorded as running',
      async () => (await runs(state.url, `status = 'running'`).catch(() => []))[0],
      90_000,
    ); // the state DB is migrated by the run itself
    process.kill(pid, 'SIGKILL');
    await killed;
    expect(running.pid).toBe(pid);
    const res = await runCli(['status', '--json', '--config', config]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as {
      problems: string[];
      targets: Array<{ jobs: Array<{ job: string; lastRun: { status: string } }> }>;
    };
    expect(report.targets[0]!.jobs.find((j) => j.job === 'backup')!.lastRun.status).toBe('stale');
    expect(report.problems).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^last backup run of 'inv' stale: run #${running.id} is still recorded as running but its process \\(host \\S+, pid ${pid}\\) is gone: killed or crashed`,
        ),
      ),
    );
  }, 180_000);
});
