// A backup bound to its identity. The manifest is plaintext and anyone who can write to the
// repository can edit it; the details object is encrypted and authenticated (age), so nobody
// without the file key can change its bytes unnoticed. The details therefore carry the backup's
// identity (id, target, database, snapshot, start time, server) and the size and sha256 of every
// other object of the backup: verify --deep, restore and drill compare them with the manifest,
// and the manifest's sha256 with the stored bytes. Backup A's objects copied into backup B's
// manifest fail one of the two comparisons. Kept apart from src/core/pg/details.ts (which measures
// tables) so the two change independently.
import { IntegrityError } from '../core/errors.js';
import type { BackupDetails } from '../core/pg/details.js';
import type { Manifest } from '../core/repository/manifest.js';

export interface BackupIdentity {
  backupId: string;
  target: string;
  database: string;
  snapshot: string;
  startedAt: string;
  systemIdentifier?: string;
  /** every other object of the backup, pinned by what is stored */
  objects: Array<{ name: string; size: number; sha256: string }>;
}

/** The details as stored: the table measurements plus, under `backup`, the identity. */
export type BoundDetails = BackupDetails & { backup?: BackupIdentity };

export const DETAILS_OBJECT = 'details.json.age';

export function bindDetails(details: BackupDetails, identity: BackupIdentity): BoundDetails {
  return { ...details, backup: identity };
}

/** Pure: what in the manifest disagrees with the identity inside the details (empty when bound). */
export function identityMismatches(details: BoundDetails, manifest: Manifest): string[] {
  const id = details.backup;
  if (!id || typeof id !== 'object' || !Array.isArray(id.objects)) {
    return [
      'its details carry no backup identity (taken before fapiao-guard bound backups to their identity, or forged)',
    ];
  }
  const out: string[] = [];
  const field = (name: string, inDetails: string | undefined, inManifest: string | undefined): void => {
    if (inDetails !== inManifest)
      out.push(
        `${name} is '${inManifest ?? '(none)'}' in the manifest but '${inDetails ?? '(none)'}' in the encrypted details`,
      );
  };
  field('backup id', id.backupId, manifest.id);
  field('target', id.target, manifest.target);
  field('database', id.database, manifest.database);
  field('snapshot', id.snapshot, manifest.snapshot);
  field('start time', id.startedAt, manifest.startedAt);
  if (id.systemIdentifier || manifest.server.systemIdentifier)
    field('server system identifier', id.systemIdentifier, manifest.server.systemIdentifier);
  const pinned = new Map(id.objects.map((o) => [o.name, o]));
  for (const object of manifest.objects) {
    if (object.name === DETAILS_OBJECT) continue;
    const p = pinned.get(object.name);
    if (!p) out.push(`object '${object.name}' is not part of this backup according to its encrypted details`);
    else if (p.sha256 !== object.sha256 || p.size !== object.size)
      out.push(
        `object '${object.name}' is not the one this backup stored (sha256 ${object.sha256.slice(0, 12)}…, the details pin ${p.sha256.slice(0, 12)}…)`,
      );
    pinned.delete(object.name);
  }
  for (const name of pinned.keys()) out.push(`object '${name}' of this backup is missing from the manifest`);
  return out;
}

/** Throws an IntegrityError (exit 1) naming the first mismatch, and how many there are. */
export function assertBound(details: BoundDetails, manifest: Manifest): void {
  const problems = identityMismatches(details, manifest);
  if (problems.length === 0) return;
  // Fail closed: an unbound backup cannot be told apart from objects swapped in by someone who can
  // write to the repository. An operator who trusts an older backup still has the stock tools.
  const unbound = details.backup === undefined;
  throw new IntegrityError(
    `backup '${manifest.target}/${manifest.id}' is not bound to its identity: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
    {
      hint: unbound
        ? 'take a new backup now; if you trust this older one, restore it by hand with age, zstd and pg_restore (README: Restore by hand)'
        : 'the manifest or objects were changed or copied from another backup; do not restore it, take a new backup and check who can write to the repository',
    },
  );
}
