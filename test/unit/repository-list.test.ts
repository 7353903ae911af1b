// Listing backups reads only the manifests asked for: `status` and `latest` need one per target,
// however many backups a repository holds (one GET each on S3).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/errors.js';
import { Repository } from '../../src/core/repository/repository.js';
import { FileStorage } from '../../src/core/storage/file-storage.js';
import type { Storage } from '../../src/core/storage/storage.js';
import { writeFakeBackup } from '../prune/fake-backups.js';

let dir: string;
let loads: string[];
let repo: Repository;
const ids: Record<string, string[]> = { a: [], b: [] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fgt-list-'));
  const inner = new FileStorage(pathToFileURL(dir).href);
  loads = [];
  const counting: Storage = {
    location: inner.location,
    save: (n, b, o) => inner.save(n, b, o),
    load: (n, o) => (loads.push(n), inner.load(n, o)),
    stat: (n) => inner.stat(n),
    list: (p) => inner.list(p),
    remove: (n) => inner.remove(n),
  };
  repo = new Repository(counting);
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < 12; i++) ids.a!.push(await writeFakeBackup(repo, 'a', new Date(t0 + i * 86_400_000)));
  for (let i = 0; i < 3; i++) ids.b!.push(await writeFakeBackup(repo, 'b', new Date(t0 + i * 86_400_000)));
  await writeFakeBackup(repo, 'a', new Date(t0 + 20 * 86_400_000), false); // newest of a: incomplete
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listBackups', () => {
  it('reads every manifest by default, none or only the newest complete one per target when asked', async () => {
    loads.length = 0;
    const all = await repo.listBackups();
    expect(all).toHaveLength(16);
    expect(all.filter((b) => b.manifest)).toHaveLength(15);
    expect(loads).toHaveLength(15);

    loads.length = 0;
    const newest = await repo.listBackups(undefined, { manifests: 'newest' });
    expect(newest.map((b) => b.status)).toEqual(all.map((b) => b.status));
    expect(
      newest
        .filter((b) => b.manifest)
        .map((b) => b.id)
        .sort(),
    ).toEqual([ids.a!.at(-1), ids.b!.at(-1)].sort());
    expect(loads).toHaveLength(2);

    loads.length = 0;
    const none = await repo.listBackups('a', { manifests: 'none' });
    expect(none.filter((b) => b.status === 'complete').map((b) => b.id)).toEqual(ids.a);
    expect(none.at(-1)!.status).toBe('incomplete');
    expect(loads).toHaveLength(0);
  });

  it('resolve reads one manifest: latest skips the newer incomplete backup; an incomplete id is refused', async () => {
    loads.length = 0;
    expect((await repo.resolve('a', 'latest')).id).toBe(ids.a!.at(-1));
    expect((await repo.resolve('a', ids.a![3]!)).id).toBe(ids.a![3]);
    expect(loads).toHaveLength(2);
    const incomplete = (await repo.listBackups('a', { manifests: 'none' })).at(-1)!.id;
    await expect(repo.resolve('a', incomplete)).rejects.toBeInstanceOf(NotFoundError);
  });
});
