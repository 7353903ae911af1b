// Shared fixtures for reconciliation tests: a config (JSON is YAML) with a reconcile section,
// a file:// repository it never touches, a per-file state database and a report folder.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Config, parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';

export interface ReconcileFixture {
  dir: string;
  configFile: string;
  config: Config;
  cleanup(): Promise<void>;
}

export async function reconcileFixture(options: {
  localUrl: string;
  stateUrl: string;
  reconcile: Record<string, unknown>;
  dir?: string;
}): Promise<ReconcileFixture> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'fgt-rec-')));
  const doc = {
    timezone: 'Asia/Shanghai',
    repository: { url: pathToFileURL(path.join(dir, 'repo')).href },
    encryption: { recipients: [generateIdentity().recipient] },
    targets: [{ name: 'invoices', url: options.localUrl }],
    state: { url: options.stateUrl },
    reconcile: { reportDir: path.join(dir, 'reports'), ...options.reconcile },
  };
  const configFile = path.join(dir, 'fapiao-guard.yaml');
  const text = JSON.stringify(doc, null, 2);
  await writeFile(configFile, text);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    return { dir, configFile, config: parseConfig(text, process.env, configFile), cleanup };
  } catch (err) {
    if (!options.dir) await cleanup(); // a config the test expects to be refused leaves nothing behind
    throw err;
  }
}

/** Sample data ends here (test/helpers/pg.ts); "now" for the tests is half an hour later. */
export const SAMPLE_END = '2026-11-27T16:00:00Z';
export const TEST_NOW = new Date('2026-11-27T16:30:00Z');
