// Two file:// repositories: the copy job (as the daemon and `run copy` call it) copies the primary's
// new backups to the second one, and prune applies each repository's own retention to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../jobs/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { openNamedRepository } from '../../src/core/repository/named-repositories.js';
import type { Repository } from '../../src/core/repository/repository.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { runCli } from '../helpers/cli.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { writeFakeBackup } from '../prune/fake-backups.js';

const logger = silentLogger();
const DAY = 86_400_000;

describe('copy and prune jobs across repositories', () => {
  let t: TestRepo;
  let second: Repository;
  let nasDir: string;
  const ids: string[] = [];

  beforeAll(async () => {
    nasDir = await mkdtemp(path.join(tmpdir(), 'fgt-copy-nas-'));
    t = await createTestRepo({
      targets: [{ name: 'invoices', url: 'postgres://127.0.0.1/unused' }],
      extra: {
        retention: { keepLast: 1 },
        repositories: [{ name: 'nas', url: pathToFileURL(nasDir).href, retention: { keepLast: 3 } }],
      },
    });
    second = (await openNamedRepository(t.config, 'nas', logger)).repo;
    await second.init(t.config.encryption.recipients);
    const now = Date.now();
    for (const daysAgo of [4, 3, 2, 1])
      ids.push(await writeFakeBackup(t.repo, 'invoices', new Date(now - daysAgo * DAY)));
  });

  afterAll(async () => {
    await t?.cleanup();
    await rm(nasDir, { recursive: true, force: true });
  });

  it('the copy job copies every complete backup the second repository lacks, verified there', async () => {
    const job = JOBS.copy!;
    const controller = new AbortController();
    const result = await job.run({
      config: t.config,
      logger,
      repo: t.repo,
      target: t.config.targets[0]!,
      signal: controller.signal,
    });
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/^copy of 'invoices' from 'primary': 4 backup\(s\) \([\d.]+ \w+\) to 'nas'$/);
    expect(result.details).toMatchObject({ from: 'primary', copies: [{ to: 'nas', backups: ids }] });
    for (const b of await second.listBackups('invoices')) {
      expect(b.status).toBe('complete');
      expect((await verifyBackup(second, b.manifest!, { deep: false })).ok).toBe(true);
    }
    const again = await job.run({
      config: t.config,
      logger,
      repo: t.repo,
      target: t.config.targets[0]!,
      signal: controller.signal,
    });
    expect(again.details).toMatchObject({ copies: [{ to: 'nas', backups: [] }] });
  });

  it('the prune job applies each repository its own retention', async () => {
    // the plan first, from the CLI: every repository by default, or the one --repository names
    const dry = await runCli(['prune', '--dry-run', '--json', '--config', t.configFile]);
    expect(dry.code, dry.stderr).toBe(0);
    const plans = JSON.parse(dry.stdout) as Array<{ repository: string; backups: Array<{ outcome: string }> }>;
    expect(plans.map((p) => [p.repository, p.backups.filter((b) => b.outcome === 'would delete').length])).toEqual([
      ['primary', 3],
      ['nas', 1],
    ]);
    const one = await runCli(['prune', '--dry-run', '--json', '--repository', 'nas', '--config', t.configFile]);
    expect((JSON.parse(one.stdout) as Array<{ repository: string }>).map((p) => p.repository)).toEqual(['nas']);
    expect((await runCli(['prune', '--repository', 'nsa', '--config', t.configFile])).code).toBe(2);
    const result = await JOBS.prune!.run({
      config: t.config,
      logger,
      repo: t.repo,
      target: t.config.targets[0]!,
      signal: new AbortController().signal,
    });
    expect(result.ok).toBe(true);
    expect(result.details).toMatchObject({
      deleted: 4,
      kept: 4,
      repositories: [
        { name: 'primary', deleted: 3, kept: 1 },
        { name: 'nas', deleted: 1, kept: 3 },
      ],
    });
    expect((await t.repo.listBackups('invoices')).map((b) => b.id)).toEqual(ids.slice(3));
    expect((await second.listBackups('invoices')).map((b) => b.id)).toEqual(ids.slice(1));
    // the backup the second repository pruned is not copied back to it
    const copy = await JOBS.copy!.run({
      config: t.config,
      logger,
      repo: t.repo,
      target: t.config.targets[0]!,
      signal: new AbortController().signal,
    });
    expect(copy.details).toMatchObject({ copies: [{ to: 'nas', backups: [] }] });
  });
});
