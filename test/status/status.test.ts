// status, run and jobs as monitoring systems and people use them: exit 1 with the problems when
// anything is stale or failing, the --json contracts, the no-overlap lock for `run`. Needs `npm run build`.
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronMatcher } from '../../src/daemon/schedule-times.js';
import { isOverdue } from '../../src/daemon/status/assess.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { writeOpsConfig } from '../daemon/helpers.js';

let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let config: string;

beforeAll(async () => {
  source = await createSampleDatabase('status', 300);
  state = await createDatabase('status_state');
  t = await createTestRepo({ targets: [{ name: 'st', url: source.url }] });
  config = await writeOpsConfig(t, 'status.yaml', { state: { url: state.url }, schedules: { backup: '0 2 * * *' } });
});

afterAll(async () => {
  await Promise.all([source?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('fapiao-guard status, run and jobs', () => {
  it('status exits 1 naming the problem when there is no backup yet', async () => {
    const res = await runCli(['status', '--config', config]);
    expect(res.code).toBe(1);
    expect(errorLine(res)).toBe("fapiao-guard: 1 problem(s): no complete backup of 'st'");
    expect(res.stdout).toMatch(/^target\s+state\s+newest backup\s+age \/ RPO\s+last drill\s+last runs$/m);
    expect(res.stdout).toContain("  - no complete backup of 'st'");
  });

  it('run backup goes through history; jobs --json keeps its contract; status is then ok (exit 0)', async () => {
    const run = await runCli(['run', 'backup', '--target', 'st', '--json', '--config', config]);
    expect(run.code).toBe(0);
    const [outcome] = JSON.parse(run.stdout);
    expect(outcome).toMatchObject({
      job: 'backup',
      target: 'st',
      status: 'succeeded',
      error: null,
      summary: expect.stringMatching(/^backup \d{8}T\d{6}Z-[0-9a-f]{4} of 'st': .* verified$/),
    });

    const jobs = await runCli(['jobs', '--json', '--config', config]);
    expect(jobs.code).toBe(0);
    const rows = JSON.parse(jobs.stdout);
    expect(rows).toHaveLength(1);
    // the contract grew by the attempt (issue 13: a fire time redone after its daemon died), at the end
    expect(Object.keys(rows[0])).toEqual([
      'job',
      'target',
      'fireTime',
      'status',
      'host',
      'pid',
      'startedAt',
      'finishedAt',
      'error',
      'attempt',
      'maxAttempts',
    ]);
    expect(rows[0]).toMatchObject({
      job: 'backup',
      target: 'st',
      status: 'succeeded',
      host: hostname(),
      error: null,
      attempt: 1,
      maxAttempts: 1,
    });
    const table = await runCli(['jobs', '--config', config]);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^fire time\s+job\s+target\s+status\s+attempt\s+trigger\s+host\/pid\s+took\s+summary or error$/,
    );

    const status = await runCli(['status', '--json', '--config', config]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report).toMatchObject({
      ok: true,
      problems: [],
      timezone: 'Asia/Shanghai',
      findings: { open: 0, byKind: {} },
    });
    expect(report.targets[0]).toMatchObject({
      target: 'st',
      ok: true,
      backup: { newest: { id: outcome.details.backupId }, rpoObjectiveSeconds: 93600, complete: 1 },
      drill: { last: null, rtoObjectiveSeconds: 900 },
    });
    expect(report.targets[0].jobs).toEqual([
      expect.objectContaining({
        job: 'backup',
        schedule: '0 2 * * *',
        overdue: false,
        lastRun: expect.objectContaining({ status: 'succeeded' }),
      }),
    ]);
  });

  it('stale against the RPO, and a failed job, make status exit 1 with one line each', async () => {
    const strict = await writeOpsConfig(t, 'strict.yaml', { state: { url: state.url }, drill: { rpoObjective: '1s' } });
    // until the newest backup (the previous test's) is over 1 s old: a wait computed from its finish time
    const newest = (await t.repo.listBackups('st', { manifests: 'newest' }))
      .filter((b) => b.status === 'complete')
      .at(-1)!;
    const staleAt = Date.parse(newest.manifest!.finishedAt) + 1_100;
    await new Promise((r) => setTimeout(r, Math.max(0, staleAt - Date.now())));
    await query(
      state.url,
      `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, is_failure, error, finished_at) values ('prune', 'st', now(), 'manual', 'h', 1, 'failed', true, 'cannot list the repository', now())`,
    );
    // the age reads 2.3s, or 1m21s when a loaded machine takes that long to get here
    const res = await runCli(['status', '--json', '--config', strict]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.problems).toEqual([
      expect.stringMatching(/^newest backup of 'st' is (\d+\.\ds|\d+m\d+s) old, over the RPO objective 1\.0s$/),
      "last prune run of 'st' failed: cannot list the repository",
    ]);
    expect(errorLine(res)).toBe(`fapiao-guard: 2 problem(s): ${report.problems[0]}`);
  });

  it('run refuses (exit 3) while another run of the same job and target holds the lock', async () => {
    const { id } = await queryOne<{ id: string }>(
      state.url,
      `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status) values ('backup', 'st', now(), 'schedule', $1, $2, 'running') returning id`,
      [hostname(), process.pid],
    );
    try {
      const res = await runCli(['run', 'backup', '--target', 'st', '--config', config]);
      expect(res.code).toBe(3);
      expect(errorLine(res)).toMatch(
        new RegExp(
          `^fapiao-guard: backup of 'st' is already running \\(run #${id} on host ${hostname()}, pid ${process.pid}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+08:00\\) \\(hint: wait for it, or see 'fapiao-guard jobs --config ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'\\)$`,
        ),
      );
      const skipped = await query(state.url, `select error from fapiao_guard.job_runs where status = 'skipped'`);
      expect(skipped).toHaveLength(1);
    } finally {
      await query(
        state.url,
        `update fapiao_guard.job_runs set status = 'interrupted', finished_at = now() where id = $1`,
        [id],
      );
    }
  });

  it('overdue: two fire times passed since the last success', () => {
    const daily = cronMatcher('0 2 * * *', 'Asia/Shanghai');
    const now = new Date('2026-11-28T10:00:00+08:00');
    expect(isOverdue(daily, '2026-11-27T02:30:00+08:00', now)).toBe(false); // today's 02:00 only
    expect(isOverdue(daily, '2026-11-26T02:30:00+08:00', now)).toBe(true); // 27th and 28th missed
    expect(isOverdue(daily, null, now)).toBe(true);
  });
});

describe('open findings in status', () => {
  it('are failing when of a failOn kind and past the sync lag; pending_sync and other kinds are not', async () => {
    const { findingProblems } = await import('../../src/daemon/status/assess.js');
    expect(findingProblems(null, ['missing'])).toEqual([]);
    expect(findingProblems({ dueByKind: { missing: 0, invalid_input: 2 } }, ['missing'])).toEqual([]);
    expect(findingProblems({ dueByKind: { missing: 3, extra: 1, invalid_input: 2 } }, ['missing', 'extra'])).toEqual([
      "4 failing reconciliation finding(s) (missing 3, extra 1); see 'fapiao-guard findings --open'",
    ]);
  });

  it('reproduces "open findings: 22 … missing 8" next to "18 failing … missing 6": now the parts add up to the open count', async () => {
    const { findingProblems } = await import('../../src/daemon/status/assess.js');
    const { findingsLine } = await import('../../src/daemon/status/status-render.js');
    const { withFailing } = await import('../../src/daemon/status/status.js');
    const failOn = ['missing', 'extra', 'amount_mismatch', 'status_mismatch', 'date_mismatch', 'duplicate'];
    // missing 8 of which 2 pending sync; 2 invalid_input (not in failOn); 1 extra acknowledged
    const open = withFailing(
      {
        open: 23,
        byKind: { missing: 8, extra: 7, amount_mismatch: 4, status_mismatch: 2, invalid_input: 2 },
        dueByKind: { missing: 6, extra: 6, amount_mismatch: 4, status_mismatch: 2, invalid_input: 2 },
        acknowledged: 1,
        pendingSync: 2,
      },
      failOn,
    )!;
    expect(open.failing).toBe(18);
    const line = findingsLine(open);
    expect(line).toBe(
      'open findings: 23 (missing 8, extra 7, amount_mismatch 4, status_mismatch 2, invalid_input 2) = 18 failing (missing 6, extra 6, amount_mismatch 4, status_mismatch 2)' +
        ' + 2 pending sync (within the sync lag: not failing yet) + 1 acknowledged (not failing) + 2 of kinds not in reconcile.failOn',
    );
    const parts = [...line.split(' = ')[1]!.matchAll(/(?:^| \+ )(\d+) /g)].map((m) => Number(m[1]));
    expect(parts.reduce((a, b) => a + b, 0)).toBe(23);
    expect(findingProblems(open, failOn)).toEqual([
      "18 failing reconciliation finding(s) of 23 open (missing 6, extra 6, amount_mismatch 4, status_mismatch 2); see 'fapiao-guard findings --open'",
    ]);
    expect(findingsLine({ open: 0, byKind: {}, dueByKind: {}, acknowledged: 0 })).toBe('open findings: 0');
  });

  it('reproduces: status lines printed raw UTC timestamps; now in the configured zone with its offset', async () => {
    const { jobProblems } = await import('../../src/daemon/status/assess.js');
    const { staleRunError } = await import('../../src/daemon/status/status.js');
    const job = {
      job: 'backup',
      schedule: '0 2 * * *',
      lastSuccessAt: '2026-11-26T18:30:00.000Z',
      overdue: true,
      lastRun: null,
    };
    expect(jobProblems("'st'", [job], 'Asia/Shanghai')).toEqual([
      "backup of 'st' is overdue: last success 2026-11-27 02:30:00 +08:00, schedule '0 2 * * *'",
    ]);
    const stale = staleRunError(
      { id: 7, status: 'running', host: 'elsewhere', pid: 1, heartbeatAt: '2026-11-27T18:00:00.000Z' },
      new Date('2026-11-28T00:00:00Z'),
      60,
      () => true,
      'Asia/Shanghai',
    );
    expect(stale).toContain('since 2026-11-28 02:00:00 +08:00');
    expect(stale).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });
});
