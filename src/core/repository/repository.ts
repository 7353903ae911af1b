// The repository layout on top of a Storage (docs/ARCHITECTURE.md#repository-format): where things live, what is a
// complete backup, and which backup "latest" means. The repository alone is the truth.
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ConfigError, IntegrityError, NotFoundError, OperationError, UsageError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage/storage.js';
import { isBackupId } from '../run-id.js';
import {
  MANIFEST_NAME,
  type Manifest,
  REPOSITORY_FORMAT,
  manifestBytes,
  parseManifest,
  storedBytes,
} from './manifest.js';

export const REPOSITORY_FILE = 'fapiao-guard.json';

export interface RepositoryInfo {
  format: number;
  createdAt: string;
  recipients: string[];
}

export interface BackupEntry {
  id: string;
  target: string;
  /** damaged: its manifest exists but cannot be read as one (truncated, altered, moved) */
  status: 'complete' | 'incomplete' | 'damaged';
  /** present for complete backups whose manifest was read */
  manifest?: Manifest;
  /** for damaged backups: what is wrong with the manifest */
  problem?: string;
  /** objects found under the backup's folder */
  objects: ObjectInfo[];
  storedBytes: number;
}

export class Repository {
  constructor(readonly storage: Storage) {}

  backupPrefix(target: string, id: string): string {
    return `backups/${target}/${id}/`;
  }

  objectPath(target: string, id: string, name: string): string {
    return `${this.backupPrefix(target, id)}${name}`;
  }

  async info(): Promise<RepositoryInfo | undefined> {
    if (!(await this.storage.stat(REPOSITORY_FILE))) return undefined;
    const body = await text(await this.storage.load(REPOSITORY_FILE));
    try {
      return JSON.parse(body) as RepositoryInfo;
    } catch {
      throw new OperationError(`'${REPOSITORY_FILE}' in '${this.storage.location}' is not valid JSON`);
    }
  }

  /** Fails with a hint when the repository was never initialised or is of another format. */
  async requireInitialised(): Promise<RepositoryInfo> {
    const info = await this.info();
    if (!info) {
      throw new ConfigError(`no fapiao-guard repository at '${this.storage.location}'`, [], {
        hint: "run 'fapiao-guard init' first",
      });
    }
    if (info.format !== REPOSITORY_FORMAT) {
      throw new ConfigError(
        `repository '${this.storage.location}' has format ${info.format}; this version reads ${REPOSITORY_FORMAT}`,
      );
    }
    return info;
  }

  /**
   * For commands that check or describe backups: a missing, uninitialised or unreadable repository
   * is "could not check" (exit 3), never an empty success.
   */
  async requireRepository(): Promise<RepositoryInfo> {
    let info: RepositoryInfo | undefined;
    try {
      info = await this.info();
    } catch (err) {
      if (err instanceof OperationError)
        throw new OperationError(`cannot read the repository at '${this.storage.location}': ${err.message}`, {
          cause: err,
        });
      throw err;
    }
    if (!info) {
      throw new NotFoundError(
        `no fapiao-guard repository at '${this.storage.location}' (missing, not initialised, or the path or bucket prefix is wrong)`,
        {
          hint: "check repository.url (an unmounted share? a typo?); a new repository needs 'fapiao-guard init'",
        },
      );
    }
    if (info.format !== REPOSITORY_FORMAT) {
      throw new ConfigError(
        `repository '${this.storage.location}' has format ${info.format}; this version reads ${REPOSITORY_FORMAT}`,
      );
    }
    return info;
  }

  /** Creates the marker file; an existing repository is left as it is. */
  async init(recipients: string[], now = new Date()): Promise<{ created: boolean; info: RepositoryInfo }> {
    const existing = await this.info();
    if (existing) return { created: false, info: existing };
    const info: RepositoryInfo = { format: REPOSITORY_FORMAT, createdAt: now.toISOString(), recipients };
    await this.storage.save(REPOSITORY_FILE, Readable.from([Buffer.from(`${JSON.stringify(info, null, 2)}\n`)]), {
      contentType: 'application/json',
    });
    return { created: true, info };
  }

