// A throwaway file:// repository with a fresh age key pair and a config that points at it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig, type Config } from '../../src/core/config/config.js';
import { formatIdentityFile, generateIdentity } from '../../src/core/crypto/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { Repository } from '../../src/core/repository/repository.js';
import { openStorage } from '../../src/core/storage/open-storage.js';

export interface TestRepo {
  dir: string;
  repoUrl: string;
  identityFile: string;
  recipient: string;
  configFile: string;
  config: Config;
  repo: Repository;
  cleanup(): Promise<void>;
}

export interface TestRepoOptions {
  targets: Array<{ name: string; url: string; verifyTables?: string[]; globals?: boolean; jobs?: number }>;
  repoUrl?: string;
  s3?: Record<string, unknown>;
  compression?: string;
  /** more top-level config sections (reconcile, state, …) */
  extra?: Record<string, unknown>;
}

export async function createTestRepo(options: TestRepoOptions): Promise<TestRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fgt-repo-'));
  const { identity, recipient } = generateIdentity();
  const identityFile = path.join(dir, 'age.key');
  await writeFile(identityFile, formatIdentityFile(identity), { mode: 0o600 });
  const repoUrl = options.repoUrl ?? pathToFileURL(path.join(dir, 'repo')).href;
  const doc = {
    timezone: 'Asia/Shanghai',
    repository: { url: repoUrl, ...(options.s3 ? { s3: options.s3 } : {}) },
    encryption: { recipients: [recipient], identityFile },
    targets: options.targets.map((t) => ({ verifyTables: ['public.invoices', 'public.invoice_items'], ...t })),
    ...(options.compression ? { backup: { compression: options.compression } } : {}),
    ...options.extra,
  };
  const text = JSON.stringify(doc, null, 2); // JSON is YAML
  const configFile = path.join(dir, 'fapiao-guard.yaml');
  await writeFile(configFile, text);
  const config = parseConfig(text, process.env, configFile);
  const repo = new Repository(
    await openStorage(config.repository.url, { s3: config.repository.s3, logger: silentLogger() }),
  );
  await repo.init(config.encryption.recipients);
  return {
    dir,
    repoUrl,
    identityFile,
    recipient,
    configFile,
    config,
    repo,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
