// The summary reporter (test/helpers/summary-reporter.ts) on fixture files, in a vitest of its
// own: under CI a skip that names no capability CI may lack fails the run; a named one is listed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(import.meta.dirname, '../helpers/skip-fixtures');

function run(fixture: string, ci: boolean, outcome?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, SKIP_FIXTURE: fixture };
  delete env.CI;
  delete env.FAPIAO_GUARD_TEST_OUTCOME;
  if (outcome) env.FAPIAO_GUARD_TEST_OUTCOME = outcome;
  if (ci) env.CI = 'true';
  delete env.VITEST; // a fresh vitest, not this one's worker
  const res = spawnSync(
    process.execPath,
    [path.resolve('node_modules/vitest/vitest.mjs'), 'run', '--config', path.join(DIR, 'vitest.config.ts')],
    { cwd: DIR, env, encoding: 'utf8', timeout: 150_000 },
  );
  return { code: res.status, out: res.stdout.replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('summary reporter: no silent skips in CI', () => {
  it('a skip naming a capability CI may lack passes in CI and is listed with it', () => {
    const { code, out } = run('named.fixture.ts', true);
    expect(out).toContain(
      "skipped for a missing capability: named.fixture.ts > needs a tmpfs: needs capability 'mount tmpfs': cannot mount here",
    );
    expect(out).toContain('tests: 1 passed, 0 failed, 1 skipped (1 for a missing capability)');
    expect(code).toBe(0);
  });

  it('it.skip and a capability CI can provide fail the run in CI, each listed', () => {
    const { code, out } = run('silent.fixture.ts', true);
    expect(out).toContain(
      'skipped without naming a missing capability (a failure in CI): silent.fixture.ts > skipped for no stated reason',
    );
    expect(out).toContain(
      "skipped without naming a missing capability (a failure in CI): silent.fixture.ts > skipped with a reason that is not a capability CI may lack: needs capability 'a database': not running",
    );
    expect(out).toContain('tests: 1 passed, 0 failed, 2 skipped; 2 silent skip(s) fail this CI run');
    expect(code).toBe(1);
  });

  it('outside CI the same skips are counted but do not fail the run', () => {
    const { code, out } = run('silent.fixture.ts', false);
    expect(out).toContain('tests: 1 passed, 0 failed, 2 skipped');
    expect(code).toBe(0);
  });

  it('a file whose beforeAll throws is a failure, not a row of skips, in CI or not', () => {
    for (const ci of [true, false]) {
      const { code, out } = run('hook.fixture.ts', ci);
      expect(out).toContain(
        'failed outside any test (a load error or a hook): hook.fixture.ts: the fixture database is not there',
      );
      expect(out).toContain('tests: 0 passed, 1 failed, 0 skipped');
      expect(out).not.toContain('silent skip');
      expect(code).toBe(1);
    }
  });

  it('a failed test is one line with its first error line, also written to FAPIAO_GUARD_TEST_OUTCOME for CI', () => {
    const outcome = path.join(mkdtempSync(path.join(os.tmpdir(), 'outcome-')), 'node-24.txt');
    const { code, out } = run('failing.fixture.ts', true, outcome);
    const line = 'failed: failing.fixture.ts > compares totals: totals differ: 1 against 2';
    expect(out).toContain(line);
    expect(out).not.toContain('second line of detail\ntests:');
    expect(code).toBe(1);
    expect(readFileSync(outcome, 'utf8')).toBe(`${line}\ntests: 1 passed, 1 failed, 0 skipped\n`);
  });

  it('an error no test caught is named: every test passed and the run still failed', () => {
    const { code, out } = run('unhandled.fixture.ts', true);
    expect(out).toContain('unhandled error (fails the run): write EPIPE (a child exited before reading)');
    expect(out).toContain('tests: 1 passed, 0 failed, 0 skipped');
    expect(code).toBe(1);
  });
});
