// Is every other repository keeping up? Per repository besides the primary (whose newest backups
// `status` already checks per target): the newest complete backup of each target there, against
// that repository's rpoObjective. A copy that stopped running shows here, not on the day of a restore.
import type { Config, RepositoryConfig } from '../../core/config/config.js';
import { formatSeconds } from '../../core/config/duration.js';
import { messageOf } from '../../core/errors.js';
import { defaultDrillConfig } from '../../drill/drill-config.js';
import { openRepository, repositoriesOf } from '../../core/repository/named-repositories.js';
import type { Repository } from '../../core/repository/repository.js';
import { maskUrl } from '../../core/storage/mask-url.js';

export interface RepositoryTargetState {
  target: string;
  newest: { id: string; finishedAt: string; ageSeconds: number } | null;
}

export interface RepositoryStatus {
  name: string;
  location: string;
  primary: boolean;
  rpoObjectiveSeconds: number;
  targets: RepositoryTargetState[];
  /** the repository could not be read */
  error?: string;
}

/** Pure: the problems of one repository's facts. */
export function repositoryProblems(r: RepositoryStatus): string[] {
  if (r.error) return [`repository '${r.name}' could not be read: ${r.error}`];
  return r.targets.flatMap((t) => {
    if (!t.newest) return [`no complete backup of '${t.target}' in repository '${r.name}'`];
    if (t.newest.ageSeconds <= r.rpoObjectiveSeconds) return [];
    const age = formatSeconds(t.newest.ageSeconds);
    const rpo = formatSeconds(r.rpoObjectiveSeconds);
    return [`newest backup of '${t.target}' in repository '${r.name}' is ${age} old, over its RPO objective ${rpo}`];
  });
}

/** Every repository but the primary, read (one manifest per target each); unreadable ones say why. */
export async function collectRepositoryStatus(
  config: Config,
  now = new Date(),
  open: (r: RepositoryConfig) => Promise<Repository> = (r) => openRepository(r),
): Promise<RepositoryStatus[]> {
  const fallbackRpo = (config.drill ?? defaultDrillConfig()).rpoObjective;
  const out: RepositoryStatus[] = [];
  for (const settings of repositoriesOf(config).filter((r) => !r.primary)) {
    const status: RepositoryStatus = {
      name: settings.name,
      location: maskUrl(settings.url),
      primary: false,
      rpoObjectiveSeconds: settings.rpoObjective ?? fallbackRpo,
      targets: [],
    };
    try {
      const repo = await open(settings);
      status.location = repo.storage.location;
      await repo.requireRepository();
      for (const target of config.targets) {
        const backups = await repo.listBackups(target.name, { manifests: 'newest' });
        const newest = backups.filter((b) => b.status === 'complete').at(-1);
        const finishedAt = newest?.manifest?.finishedAt;
        const ageSeconds = finishedAt ? Math.max(0, (now.getTime() - Date.parse(finishedAt)) / 1000) : 0;
        const found = newest && finishedAt ? { id: newest.id, finishedAt, ageSeconds } : null;
        status.targets.push({ target: target.name, newest: found });
      }
    } catch (err) {
      status.error = messageOf(err);
    }
    out.push(status);
  }
  return out;
}
