// `repositories[].retention`: each repository's own retention (same keys as the top-level
// `retention`), by repository name. Pure: the root Reader in, policies out; a repository without one
// follows the top-level `retention` (src/backup/prune-repositories.ts).
import { repositoryEntries } from '../core/config/repository-config.js';
import { Issues, Reader } from '../core/config/reader.js';
import { type RetentionConfig, readRetentionConfig } from './retention-config.js';

/** repository name → its retention */
export type RepositoryRetention = Record<string, RetentionConfig>;

export function readRepositoryRetention(root: Reader, targetNames: readonly string[]): RepositoryRetention {
  const value = root.isObject() ? (root.value as { repositories?: unknown }).repositories : undefined;
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, RetentionConfig> = {};
  // the entries are walked a second time: their shape was reported by the repositories reader
  for (const entry of repositoryEntries(new Reader(root.value, root.path, new Issues()))) {
    const name = (entry.value as { name?: unknown } | null)?.name;
    const reader = new Reader(entry.value, entry.path, root.issues);
    if (typeof name === 'string' && reader.has('retention')) {
      out[name] = readRetentionConfig(reader.object('retention'), targetNames);
    }
  }
  return out;
}
