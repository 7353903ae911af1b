// `copy`: a second copy elsewhere (3-2-1). Checklist per destination and target: list both sides,
// plan (copy-plan.ts), copy each planned backup oldest first (copy-backup.ts), stop at the first
// failure so the destination never skips a backup it lacks.
import type { Config, RepositoryConfig } from '../../core/config/config.js';
import { ConfigError, UsageError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { openRepository, repositoriesOf, repositoryConfig } from '../../core/repository/named-repositories.js';
import type { Repository } from '../../core/repository/repository.js';
import { manifestVerifyKey } from '../../core/signing/manifest-signature.js';
import { type CopiedBackup, type CopyEnds, copyBackup } from './copy-backup.js';
import { type CopyPlanEntry, planCopy } from './copy-plan.js';
import { RateLimiter } from './rate-limit.js';

export interface CopySide {
  config: RepositoryConfig;
  repo: Repository;
}

export interface CopyRoute {
  from: CopySide;
  to: CopySide[];
}

export interface CopyOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** every backup the destination lacks, not only those newer than its newest */
  all?: boolean;
  /** one backup of the source: `latest`, an id or a unique prefix */
  backup?: string;
  /** bytes per second to the destination; default its repositories[].bandwidthLimit */
  bandwidthLimit?: number;
  onObject?: (name: string, outcome: 'copied' | 'present') => void;
}

export interface CopyResult {
  target: string;
  from: string;
  to: string;
  plan: CopyPlanEntry[];
  copied: CopiedBackup[];
  bytes: number;
  seconds: number;
}

/**
 * The source (default: the primary) and the destinations (default: every other repository), opened;
 * the source must be a repository, the destinations initialised ones.
 */
export async function openCopyRoute(
  config: Config,
  from: string | undefined,
  to: readonly string[],
  logger?: Logger,
): Promise<CopyRoute> {
  const source = repositoryConfig(config, from);
  const all = repositoriesOf(config);
  if (all.length < 2) {
    throw new ConfigError('copy needs a second repository, and only one is configured', [], {
      hint: 'add one under repositories: (README "A second copy elsewhere"), then run init --repository NAME',
    });
  }
  const others = all.filter((r) => r.name !== source.name);
  const destinations = to.length > 0 ? to.map((name) => repositoryConfig(config, name)) : others;
  const same = destinations.find((d) => d.name === source.name);
  if (same) {
    throw new UsageError(`cannot copy repository '${same.name}' onto itself`, { hint: '--to names another one' });
  }
  const open = async (settings: RepositoryConfig): Promise<CopySide> => ({
    config: settings,
    repo: await openRepository(settings, logger),
  });
  const route: CopyRoute = { from: await open(source), to: await Promise.all(destinations.map(open)) };
  await route.from.repo.requireRepository();
  for (const d of route.to) {
    try {
      await d.repo.requireInitialised();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const named = err.message.replace(/^no fapiao-guard repository/, `no fapiao-guard repository '${d.config.name}'`);
      throw new ConfigError(named, [], {
        hint: `initialise it once: 'fapiao-guard init --repository ${d.config.name}'`,
      });
    }
  }
  return route;
}

/** Copy what the plan says for one target from `from` to `to`; the first failure stops this pair. */
export async function copyTarget(
  config: Config,
  from: CopySide,
  to: CopySide,
  target: string,
  options: CopyOptions,
): Promise<CopyResult> {
  const started = Date.now();
  const only = options.backup === undefined ? undefined : (await from.repo.resolve(target, options.backup)).id;
  const [source, destination] = await Promise.all([
    from.repo.listBackups(target, { manifests: 'none' }),
    to.repo.listBackups(target, { manifests: 'none' }),
  ]);
  const plan = planCopy(source, destination, { ...(options.all ? { all: true } : {}), ...(only ? { only } : {}) });
  const rate = options.bandwidthLimit ?? to.config.bandwidthLimit;
  const ends: CopyEnds = {
    from: { name: from.config.name, repo: from.repo },
    to: { name: to.config.name, repo: to.repo },
  };
  const verifyKey = await manifestVerifyKey(config);
  const limiter = rate ? new RateLimiter(rate) : undefined;
  const copied: CopiedBackup[] = [];
  for (const entry of plan.filter((p) => p.action === 'copy')) {
    copied.push(
      await copyBackup(ends, target, entry.id, {
        logger: options.logger,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(limiter ? { limiter } : {}),
        ...(verifyKey ? { verifyKey } : {}),
        ...(options.onObject ? { onObject: options.onObject } : {}),
      }),
    );
  }
  const bytes = copied.reduce((s, c) => s + c.bytes, 0);
  const seconds = (Date.now() - started) / 1000;
  return { target, from: from.config.name, to: to.config.name, plan, copied, bytes, seconds };
}
