// The sha256 check while streaming (VerifyingStream in src/core/pipeline/digest.ts) is the only defence
// against a *different valid* age file put in place of an object: the recipients are public, so
// anyone who can write to the repository can encrypt other bytes, or the same bytes anew, to them.
// Age authenticates such a file and the size matches; only the manifest's sha256 differs.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { runDrill } from '../../src/drill/drill.js';
import { IntegrityError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import type { Repository } from '../../src/core/repository/repository.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { copyRepo, drillConfig, scratchDatabases } from '../drill/helpers.js';

const logger = silentLogger();
const TARGET = 'substituted';
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let good: Manifest;
let repo: Repository;
let repoDir: string;
const scratch: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSampleDatabase('subst', 500);
  state = await createDatabase('subst_state');
  t = await createTestRepo({ targets: [{ name: TARGET, url: source.url }] });
  const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  good = await t.repo.resolve(TARGET, result.id);
  // the substitute: the same plaintext encrypted again to the same recipient with the age CLI
  const copy = await copyRepo(t, 'copy', TARGET, good.id);
  repo = copy.repo;
  repoDir = path.join(t.dir, 'copy'); // copyRepo's copy
  const file = path.join(copy.folder, 'dump.zst.age');
  const original = await readFile(file);
  const plain = execFileSync('age', ['-d', '-i', t.identityFile, file], { maxBuffer: 1 << 30 });
  const again = execFileSync('age', ['-r', t.recipient], { input: plain, maxBuffer: 1 << 30 });
  await writeFile(file, again);
  expect(again.length).toBe(original.length);
  expect(again.equals(original)).toBe(false);
});

afterAll(async () => {
  for (const name of await scratchDatabases(serverUrl(), TARGET))
    await query(serverUrl(), `drop database if exists ${name} with (force)`);
  await Promise.all([source?.drop(), state?.drop(), ...scratch.map((d) => d.drop())]);
  await t?.cleanup();
});

const CHECKSUM = new RegExp(
  `checksum mismatch for 'backups/${TARGET}/${'\\d{8}T\\d{6}Z-[0-9a-f]{4}'}/dump\\.zst\\.age': expected ${'[0-9a-f]{16}'}…, got [0-9a-f]{16}…`,
);

describe('a dump object replaced by a re-encryption of the same plaintext (same size, different bytes)', () => {
  it('restore refuses it with "checksum mismatch" (sha256-while-streaming)', async () => {
    const to = await createDatabase('subst_to');
    scratch.push(to);
    const identities = await loadIdentities(t.config);
    const err = await runRestore({ config: t.config, repo, logger, identities }, t.config.targets[0]!, good, {
      to: to.url,
      jobs: 1,
      clean: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(CHECKSUM);
  });

  it('the restore command exits 1 with the same one-line cause', async () => {
    const to = await createDatabase('subst_cli');
    scratch.push(to);
    const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as { repository: Record<string, unknown> };
    const configFile = path.join(t.dir, 'copy.yaml');
    await writeFile(
      configFile,
      JSON.stringify({ ...doc, repository: { ...doc.repository, url: `file://${repoDir}` } }),
    );
    const res = await runCli(['restore', good.id, '--target', TARGET, '--to', to.url, '--config', configFile]);
    expect(errorLine(res)).toMatch(CHECKSUM);
    expect(res.code).toBe(1);
  });

  it('a drill fails with "checksum mismatch" and leaves no scratch database', async () => {
    const identities = await loadIdentities(t.config);
    const report = await runDrill(
      { config: drillConfig(t, state.url), repo, logger, identities, progress: false },
      t.config.targets[0]!,
      { pick: { kind: 'id', id: good.id } },
    );
    expect(report.verdict).toBe('fail');
    expect(report.cause).toMatch(new RegExp(`^restore dump\\.zst\\.age: ${CHECKSUM.source}$`));
    expect(await scratchDatabases(serverUrl(), TARGET)).toEqual([]);
  });
});
