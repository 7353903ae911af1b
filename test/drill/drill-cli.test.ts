// `drill` and `drills` as people and cron run them: the --json contract, exit codes 0/1/2/3 with
// one-line messages, and SIGTERM in the middle of a drill (needs `npm run build` first).
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { silentLogger } from '../../src/core/logger.js';
import { type TestDatabase, createDatabase, createSampleDatabase, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { waitFor, watch } from '../helpers/wait.js';
import { historyRow, scratchDatabases, writeDrillConfigFile } from './helpers.js';

// scratch databases are named after the target: another checkout running this file on the shared
// server must not see (or count) ours
const TARGET = `drillcli_${randomBytes(2).toString('hex')}`;
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let backupId: string;

beforeAll(async () => {
  source = await createSampleDatabase('drillcli', 2000);
  state = await createDatabase('drillcli_state');
  t = await createTestRepo({
    targets: [
      { name: TARGET, url: source.url },
      { name: 'empty', url: source.url },
    ],
  });
  backupId = (await runBackup({ config: t.config, repo: t.repo, logger: silentLogger() }, t.config.targets[0]!)).id;
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('fapiao-guard drill', () => {
  it('--json prints the report contract and exits 0 when the drill passes; drills lists it', async () => {
    const config = await writeDrillConfigFile(t, state.url, {
      assertions: [
        {
          name: 'totals add up',
          sql: 'select count(*) from public.invoices where total_amount <> amount + tax_amount',
          expect: 0,
        },
      ],
    });
    const res = await runCli(['drill', 'latest', '--target', TARGET, '--json', '--config', config]);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report).toMatchObject({
      drillId: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/),
      backupId,
      target: TARGET,
      verdict: 'pass',
      rpoSeconds: expect.any(Number),
    });
    expect(Object.keys(report.seconds).sort()).toEqual(['checks', 'download', 'restore', 'total']);
    for (const check of report.checks) expect(Object.keys(check).sort()).toEqual(['actual', 'expected', 'name', 'ok']);
    expect(report.checks).toContainEqual({ name: 'assert totals add up', ok: true, expected: 0, actual: '0' });
    // one log line per phase on stderr, JSON
    // (other test files' drills may add housekeeping lines, e.g. leftovers seen on the shared server)
    const lines = res.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: number });
    const PHASES = [
      'drill started',
      'scratch database created',
      'restore finished',
      'checks finished',
      'scratch database dropped',
      'drill passed',
    ];
    expect(lines.map((l) => l.msg).filter((m) => PHASES.includes(m))).toEqual(PHASES);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);

    const drills = await runCli(['drills', '--json', '--config', config]);
    expect(drills.code).toBe(0);
    expect(JSON.parse(drills.stdout).at(-1)).toMatchObject({
      drillId: report.drillId,
      target: TARGET,
      backupId,
      status: 'pass',
      rtoSeconds: report.seconds.total,
      rpoSeconds: report.rpoSeconds,
      cause: null,
    });
    const table = await runCli(['drills', '--config', config]);
    expect(table.stdout.split('\n')[0]).toMatch(/^when\s+target\s+backup\s+verdict\s+RTO\s+RPO\s+drill\s+cause$/);
    expect(table.stdout).toContain(report.drillId);
  });

  it('exit 1 with the failed check in one line, and the report still printed', async () => {
    const config = await writeDrillConfigFile(
      t,
      state.url,
      { assertions: [{ name: 'no invoices', sql: 'select count(*) from public.invoices', expect: 0 }] },
      'failing.yaml',
    );
    const res = await runCli(['drill', '--target', TARGET, '--config', config]);
    expect(res.code).toBe(1);
    expect(errorLine(res)).toMatch(
      new RegExp(
        `^fapiao-guard: drill (\\S+) of '${TARGET}' \\(backup '${backupId}'\\) failed: assert no invoices: expected 0, got 2000 \\(hint: the report lists every check: ${t.dir}/reports/drill-${TARGET}-\\1\\.html\\)$`,
      ),
    );
    expect(res.stdout).toMatch(/^assert no invoices\s+0\s+2000\s+FAILED$/m);
    expect(res.stdout).toMatch(/^FAIL: drill /m);
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
  });

  it('exit 2 with every problem of the drill section and its path', async () => {
    const config = await writeDrillConfigFile(
      t,
      state.url,
      {
        pick: 'sometimes',
        rtoObjective: 'soon',
        assertions: [{ name: 'x', sql: 'select 1' }, 'select 2'],
        colour: 'blue',
      },
      'bad.yaml',
    );
    const res = await runCli(['drill', '--config', config]);
    expect(res.code).toBe(2);
    const line = errorLine(res);
    expect(line).toContain("drill.pick: 'sometimes' is not latest, random, random:N or a backup id");
    expect(line).toContain("drill.rtoObjective: 'soon' is not a duration like 90s, 15m, 26h");
    expect(line).toContain('drill.assertions[0].expect: required');
    expect(line).toContain('drill.assertions[1]: must be a mapping with name, sql and expect');
    expect(line).toContain('drill.colour: unknown key');
  });

  it('exit 3 when the drill cannot run: no backup of the target', async () => {
    const config = await writeDrillConfigFile(t, state.url, {}, 'empty.yaml');
    const res = await runCli(['drill', '--target', 'empty', '--config', config]);
    expect(res.code).toBe(3);
    expect(errorLine(res)).toBe(
      `fapiao-guard: no complete backup of target 'empty' in '${t.repoUrl}' to drill (hint: run 'fapiao-guard backup --config ${config}' first)`,
    );
  });

  it('SIGTERM mid-restore: pg_restore stopped, scratch database dropped, drill recorded as interrupted, exit 3', async () => {
    const shim = await mkdtemp(path.join(tmpdir(), 'fgt-shim-'));
    const mark = path.join(shim, 'restored');
    const real = execFileSync('sh', ['-c', 'command -v pg_restore']).toString().trim();
    // a sleep no other test, nor the same test in another checkout on this machine, runs: pgrep finds ours only
    const sleep = `sleep 120.${randomInt(100_000, 1_000_000)}`;
    await writeFile(path.join(shim, 'pg_restore'), `#!/bin/bash\n"${real}" "$@" && touch "${mark}" && exec ${sleep}\n`);
    await chmod(path.join(shim, 'pg_restore'), 0o755);
    try {
      const config = await writeDrillConfigFile(t, state.url, {}, 'sigterm.yaml');
      let pid = 0;
      const running = runCli(['drill', '--target', TARGET, '--config', config], {
        env: { PATH: `${shim}:${process.env.PATH}` },
        onSpawn: (p) => (pid = p),
      });
      await waitFor('pg_restore to finish restoring', () => (existsSync(mark) ? true : undefined), 60_000, {
        pollMs: 50,
        abandon: watch(running, 'the drill command'),
      });
      expect(await scratchDatabases(serverUrl(), TARGET)).toHaveLength(1);
      const sent = Date.now();
      process.kill(pid, 'SIGTERM');
      const res = await running;
      // well before the shim's 120 s: pg_restore was stopped, not waited for (dropping the scratch
      // database waits for a checkpoint, seconds on a shared, busy server)
      expect(Date.now() - sent).toBeLessThan(60_000);
      expect(res.code).toBe(3);
      const line = errorLine(res);
      expect(line).toMatch(
        new RegExp(
          `^fapiao-guard: drill (\\S+) of '${TARGET}' interrupted \\(interrupted by SIGTERM\\); scratch database 'fg_drill_${TARGET}_\\w+' dropped$`,
        ),
      );
      expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
      const drillId = /drill (\S+) of/.exec(line)![1]!;
      expect(await historyRow(state.url, drillId)).toMatchObject({
        status: 'interrupted',
        cause: 'interrupted by SIGTERM',
        backup_id: backupId,
      });
      // the shim's pg_restore (now that sleep) was killed, not orphaned
      expect(
        execFileSync('sh', ['-c', `pgrep -x -f '${sleep}' || true`])
          .toString()
          .trim(),
      ).toBe('');
    } finally {
      await rm(shim, { recursive: true, force: true });
    }
  });

  it('--help teaches: picks, examples and exit codes', async () => {
    const res = await runCli(['drill', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('random:N');
    expect(res.stdout).toContain('fapiao-guard drill random:14 --target invoices');
    expect(res.stdout).toContain('--keep-on-failure');
    expect(res.stdout).toContain('Exit codes: 0 the drill passed');
  });
});
