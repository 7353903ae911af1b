// Issue 10 item 2: no credential in the argv of pg_dump, pg_restore, psql or pg_dumpall.
// The CLI runs a backup, a restore and a drill with passwords in the URLs (the test server
// trusts local connections, so any password works) while this test reads /proc/*/cmdline of
// every PostgreSQL tool alive, as any local user could with `ps` (needs `npm run build` first).
// The scan samples, so a tool that lives a few milliseconds can slip between two scans: every tool
// is also started through a recording shim on PATH, which logs its exact argv (what /proc shows)
// and execs the real one, so that the test knows each tool ran and sees every command line.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createDatabase, createSampleDatabase, databaseUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';
import { writeDrillConfigFile } from '../drill/helpers.js';

const TOOLS = new Set(['pg_dump', 'pg_restore', 'psql', 'pg_dumpall', 'pg_amcheck']);
const SECRETS = ['QuerySecret7731', 'UserinfoSecret5519', 'ScratchSecret0442'];

/** Polls /proc until stopped: the command lines of PostgreSQL tools whose command line matches `marker`. */
function watchProcesses(marker: RegExp): { stop(): Promise<Map<string, string[]>> } {
  const seen = new Map<string, string[]>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const pid of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid)) continue;
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
        if (!TOOLS.has(comm)) continue;
        const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
        if (!marker.test(cmdline)) continue; // another engineer's tool on this shared machine
        seen.set(comm, [...(seen.get(comm) ?? []), cmdline]);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** A folder of shims, one per tool, that append their argv to `log` and exec the real tool. */
async function recordingShims(): Promise<{
  env: NodeJS.ProcessEnv;
  read(): Promise<string[]>;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fgt-argv-shims-'));
  const log = path.join(dir, 'argv.log');
  await writeFile(log, '');
  for (const tool of TOOLS) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) continue;
    const script = `#!/bin/sh\n{ printf '%s' "${tool}"; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n'; } >> '${log}'\nexec '${real}' "$@"\n`;
    await writeFile(path.join(dir, tool), script);
    await chmod(path.join(dir, tool), 0o755);
  }
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    read: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

let source: TestDatabase;
let target: TestDatabase;
let state: TestDatabase;
let t: TestRepo;

beforeAll(async () => {
  source = await createSampleDatabase('argv', 4000);
  target = await createDatabase('argv_to');
  state = await createDatabase('argv_state');
  const sourceUrl = new URL(source.url);
  sourceUrl.searchParams.set('password', SECRETS[0]!);
  t = await createTestRepo({ targets: [{ name: 'argv', url: sourceUrl.toString(), globals: true }] });
});

afterAll(async () => {
  await Promise.all([source?.drop(), target?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('credentials never in the argv of PostgreSQL tools', () => {
  it('backup, restore and drill: the tools ran, and no command line held a password', async () => {
    const shims = await recordingShims();
    const env = shims.env;
    const watch = watchProcesses(/fgt_argv|fg_drill_argv/);
    const backup = await runCli(['backup', '--config', t.configFile], { env });
    expect(backup.code, backup.stderr).toBe(0);

    const to = new URL(databaseUrl(target.name));
    to.password = SECRETS[1]!;
    const restore = await runCli(['restore', 'latest', '--to', to.toString(), '--config', t.configFile], { env });
    expect(restore.code, restore.stderr).toBe(0);

    const scratchUrl = new URL(databaseUrl('postgres'));
    scratchUrl.searchParams.set('password', SECRETS[2]!);
    const config = await writeDrillConfigFile(t, state.url, { scratchUrl: scratchUrl.toString() });
    const drill = await runCli(['drill', 'latest', '--config', config], { env });
    expect(drill.code, drill.stderr).toBe(0);
    const seen = await watch.stop();

    const recorded = await shims.read();
    await shims.cleanup();
    // every tool of the three commands ran (the shims saw each one; the scan may miss short ones)
    const ran = (tool: string) => recorded.filter((line) => line.startsWith(`${tool} `));
    expect(ran('pg_dump').length).toBeGreaterThan(0);
    expect(ran('pg_dumpall').length).toBeGreaterThan(0);
    expect(ran('pg_restore').some((c) => c.includes(target.name))).toBe(true);
    expect(ran('pg_restore').some((c) => c.includes('fg_drill_'))).toBe(true);
    for (const secret of SECRETS) expect(recorded.join('\n')).not.toContain(secret);
    const all = [...seen.values()].flat().join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
    // nor in what the CLI printed
    for (const secret of SECRETS)
      expect(
        `${backup.stdout}${backup.stderr}${restore.stdout}${restore.stderr}${drill.stdout}${drill.stderr}`,
      ).not.toContain(secret);
  }, 240_000); // three CLI runs on a shared 2-core machine
});
