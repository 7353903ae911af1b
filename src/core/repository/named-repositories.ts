// Named repositories (config `repository` + `repositories`): picking one by name, opening it, and
// the settings that apply there. The primary is where backups are written.
import type { Logger } from 'pino';
import type { Config, RepositoryConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { openStorage } from '../storage/open-storage.js';
import { Repository } from './repository.js';

export interface NamedRepository {
  config: RepositoryConfig;
  repo: Repository;
}

/** The repository named `name`, or the primary when no name is given; an unknown name is a usage error. */
export function repositoryConfig(config: Config, name?: string): RepositoryConfig {
  const all = repositoriesOf(config);
  if (name === undefined) return all[0]!;
  const found = all.find((r) => r.name === name);
  if (!found) {
    const known = all.map((r) => r.name).join(', ');
    throw new UsageError(`no repository '${name}' in the configuration`, { hint: `known repositories: ${known}` });
  }
  return found;
}

/** Every repository, the primary first; configurations built by hand (tests) may lack `repositories`. */
export function repositoriesOf(config: Config): RepositoryConfig[] {
  if (config.repositories?.length) return config.repositories;
  return [{ name: 'primary', url: config.repository.url, s3: config.repository.s3, primary: true }];
}

export async function openRepository(settings: RepositoryConfig, logger?: Logger): Promise<Repository> {
  return new Repository(await openStorage(settings.url, { s3: settings.s3, ...(logger ? { logger } : {}) }));
}

export async function openNamedRepository(config: Config, name?: string, logger?: Logger): Promise<NamedRepository> {
  const settings = repositoryConfig(config, name);
  return { config: settings, repo: await openRepository(settings, logger) };
}
