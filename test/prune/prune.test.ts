// prune against a real file:// repository (the CLI as people run it) and through an S3-like wrapper
// (manifest-first order, Object Lock refusals, abandoned multipart uploads). The CLI's prune is a
// manual run of the prune job (job history, no overlap) in a state database of its own. Needs `npm run build`.
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { openStateDb } from '../../src/core/state/state-db.js';
import { executePrune, planPrune } from '../../src/backup/prune.js';
import type { RetentionPolicy } from '../../src/backup/retention-config.js';
import { Repository } from '../../src/core/repository/repository.js';
import { type CliResult, errorLine, runCli } from '../helpers/cli.js';
import { cliClockEnv, testClocks } from '../helpers/clock.js';
import { type TestDatabase, createDatabase, query, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { MANIFEST_NAME, S3ishStorage, writeFakeBackup } from './fake-backups.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function policy(p: Partial<RetentionPolicy> = {}): RetentionPolicy {
  return {
    configured: true,
    keepLast: 1,
    daily: 0,
    weekly: 0,
    monthly: 0,
    yearly: 0,
    incompleteAfter: 12 * 3600,
    ...p,
  };
}

// Every test here runs at each fixed clock (test/helpers/clock.ts): the default instant, 17:30 UTC
// and 23:59 in Shanghai; the CLI subprocess runs at the same instant.
describe.each(testClocks().map((now) => ({ now, at: now.toISOString() })))('prune at $at', ({ now: clock }) => {
  let t: TestRepo;
  let state: TestDatabase;
  let configFile: string;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env: cliClockEnv(clock) });
  /** the prune runs of a target in job history, oldest first */
  const pruneRuns = (target: string) =>
    query<{ id: string; trigger: string; status: string; summary: string | null }>(
      state.url,
      `select id, trigger, status, summary from fapiao_guard.job_runs where job = 'prune' and target = $1 order by id`,
      [target],
    );

  beforeAll(async () => {
    t = await createTestRepo({
      targets: [
        { name: 'invoices', url: 'postgres://127.0.0.1/none' },
        { name: 'ledger', url: 'postgres://127.0.0.1/none' },
      ],
    });
    state = await createDatabase('prune_state');
    await (await openStateDb({ ...t.config, state: { url: state.url } })).end(); // job_runs exists from the start
    const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
    configFile = path.join(t.dir, 'prune.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        ...doc,
        state: { url: state.url },
        retention: { keepLast: 2, daily: 3, incompleteAfter: '12h', targets: { ledger: { keepLast: 1, daily: 0 } } },
      }),
    );
  });

  afterAll(async () => {
    await state?.drop();
    await t?.cleanup();
  });

  describe('fapiao-guard prune', () => {
    it('--dry-run prints the plan with a reason per backup and deletes nothing; prune then deletes exactly the planned ones', async () => {
      const now = clock.getTime();
      // invoices: one backup a day for 6 days (two on the newest day), an old and a fresh incomplete one.
      // The days are Shanghai days (the configured zone): the complete ones sit at 10:00 and 11:00
      // there, before the latest Shanghai noon not after now, so they fall on the days meant at any hour.
      const noon = Math.floor((now - 4 * HOUR) / DAY) * DAY + 4 * HOUR; // 12:00 +08:00 is 04:00 UTC; no DST
      const ids: string[] = [];
      for (let d = 5; d >= 0; d--)
        ids.push(await writeFakeBackup(t.repo, 'invoices', new Date(noon - d * DAY - 2 * HOUR)));
      const sameDay = await writeFakeBackup(t.repo, 'invoices', new Date(noon - HOUR));
      const oldIncomplete = await writeFakeBackup(t.repo, 'invoices', new Date(now - 2 * DAY), false);
      const freshIncomplete = await writeFakeBackup(t.repo, 'invoices', new Date(now - 10 * 60_000), false);

      const runsBefore = (await pruneRuns('invoices')).length;
      const dry = await cli(['prune', '--dry-run', '--target', 'invoices', '--config', configFile]);
      expect(dry.code).toBe(0);
      expect(await pruneRuns('invoices')).toHaveLength(runsBefore); // a dry run deletes nothing and claims nothing
      expect(dry.stdout).toContain("plan (dry run) for 'invoices' (keepLast 2, daily 3):");
      expect(dry.stdout).toMatch(new RegExp(`${sameDay}.*keep\\s+newest complete backup; last 2 \\(#1\\); daily 1/3`));
      expect(dry.stdout).toMatch(
        new RegExp(`${oldIncomplete}.*delete\\s+incomplete \\(no manifest\\), older than 12h`),
      );
      expect(dry.stdout).toMatch(
        new RegExp(`${freshIncomplete}.*keep\\s+incomplete but younger than 12h: may still be running`),
      );
      expect(dry.stdout).toMatch(new RegExp(`${ids[0]}.*delete\\s+kept by no rule`));
      expect(dry.stdout).toContain("dry run: would delete 4 item(s) of 'invoices'; nothing deleted");
      expect((await t.repo.listBackups('invoices')).length).toBe(9);

      const res = await cli(['prune', '--target', 'invoices', '--json', '--config', configFile]);
      expect(res.code).toBe(0);
      const [result] = JSON.parse(res.stdout);
      expect(result).toMatchObject({
        target: 'invoices',
        dryRun: false,
        policy: 'keepLast 2, daily 3',
        deleted: 4,
        retained: 0,
        failed: 0,
      });
      const deleted = result.backups
        .filter((b: { outcome: string }) => b.outcome === 'deleted')
        .map((b: { id: string }) => b.id)
        .sort();
      expect(deleted).toEqual([ids[0], ids[1], ids[2], oldIncomplete].sort());
      const left = (await t.repo.listBackups('invoices')).map((b) => b.id);
      expect(left).toEqual([ids[3], ids[4], ids[5], sameDay, freshIncomplete].sort());
      // recorded like `run prune`: one manual run in job history, with the job's summary
      const runs = await pruneRuns('invoices');
      expect(runs).toHaveLength(runsBefore + 1);
      expect(runs.at(-1)).toMatchObject({
        trigger: 'manual',
        status: 'succeeded',
        summary: expect.stringMatching(/^prune of 'invoices': 4 deleted \(.*\), \d+ kept \(keepLast 2, daily 3\)$/),
      });
    });

    it('per-target overrides are merged over the defaults (ledger: keepLast 1, daily 0)', async () => {
      const now = clock.getTime();
      const a = await writeFakeBackup(t.repo, 'ledger', new Date(now - 3 * DAY));
      const b = await writeFakeBackup(t.repo, 'ledger', new Date(now - DAY));
      const res = await cli(['prune', '--target', 'ledger', '--config', configFile]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("plan for 'ledger' (keepLast 1):");
      expect(res.stdout).toContain("'ledger': deleted 1 backup(s)");
      expect((await t.repo.listBackups('ledger')).map((x) => x.id)).toEqual([b]);
      expect(a).not.toBe(b);
    });

    it('is refused (exit 3, nothing deleted) while another prune of the target runs; --dry-run still shows the plan', async () => {
      const now = clock.getTime();
      const old = await writeFakeBackup(t.repo, 'ledger', new Date(now - 5 * DAY));
      await writeFakeBackup(t.repo, 'ledger', new Date(now - HOUR));
      // a prune of 'ledger' running in this (live) process, as a daemon's would be
      const { id } = await queryOne<{ id: string }>(
        state.url,
        `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status) values ('prune', 'ledger', now(), 'schedule', $1, $2, 'running') returning id`,
        [hostname(), process.pid],
      );
      try {
        const res = await cli(['prune', '--target', 'ledger', '--config', configFile]);
        expect(res.code).toBe(3);
        const host = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        expect(errorLine(res)).toMatch(
          new RegExp(
            `^fapiao-guard: prune of 'ledger' is already running \\(run #${id} on host ${host}, pid ${process.pid}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+08:00\\) \\(hint: wait for it, or see 'fapiao-guard jobs`,
          ),
        );
        expect(res.stdout).toBe(''); // refused before planning: no plan, nothing deleted
        expect((await t.repo.listBackups('ledger')).map((b) => b.id)).toContain(old);
        expect((await pruneRuns('ledger')).at(-1)).toMatchObject({ trigger: 'manual', status: 'skipped' });
        const dry = await cli(['prune', '--dry-run', '--target', 'ledger', '--config', configFile]);
        expect(dry.code).toBe(0);
        expect(dry.stdout).toMatch(new RegExp(`${old}.*delete\\s+kept by no rule`));
      } finally {
        await query(
          state.url,
          `update fapiao_guard.job_runs set status = 'interrupted', finished_at = now() where id = $1`,
          [id],
        );
      }
      const after = await cli(['prune', '--target', 'ledger', '--config', configFile]);
      expect(after.code).toBe(0);
      expect((await t.repo.listBackups('ledger')).map((b) => b.id)).not.toContain(old);
    });

    it('a manual fire time another run already has moves on by a millisecond (two prunes asked for in one instant)', async () => {
      // The CLI's clock is frozen at `clock`, and a finished manual prune of 'ledger' already holds
      // that fire time: the prune still runs (it used to fail "could not claim a run").
      await query(
        state.url,
        `insert into fapiao_guard.job_runs (job, target, fire_time, trigger, host, pid, status, finished_at)
         values ('prune', 'ledger', $1, 'manual', 'elsewhere', 1, 'succeeded', now())`,
        [clock],
      );
      const res = await runCli(['prune', '--target', 'ledger', '--json', '--config', configFile], {
        env: cliClockEnv(clock, { frozen: true }),
      });
      expect(res.stderr).not.toContain('could not claim');
      expect(res.code).toBe(0);
      const { fire_time, trigger, status } = await queryOne<{ fire_time: Date; trigger: string; status: string }>(
        state.url,
        `select fire_time, trigger, status from fapiao_guard.job_runs where job = 'prune' and target = 'ledger' order by id desc limit 1`,
      );
      expect({ fireTime: fire_time.getTime() - clock.getTime(), trigger, status }).toEqual({
        fireTime: 1,
        trigger: 'manual',
        status: 'succeeded',
      });
    });

    it('an unknown target in retention.targets is a configuration error naming the path', async () => {
      const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
      const bad = path.join(t.dir, 'bad.yaml');
      await writeFile(bad, JSON.stringify({ ...doc, retention: { daily: 'x', targets: { nope: { keepLast: 1 } } } }));
      const res = await cli(['prune', '--config', bad]);
      expect(res.code).toBe(2);
      expect(errorLine(res)).toContain('retention.daily: must be a whole number; retention.targets.nope: no target');
    });
  });

  describe('prune through an S3-like storage', () => {
    const logger = silentLogger();

    async function fixture(target: string, lockError?: 'AccessDenied' | 'WORM') {
      const now = clock.getTime();
      const old = await writeFakeBackup(t.repo, target, new Date(now - 3 * DAY));
      const newest = await writeFakeBackup(t.repo, target, new Date(now - DAY));
      const lockedName = t.repo.objectPath(target, old, MANIFEST_NAME);
      const storage = new S3ishStorage(
        t.repo.storage,
        new Set(lockError ? [lockedName] : []),
        [
          { name: `backups/${target}/x/dump.zst.age`, uploadId: 'old-upload', initiated: new Date(now - 2 * DAY) },
          { name: `backups/${target}/y/dump.zst.age`, uploadId: 'fresh-upload', initiated: new Date(now - HOUR) },
          { name: `backups/${target}/z/dump.zst.age`, uploadId: 'unknown-age' },
        ],
        lockError,
      );
      return { old, newest, storage, repo: new Repository(storage) };
    }

    it('deletes the manifest first, then the other objects, and aborts only abandoned multipart uploads', async () => {
      const { old, newest, storage, repo } = await fixture('s3order');
      const ctx = { repo, logger, timeZone: 'Asia/Shanghai', objectLock: false };
      const plan = await planPrune(ctx, 's3order', policy(), clock);
      expect(plan.uploads.map((u) => [u.uploadId, u.action, u.reason])).toEqual([
        ['old-upload', 'abort', 'abandoned multipart upload'],
        ['fresh-upload', 'keep', 'recent multipart upload: may still be running'],
        ['unknown-age', 'keep', 'start time unknown: left alone'],
      ]);
      const dry = await executePrune(ctx, plan, true);
      expect(storage.removed).toEqual([]);
      expect(storage.aborted).toEqual([]);
      expect(dry.uploads.map((u) => u.outcome)).toEqual(['would delete', 'kept', 'kept']);
      const result = await executePrune(ctx, plan, false);
      expect(storage.removed).toEqual([`backups/s3order/${old}/manifest.json`, `backups/s3order/${old}/dump.zst.age`]);
      expect(storage.aborted).toEqual(['backups/s3order/x/dump.zst.age#old-upload']);
      expect(result).toMatchObject({ deleted: 1, retained: 0, failed: 0 });
      expect((await t.repo.listBackups('s3order')).map((b) => b.id)).toEqual([newest]);
    });

    it('Object Lock: a locked manifest is reported as retained, not an error, and the backup stays complete', async () => {
      const { old, storage, repo } = await fixture('s3locked', 'AccessDenied');
      const ctx = { repo, logger, timeZone: 'Asia/Shanghai', objectLock: true };
      const result = await executePrune(ctx, await planPrune(ctx, 's3locked', policy(), clock), false);
      expect(result).toMatchObject({ deleted: 0, retained: 1, failed: 0 });
      expect(result.backups.find((b) => b.id === old)).toMatchObject({
        outcome: 'retained',
        note: "'manifest.json' is under Object Lock retention",
      });
      expect(storage.removed).toEqual([]);
      expect((await t.repo.listBackups('s3locked')).find((b) => b.id === old)?.status).toBe('complete');
    });

    it('without Object Lock configured a plain AccessDenied is a failure (exit 3 in the CLI), but a WORM refusal is still retention', async () => {
      const denied = await fixture('s3denied', 'AccessDenied');
      const ctx = { repo: denied.repo, logger, timeZone: 'Asia/Shanghai', objectLock: false };
      const result = await executePrune(ctx, await planPrune(ctx, 's3denied', policy(), clock), false);
      expect(result).toMatchObject({ deleted: 0, retained: 0, failed: 1 });
      expect(result.backups.find((b) => b.id === denied.old)?.note).toMatch(
        /^cannot remove 'backups\/s3denied\/\S+\/manifest\.json' in .*: AccessDenied \(http 403\)$/,
      );

      const worm = await fixture('s3worm', 'WORM');
      const wctx = { repo: worm.repo, logger, timeZone: 'Asia/Shanghai', objectLock: false };
      expect(await executePrune(wctx, await planPrune(wctx, 's3worm', policy(), clock), false)).toMatchObject({
        deleted: 0,
        retained: 1,
        failed: 0,
      });
    });
  });

  it('temp files of a killed save and empty backup folders go with the next prune (listed by --dry-run), young ones stay', async () => {
    const repoDir = path.join(t.dir, 'repo', 'backups', 'invoices');
    const { mkdir, utimes, stat } = await import('node:fs/promises');
    const oldTime = new Date(Date.now() - 2 * DAY);
    // a killed backup: only a temp file in its folder (list never shows it, so no backup entry)
    const killed = path.join(repoDir, '20200101T000000Z-dead');
    await mkdir(killed, { recursive: true });
    await writeFile(path.join(killed, '.dump.zst.age.tmp-0123456789ab'), 'partial');
    await utimes(path.join(killed, '.dump.zst.age.tmp-0123456789ab'), oldTime, oldTime);
    // a failed backup that cleaned its temp file up: an empty folder
    const empty = path.join(repoDir, '20200102T000000Z-0e0e');
    await mkdir(empty, { recursive: true });
    await utimes(empty, oldTime, oldTime);
    // a save in progress right now: its temp file is young
    const running = path.join(repoDir, '20991231T000000Z-beef');
    await mkdir(running, { recursive: true });
    await writeFile(path.join(running, '.dump.zst.age.tmp-ba9876543210'), 'writing');

    const dry = await runCli(['prune', '--dry-run', '--target', 'invoices', '--config', configFile]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'temp file backups/invoices/20200101T000000Z-dead/.dump.zst.age.tmp-0123456789ab: remove — left by an interrupted save, older than incompleteAfter',
    );
    expect(dry.stdout).toContain(
      'empty folder backups/invoices/20200102T000000Z-0e0e: remove — left by a failed or pruned backup, older than incompleteAfter',
    );
    expect(dry.stdout).toMatch(
      /temp file backups\/invoices\/20991231T000000Z-beef\/\.dump\.zst\.age\.tmp-ba9876543210: keep — younger than incompleteAfter/,
    );
    expect((await stat(killed)).isDirectory()).toBe(true);

    const res = await runCli(['prune', '--target', 'invoices', '--json', '--config', configFile]);
    expect(res.code).toBe(0);
    const [result] = JSON.parse(res.stdout);
    expect(
      result.leftovers
        .filter((l: { outcome: string }) => l.outcome === 'deleted')
        .map((l: { name: string }) => l.name)
        .sort(),
    ).toEqual([
      'backups/invoices/20200101T000000Z-dead/.dump.zst.age.tmp-0123456789ab',
      'backups/invoices/20200102T000000Z-0e0e',
    ]);
    await expect(stat(killed)).rejects.toMatchObject({ code: 'ENOENT' }); // its folder went with its last file
    await expect(stat(empty)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(path.join(running, '.dump.zst.age.tmp-ba9876543210'))).isFile()).toBe(true);
    const { rm } = await import('node:fs/promises');
    await rm(running, { recursive: true, force: true });
  });

  it('a pruned backup leaves no empty folder behind', async () => {
    const repo = t.repo;
    const old = await writeFakeBackup(repo, 'ledger', new Date(Date.now() - 40 * DAY));
    await writeFakeBackup(repo, 'ledger', new Date(Date.now() - HOUR));
    const res = await runCli(['prune', '--target', 'ledger', '--config', configFile]);
    expect(res.code).toBe(0);
    const { stat } = await import('node:fs/promises');
    await expect(stat(path.join(t.dir, 'repo', 'backups', 'ledger', old))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