  /**
   * Every backup folder, complete or not, oldest first; one listing call per target. A backup is
   * complete when its folder has a manifest. `manifests` says which manifests are read (one
   * request each, 8 at a time): all of them (default), only the newest complete backup's per
   * target (`status`, `latest`), or none.
   */
  async listBackups(target?: string, options: { manifests?: 'all' | 'newest' | 'none' } = {}): Promise<BackupEntry[]> {
    const groups = new Map<string, { target: string; id: string; objects: ObjectInfo[] }>();
    for await (const object of this.storage.list(target ? `backups/${target}/` : 'backups/')) {
      const parts = object.name.split('/');
      if (parts.length !== 4 || !isBackupId(parts[2]!)) continue;
      const key = `${parts[1]}/${parts[2]}`;
      const group = groups.get(key) ?? { target: parts[1]!, id: parts[2]!, objects: [] };
      group.objects.push({ name: parts[3]!, size: object.size });
      groups.set(key, group);
    }
    const sorted = [...groups.values()].sort((a, b) =>
      a.id === b.id ? a.target.localeCompare(b.target) : a.id.localeCompare(b.id),
    );
    const complete = sorted.filter((g) => g.objects.some((o) => o.name === MANIFEST_NAME));
    const completeSet = new Set(complete);
    const mode = options.manifests ?? 'all';
    const newestOf = new Map(complete.map((g) => [g.target, g])); // sorted oldest first: the last one wins
    const toRead = mode === 'all' ? complete : mode === 'newest' ? [...newestOf.values()] : [];
    const manifests = new Map<(typeof sorted)[number], Manifest>();
    // One unreadable manifest must not hide every other backup of the target (or stop retention):
    // it is reported as damaged. Storage failures still stop the listing: nothing could be checked.
    const damaged = new Map<(typeof sorted)[number], string>();
    await forEachLimited(toRead, 8, async (g) => {
      try {
        manifests.set(g, await this.readManifest(g.target, g.id));
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw err;
        damaged.set(g, err.message);
      }
    });
    return sorted.map((group) => {
      const manifest = manifests.get(group);
      const problem = damaged.get(group);
      return {
        id: group.id,
        target: group.target,
        status: problem ? 'damaged' : completeSet.has(group) ? 'complete' : 'incomplete',
        ...(manifest ? { manifest } : {}),
        ...(problem ? { problem } : {}),
        objects: group.objects,
        storedBytes: manifest
          ? storedBytes(manifest)
          : group.objects.reduce((s, o) => s + (o.name === MANIFEST_NAME ? 0 : o.size), 0),
      };
    });
  }

  async readManifest(target: string, id: string): Promise<Manifest> {
    const name = this.objectPath(target, id, MANIFEST_NAME);
    const body = await text(await this.storage.load(name));
    const manifest = parseManifest(body, name);
    if (manifest.id !== id || manifest.target !== target) {
      throw new IntegrityError(
        `manifest '${name}' names backup '${manifest.target}/${manifest.id}'; the folder was moved or renamed`,
      );
    }
    return manifest;
  }

  async writeManifest(manifest: Manifest): Promise<void> {
    const name = this.objectPath(manifest.target, manifest.id, MANIFEST_NAME);
    await this.storage.save(name, Readable.from([manifestBytes(manifest)]), { contentType: 'application/json' });
  }

  /**
   * A complete backup by reference: `latest` or an id (or a unique id prefix).
   * Incomplete backups are refused with an explanation.
   */
  async resolve(target: string, ref: string): Promise<Manifest> {
    const all = await this.listBackups(target, { manifests: 'none' });
    if (ref === 'latest') {
      const newest = all.filter((b) => b.status === 'complete').at(-1);
      if (!newest)
        throw new NotFoundError(`no complete backup of target '${target}' in '${this.storage.location}'`, {
          hint: "run 'fapiao-guard backup' first",
        });
      return this.readManifest(target, newest.id);
    }
    const matches = all.filter((b) => b.id === ref || b.id.startsWith(ref));
    // a mistyped id is the caller's mistake (exit 2); "nothing to restore at all" above is not
    if (matches.length === 0)
      throw new UsageError(`no backup '${ref}' of target '${target}' in '${this.storage.location}'`, {
        hint: "'fapiao-guard list' shows the backups",
      });
    if (matches.length > 1)
      throw new UsageError(`backup id '${ref}' is ambiguous: ${matches.map((m) => m.id).join(', ')}`);
    const match = matches[0]!;
    if (match.status !== 'complete') {
      throw new NotFoundError(
        `backup '${target}/${match.id}' is incomplete (no manifest): it never finished and cannot be restored`,
        {
          hint: 'an interrupted or failed backup; prune removes it',
        },
      );
    }
    return this.readManifest(target, match.id);
  }
}

/** Run `fn` over `items`, at most `limit` at a time; the first failure is thrown once all settled. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
