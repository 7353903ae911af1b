// A second copy elsewhere (3-2-1): backups in a file:// primary copied to an S3 repository (each S3
// server of the run, behind a fault-injecting proxy). S3 down mid-copy, a damaged source object and
// SIGTERM mid-copy end cleanly and a re-run completes; a signed, identity-bound backup verifies on
// the copy; with the primary deleted, the copy restores (content compared with the source).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { type CopyRoute, copyTarget, openCopyRoute } from '../../src/backup/copy/copy.js';
import { IntegrityError, InterruptedError, OperationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { checkManifestSignature, manifestVerifyKey } from '../../src/core/signing/manifest-signature.js';
import { generateSigningKeyPair } from '../../src/core/signing/signing-keys.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { FaultProxy, isObjectWrite } from '../helpers/fault-proxy.js';
import { type TestDatabase, createDatabase, createSampleDatabase, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type S3TestServer, s3ServersUnderTest } from '../helpers/s3-server.js';
import { waitFor, watch } from '../helpers/wait.js';

const logger = silentLogger();
// the invoices and their items as one digest: what "the same data" means for this test
const CONTENT = `select md5(string_agg(i::text, ',' order by i.id)) as invoices,
  (select md5(string_agg(t::text, ',' order by t.invoice_id, t.line_no)) from public.invoice_items t) as items,
  count(*)::int as n from public.invoices i`;

for (const choice of await s3ServersUnderTest()) {
  if (choice.unavailable) {
    describe.skip(`copy to S3 [${choice.kind}] (skipped: ${choice.unavailable})`, () =>
      it('runs the copy suite', () => undefined));
    continue;
  }
  describe(`copy from file:// to S3 [${choice.kind}]`, () => {
    let server: S3TestServer;
    let proxy: FaultProxy;
    let source: TestDatabase;
    let state: TestDatabase;
    let t: TestRepo;
    let route: CopyRoute;
    const keyDir = mkdtempSync(path.join(tmpdir(), 'fgt-copy-keys-'));
    const dbs: TestDatabase[] = [];
    const savedEnv = { ...process.env };
    const backups: string[] = [];
    const secretFree = (text: string): void => {
      if (server.credentials.secretAccessKey !== 'S3RVER')
        expect(text).not.toContain(server.credentials.secretAccessKey);
      expect(text).not.toMatch(/Signature=[0-9a-f]/);
    };
    const offsite = () => route.to[0]!;
    const statusOf = async (id: string) =>
      (await offsite().repo.listBackups('invoices', { manifests: 'none' })).find((b) => b.id === id)?.status;

    beforeAll(async () => {
      server = await choice.start();
      proxy = await FaultProxy.start(server.endpoint);
      process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
      [source, state] = await Promise.all([createSampleDatabase('copy', 10_000), createDatabase('copy_state')]);
      const keyFile = path.join(keyDir, 'signing.key');
      await writeFile(keyFile, generateSigningKeyPair().privatePem, { mode: 0o600 });
      t = await createTestRepo({
        targets: [{ name: 'invoices', url: source.url }],
        // uncompressed (~4 MiB): at 2 MiB/s a copy of it takes seconds, long enough to interrupt
        compression: 'none',
        extra: {
          repositories: [
            {
              name: 'offsite',
              url: `s3://${server.bucket}/fg-copy-${Date.now()}`,
              s3: {
                endpoint: proxy.endpoint,
                region: server.region,
                forcePathStyle: true,
                checksums: server.checksums,
                partSizeMiB: 5,
                maxAttempts: 2,
              },
              rpoObjective: '26h',
            },
          ],
          signing: { keyFile },
          state: { url: state.url },
        },
      });
      // a second repository is initialised once, like the first
      const init = await runCli(['init', '--repository', 'offsite', '--config', t.configFile]);
      expect(init.stderr + init.stdout).toMatch(/created: s3:\/\//);
      expect(init.code).toBe(0);
      route = await openCopyRoute(t.config, undefined, [], logger);
      expect(route.from.config.name).toBe('primary');
      expect(route.to.map((r) => r.config.name)).toEqual(['offsite']);
    });

    afterEach(async () => {
      await proxy.setDown(false);
      proxy.reset();
    });

    afterAll(async () => {
      process.env = savedEnv;
      await Promise.all([source?.drop(), state?.drop(), ...dbs.map((d) => d.drop())]);
      await t?.cleanup();
      await rm(keyDir, { recursive: true, force: true });
      await proxy?.stop();
      await server?.stop();
    });

    it('S3 down mid-copy: a one-line failure naming the object and no manifest there; the re-run skips what is complete and finishes', async () => {
      const b1 = (await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!)).id;
      backups.push(b1);
      const done: string[] = [];
      // S3 goes down as soon as the first object is complete in the destination
      const err = await copyTarget(t.config, route.from, offsite(), 'invoices', {
        logger,
        onObject: (name) => {
          done.push(name);
          if (done.length === 1) void proxy.setDown(true);
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationError);
      expect(err).not.toBeInstanceOf(InterruptedError);
      const message = (err as Error).message;
      expect(message).not.toMatch(/\n/);
      expect(message).toMatch(
        new RegExp(
          `^copy of backup 'invoices/${b1}' from 'primary' to 'offsite' failed at '[\\w.]+': .*; no manifest written there$`,
        ),
      );
      secretFree(message);
      await proxy.setDown(false);
      expect(await statusOf(b1)).toBe('incomplete');

      const rerun = await copyTarget(t.config, route.from, offsite(), 'invoices', { logger });
      expect(rerun.copied.map((c) => c.id)).toEqual([b1]);
      expect(rerun.copied[0]!.present).toBeGreaterThanOrEqual(1); // resumed: the first object was not sent again
      const manifest = await offsite().repo.resolve('invoices', b1);
      expect(rerun.copied[0]!.copied + rerun.copied[0]!.present).toBe(manifest.objects.length);
      const report = await verifyBackup(offsite().repo, manifest, { deep: false });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      // the signature came along and checks against the copy's manifest bytes
      const signature = await checkManifestSignature(offsite().repo, manifest, await manifestVerifyKey(t.config));
      expect(signature).toMatchObject({ ok: true });
      // nothing new: a second run copies nothing
      expect((await copyTarget(t.config, route.from, offsite(), 'invoices', { logger })).copied).toEqual([]);
    });

    it('a damaged source object: the copy refuses, naming it, and leaves nothing complete-looking behind', async () => {
      const b2 = (await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!)).id;
      backups.push(b2);
      const dumpFile = path.join(t.dir, 'repo', 'backups', 'invoices', b2, 'dump.age');
      const original = await readFile(dumpFile);
      const damaged = Buffer.from(original);
      damaged[damaged.length >> 1]! ^= 0x01; // same size: only the checksum can tell
      await writeFile(dumpFile, damaged);
      try {
        const err = await copyTarget(t.config, route.from, offsite(), 'invoices', { logger }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IntegrityError);
        const message = (err as Error).message;
        expect(message).not.toMatch(/\n/);
        expect(message).toContain(
          `copy of backup 'invoices/${b2}' from 'primary' to 'offsite' failed at 'dump.age': checksum mismatch for 'backups/invoices/${b2}/dump.age' in '${t.repoUrl}'`,
        );
        expect((err as IntegrityError).hint).toContain(
          `fapiao-guard verify ${b2} --target invoices --repository primary`,
        );
        const there = (await offsite().repo.listBackups('invoices', { manifests: 'none' })).find((b) => b.id === b2);
        expect(there?.status ?? 'absent').not.toBe('complete');
        expect(there?.objects.map((o) => o.name) ?? []).not.toContain('dump.age');
      } finally {
        await writeFile(dumpFile, original);
      }
      expect(
        (await copyTarget(t.config, route.from, offsite(), 'invoices', { logger })).copied.map((c) => c.id),
      ).toEqual([b2]);
    });

    it('SIGTERM mid-copy (CLI, bandwidth-limited): exit 3, no manifest there; run again and it completes', async () => {
      const b3 = (await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!)).id;
      backups.push(b3);
      let pid = 0;
      const running = runCli(['copy', '--config', t.configFile, '--bandwidth-limit', '2MiB/s'], {
        onSpawn: (p) => (pid = p),
      });
      await waitFor(
        'the first object bytes on their way to S3',
        () => (proxy.count('forwarded', isObjectWrite) > 0 ? true : undefined),
        120_000,
        { pollMs: 20, abandon: watch(running, 'the copy') },
      );
      process.kill(pid, 'SIGTERM');
      const stopped = await running;
      expect(stopped.code).toBe(3);
      expect(errorLine(stopped)).toMatch(
        new RegExp(
          `copy of backup 'invoices/${b3}' from 'primary' to 'offsite' interrupted at '[\\w.]+': interrupted by SIGTERM; no manifest written there, re-run to resume`,
        ),
      );
      secretFree(stopped.stderr);
      expect(await statusOf(b3)).not.toBe('complete');

      const again = await runCli(['copy', '--config', t.configFile, '--json']);
      expect(again.code, again.stderr).toBe(0);
      const results = JSON.parse(again.stdout) as Array<{ to: string; copied: Array<{ id: string }> }>;
      expect(results.map((r) => [r.to, r.copied.map((c) => c.id)])).toEqual([['offsite', [b3]]]);
      expect(await statusOf(b3)).toBe('complete');
    });

    it('status fails when a repository is behind its own RPO, naming it', async () => {
      const ok = await runCli(['status', '--config', t.configFile, '--json']);
      const report = JSON.parse(ok.stdout) as {
        problems: string[];
        repositories: Array<{ name: string; targets: Array<{ newest: { id: string } | null }> }>;
      };
      expect(report.repositories.map((r) => [r.name, r.targets[0]!.newest?.id])).toEqual([['offsite', backups.at(-1)]]);
      expect(report.problems.filter((p) => p.includes("repository 'offsite'"))).toEqual([]);
      const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as { repositories: Array<{ rpoObjective: string }> };
      doc.repositories[0]!.rpoObjective = '1s';
      const strict = path.join(t.dir, 'strict-rpo.yaml');
      await writeFile(strict, JSON.stringify(doc));
      await waitFor(
        'the newest copy older than 1 s',
        async () =>
          (await offsite().repo.resolve('invoices', 'latest')).finishedAt < new Date(Date.now() - 1500).toISOString()
            ? true
            : undefined,
        10_000,
      );
      const behind = await runCli(['status', '--config', strict]);
      expect(behind.code).toBe(1);
      expect(behind.stdout).toMatch(
        new RegExp(`newest backup of 'invoices' in repository 'offsite' is \\S+ old, over its RPO objective 1\\.0s`),
      );
      expect(behind.stdout).toMatch(/^repository 'offsite' \(s3:\/\/[^)]+\): invoices \d{8}T/m);
    });

    it('with the primary deleted, the copy lists and verifies, manifest signatures included', async () => {
      await rm(path.join(t.dir, 'repo'), { recursive: true, force: true });
      const gone = await runCli(['list', '--config', t.configFile]);
      expect(gone.code).toBe(3);

      const listed = await runCli(['list', '--repository', 'offsite', '--config', t.configFile, '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ id: string; status: string }>).map((b) => [b.id, b.status])).toEqual(
        backups.map((id) => [id, 'complete']),
      );

      const verified = await runCli(['verify', '--all', '--repository', 'offsite', '--config', t.configFile, '--json']);
      expect(verified.code, verified.stderr).toBe(0);
      const reports = JSON.parse(verified.stdout) as Array<{
        backupId: string;
        ok: boolean;
        checks: Array<{ name: string; ok: boolean }>;
      }>;
      expect(reports.map((r) => [r.backupId, r.ok])).toEqual(backups.map((id) => [id, true]));
      expect(reports.every((r) => r.checks.some((c) => c.name === 'signature manifest.json' && c.ok))).toBe(true);
    });

    it('with the primary deleted, the copy verifies deeply (identity binding) and restores the same data', async () => {
      expect((await runCli(['list', '--config', t.configFile])).code).toBe(3); // the primary is still gone
      const deep = await runCli(['verify', '--deep', '--repository', 'offsite', '--config', t.configFile, '--json']);
      expect(deep.code, deep.stderr).toBe(0);
      expect(
        (JSON.parse(deep.stdout) as Array<{ checks: Array<{ name: string; ok: boolean }> }>)[0]!.checks.find((c) =>
          c.name.startsWith('backup identity'),
        )?.ok,
      ).toBe(true);

      const to = await createDatabase('copy_to');
      dbs.push(to);
      const restored = await runCli([
        'restore',
        'latest',
        '--repository',
        'offsite',
        '--to',
        to.url,
        '--config',
        t.configFile,
      ]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toContain(`restored and verified: invoices/${backups.at(-1)}`);
      const [want, got] = await Promise.all([queryOne(source.url, CONTENT), queryOne(to.url, CONTENT)]);
      expect(got).toEqual(want);
      expect(got.n).toBe(10_000);
      // the identity file was only needed where restore ran: loading it proves the copy needs no other key
      expect((await loadIdentities(t.config)).length).toBe(1);
    });
  });
}
