// Retention per repository: `prune` and the prune job apply each repository's own policy
// (repositories[].retention, else the top-level retention) to that repository, with its own
// Object Lock setting. One repository configured: exactly what prune always did.
import type { Config, RepositoryConfig } from '../core/config/config.js';
import type { Logger } from '../core/logger.js';
import { openRepository, repositoriesOf, repositoryConfig } from '../core/repository/named-repositories.js';
import type { Repository } from '../core/repository/repository.js';
import { type RetentionPolicy, policyFor } from './retention-config.js';
import type { PruneContext } from './prune.js';

export interface RepositoryToPrune {
  settings: RepositoryConfig;
  ctx: PruneContext;
  policyFor(target: string): RetentionPolicy;
}

/**
 * `name` set: that repository only; else every configured one. `opened` is a repository the
 * caller already holds (the command's or the job's), reused for its name instead of opened again.
 */
export interface PruneRepositoriesOptions {
  logger: Logger;
  signal?: AbortSignal;
  opened?: { name: string; repo: Repository };
}

export async function repositoriesToPrune(
  config: Config,
  name: string | undefined,
  options: PruneRepositoriesOptions,
): Promise<RepositoryToPrune[]> {
  const chosen = name === undefined ? repositoriesOf(config) : [repositoryConfig(config, name)];
  const out: RepositoryToPrune[] = [];
  for (const settings of chosen) {
    const held = options.opened?.name === settings.name ? options.opened.repo : undefined;
    const repo = held ?? (await openRepository(settings, options.logger));
    out.push({
      settings,
      ctx: {
        repo,
        logger: options.logger,
        ...(options.signal ? { signal: options.signal } : {}),
        timeZone: config.timezone,
        objectLock: Boolean(settings.s3.objectLock),
      },
      policyFor: (target) => retentionIn(config, settings, target),
    });
  }
  return out;
}

/** The retention policy of `target` in this repository: its own `retention`, else the top-level one. */
export function retentionIn(config: Config, settings: RepositoryConfig, target: string): RetentionPolicy {
  return policyFor(config.repositoryRetention?.[settings.name] ?? config.retention, target);
}
