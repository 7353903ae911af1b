// Drill test fixtures: a sample source, a repository with one backup, a state database of the
// file's own, and questions about scratch databases on the test server.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadRecipients } from '../../src/core/encryption-keys.js';
import { saveEncryptedText } from '../../src/backup/encrypted-object.js';
import type { Config } from '../../src/core/config/config.js';
import { type DrillConfig, defaultDrillConfig } from '../../src/drill/drill-config.js';
import type { BackupDetails } from '../../src/core/pg/details.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { Repository } from '../../src/core/repository/repository.js';
import { loadDetails } from '../../src/drill/restore/checks-alongside.js';
import { FileStorage } from '../../src/core/storage/file-storage.js';
import { query } from '../helpers/pg.js';
import type { TestRepo } from '../helpers/repo.js';
import type { Identity } from '../../src/core/crypto/index.js';

export function drillConfig(t: TestRepo, stateUrl: string, drill: Partial<DrillConfig> = {}): Config {
  return {
    ...t.config,
    state: { url: stateUrl },
    drill: { ...defaultDrillConfig(), reportDir: path.join(t.dir, 'reports'), ...drill },
  };
}

/** A config file for the CLI: the test repo's config plus state and drill sections. */
export async function writeDrillConfigFile(
  t: TestRepo,
  stateUrl: string,
  drill: Record<string, unknown>,
  name = 'drill.yaml',
): Promise<string> {
  const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
  const file = path.join(t.dir, name);
  await writeFile(
    file,
    JSON.stringify(
      { ...doc, state: { url: stateUrl }, drill: { reportDir: path.join(t.dir, 'reports'), ...drill } },
      null,
      2,
    ),
  );
  return file;
}

/** Names of scratch databases of this target that exist on the test server. */
export async function scratchDatabases(serverUrl: string, target: string): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    serverUrl,
    `select datname from pg_database where datname like $1 order by 1`,
    [`fg\\_drill\\_${target}\\_%`],
  );
  return rows.map((r) => r.datname);
}

export async function historyRow(
  stateUrl: string,
  drillId: string,
): Promise<{ status: string; cause: string | null; backup_id: string; rto_seconds: number | null }> {
  const rows = await query<{ status: string; cause: string | null; backup_id: string; rto_seconds: number | null }>(
    stateUrl,
    'select status, cause, backup_id, rto_seconds from fapiao_guard.drills where drill_id = $1',
    [drillId],
  );
  if (!rows[0]) throw new Error(`no history row for drill ${drillId}`);
  return rows[0];
}

/** A private copy of a file:// repository, so damaging it leaves the shared one alone. */
export async function copyRepo(
  t: TestRepo,
  name: string,
  target: string,
  backupId: string,
): Promise<{ repo: Repository; manifest: Manifest; folder: string }> {
  const dir = path.join(t.dir, name);
  execFileSync('cp', ['-r', fileURLToPath(t.repoUrl), dir]);
  const repo = new Repository(new FileStorage(pathToFileURL(dir).href));
  const manifest = await repo.resolve(target, backupId);
  return { repo, manifest, folder: path.join(dir, 'backups', target, backupId) };
}

/**
 * Rewrite a backup's details (re-encrypted to the repository's recipient, manifest entry fixed),
 * so that the backup is intact but its details disagree with its data.
 */
export async function tamperDetails(
  config: Config,
  repo: Repository,
  manifest: Manifest,
  identities: readonly Identity[],
  edit: (d: BackupDetails) => void,
): Promise<void> {
  const details = await loadDetails(repo, manifest, identities);
  edit(details);
  const entry = manifest.objects.find((o) => o.name === 'details.json.age')!;
  const saved = await saveEncryptedText(
    repo.storage,
    repo.objectPath(manifest.target, manifest.id, entry.name),
    entry.name,
    entry.layers.slice(0, -1),
    JSON.stringify(details),
    loadRecipients(config),
  );
  await repo.writeManifest({ ...manifest, objects: manifest.objects.map((o) => (o.name === entry.name ? saved : o)) });
}
