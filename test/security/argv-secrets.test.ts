// Issue 10 item 2: no credential in the argv of pg_dump, pg_restore, psql or pg_dumpall.
// The CLI runs a backup, a restore and a drill with passwords in the URLs (the test server
// trusts local connections, so any password works) while this test reads /proc/*/cmdline of
// every PostgreSQL tool alive, as any local user could with `ps` (needs `npm run build` first).
import { readFile, readdir } from 'node:fs/promises';
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
    const watch = watchProcesses(/fgt_argv|fg_drill_argv/);
    const backup = await runCli(['backup', '--config', t.configFile]);
    expect(backup.code, backup.stderr).toBe(0);

    const to = new URL(databaseUrl(target.name));
    to.password = SECRETS[1]!;
    const restore = await runCli(['restore', 'latest', '--to', to.toString(), '--config', t.configFile]);
    expect(restore.code, restore.stderr).toBe(0);

    const scratchUrl = new URL(databaseUrl('postgres'));
    scratchUrl.searchParams.set('password', SECRETS[2]!);
    const config = await writeDrillConfigFile(t, state.url, { scratchUrl: scratchUrl.toString() });
    const drill = await runCli(['drill', 'latest', '--config', config]);
    expect(drill.code, drill.stderr).toBe(0);
    const seen = await watch.stop();

    // the scan saw the tools of all three commands (otherwise it proves nothing); pg_dumpall
    // --globals-only lives a few milliseconds and a loaded machine may run it between two scans
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining(['pg_dump', 'pg_restore']));
    expect((seen.get('pg_restore') ?? []).some((c) => c.includes(target.name))).toBe(true);
    expect((seen.get('pg_restore') ?? []).some((c) => c.includes('fg_drill_'))).toBe(true);
    const all = [...seen.values()].flat().join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
    // nor in what the CLI printed
    for (const secret of SECRETS)
      expect(
        `${backup.stdout}${backup.stderr}${restore.stdout}${restore.stderr}${drill.stdout}${drill.stderr}`,
      ).not.toContain(secret);
  }, 240_000); // three CLI runs on a shared 2-core machine
});
