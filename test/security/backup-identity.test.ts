// Issue 10 item 4: a backup is bound to its identity. Backup A's objects (with their sizes and
// sha256 values) copied into backup B's manifest must fail verify --deep, restore and drill with
// exit 1 naming the mismatch — real backups of a real database, a file:// repository.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { identityMismatches } from '../../src/backup/backup-identity.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import type { Identity } from '../../src/core/crypto/index.js';
import { runDrill } from '../../src/drill/drill.js';
import { ExitCode, IntegrityError, exitCodeOf } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { loadDetails } from '../../src/drill/restore/checks-alongside.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { copyRepo, drillConfig } from '../drill/helpers.js';

const logger = silentLogger();
const TARGET = 'bound';
let source: TestDatabase;
let to: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let a: Manifest;
let b: Manifest;
let identities: readonly Identity[];

beforeAll(async () => {
  [source, to, state] = await Promise.all([
    createSampleDatabase('bound', 400),
    createDatabase('bound_to'),
    createDatabase('bound_state'),
  ]);
  t = await createTestRepo({ targets: [{ name: TARGET, url: source.url, globals: true }] });
  identities = await loadIdentities(t.config);
  const first = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  await query(
    source.url,
    'delete from public.invoice_items where invoice_id in (select id from public.invoices order by id limit 50)',
  );
  await query(
    source.url,
    'delete from public.invoices where id in (select id from public.invoices order by id limit 50)',
  );
  const second = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
  a = await t.repo.resolve(TARGET, first.id);
  b = await t.repo.resolve(TARGET, second.id);
});

afterAll(async () => {
  await Promise.all([source?.drop(), to?.drop(), state?.drop()]);
  await t?.cleanup();
});

/** A copy of the repository where backup B's listed objects (files and manifest entries) are backup A's. */
async function graft(name: string, objects: readonly string[]) {
  const copy = await copyRepo(t, name, TARGET, b.id);
  const folderA = path.join(path.dirname(copy.folder), a.id);
  for (const object of objects) await copyFile(path.join(folderA, object), path.join(copy.folder, object));
  const manifest: Manifest = {
    ...copy.manifest,
    objects: copy.manifest.objects.map((o) =>
      objects.includes(o.name) ? a.objects.find((x) => x.name === o.name)! : o,
    ),
  };
  await copy.repo.writeManifest(manifest);
  return { repo: copy.repo, manifest };
}

describe('backups bound to their identity', () => {
  it('an untouched backup is bound: details name its id, target, database, snapshot, start and pin every object', async () => {
    const details = await loadDetails(t.repo, b, identities);
    expect(identityMismatches(details, b)).toEqual([]);
    expect(identityMismatches(details, a)[0]).toMatch(/backup id/);
    const report = await verifyBackup(t.repo, b, { deep: true, identities });
    expect(report.checks.find((c) => c.name.startsWith('backup identity'))).toMatchObject({ ok: true });
  });

  it("A's dump in B's manifest: verify --deep fails naming the object, restore refuses (exit 1) before writing, the drill fails", async () => {
    const { repo, manifest } = await graft('dump-from-a', ['dump.zst.age']);
    const report = await verifyBackup(repo, manifest, { deep: true, identities });
    expect(report.ok).toBe(false);
    // every stored object still matches its manifest entry: only the binding catches it
    expect(report.checks.filter((c) => /^(size|sha256) /.test(c.name)).every((c) => c.ok)).toBe(true);
    expect(report.checks.find((c) => !c.ok)?.problem).toMatch(
      /object 'dump\.zst\.age' is not the one this backup stored/,
    );

    const err = await runRestore({ config: t.config, repo, logger, identities }, t.config.targets[0]!, manifest, {
      to: to.url,
      jobs: 1,
      clean: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(exitCodeOf(err)).toBe(ExitCode.checkFailed);
    expect((err as Error).message).toMatch(
      new RegExp(`backup '${TARGET}/${b.id}' is not bound to its identity: object 'dump\\.zst\\.age'`),
    );
    expect(await query(to.url, "select 1 from pg_tables where schemaname = 'public'")).toEqual([]); // nothing restored

    const drill = await runDrill(
      { config: drillConfig(t, state.url), repo, logger, identities },
      t.config.targets[0]!,
      { pick: { kind: 'id', id: b.id } },
    );
    expect(drill.verdict).toBe('fail');
    expect(drill.checks.find((c) => c.name === 'backup identity')).toMatchObject({
      ok: false,
      actual: expect.stringMatching(/dump\.zst\.age/),
    });
  });

  it("all of A's objects (details too) in B's manifest: the details name backup A", async () => {
    const { repo, manifest } = await graft(
      'all-from-a',
      a.objects.map((o) => o.name),
    );
    const report = await verifyBackup(repo, manifest, { deep: true, identities });
    expect(report.checks.find((c) => !c.ok)?.problem).toMatch(
      new RegExp(`backup id is '${b.id}' in the manifest but '${a.id}' in the encrypted details`),
    );
    await expect(
      runRestore({ config: t.config, repo, logger, identities }, t.config.targets[0]!, manifest, {
        to: to.url,
        jobs: 1,
        clean: false,
      }),
    ).rejects.toThrow(/backup id/);
  });

  it('an object dropped from the manifest, or a changed start time, is named', async () => {
    const details = await loadDetails(t.repo, b, identities);
    expect(
      identityMismatches(details, { ...b, objects: b.objects.filter((o) => o.name !== 'globals.sql.age') }),
    ).toEqual(["object 'globals.sql.age' of this backup is missing from the manifest"]);
    expect(identityMismatches(details, { ...b, startedAt: '2020-01-01T00:00:00.000Z' })[0]).toMatch(/^start time/);
    expect(identityMismatches({ ...details, backup: undefined }, b)[0]).toMatch(/no backup identity/);
  });
});
