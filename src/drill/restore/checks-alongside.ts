// The checks of a restored copy, run alongside the restore: the backup's details are read while
// pg_restore starts, and each table is measured as soon as pg_restore reports its data in.
import { DETAILS_NAME } from '../../backup/backup.js';
import { loadEncryptedText } from '../../backup/encrypted-object.js';
import type { Identity } from '../../core/crypto/index.js';
import { OperationError } from '../../core/errors.js';
import type { BackupDetails, DetailCheck } from '../../core/pg/details.js';
import { type DetailsCheck, type MeasureOptions, startDetailsCheck } from './restored-details.js';
import type { Manifest } from '../../core/repository/manifest.js';
import type { Repository } from '../../core/repository/repository.js';
import type { RestoredTableRef } from './restore-progress.js';

export interface ChecksAlongside {
  /** the backup's details (rejects when they cannot be read: wrong key, damage) */
  readonly details: Promise<BackupDetails>;
  /** give this to the restore (RestoreOptions.onTableData) */
  onTableData(ref: RestoredTableRef): void;
  /** after a successful restore: measure what is left and compare */
  finish(): Promise<DetailCheck[]>;
  /** after a failed restore: stop measuring, close connections */
  cancel(): Promise<void>;
  /** tables measured while the restore was still running */
  measuredEarly(): number;
  /** measurements cancelled because they held up a restore step, then redone */
  yields(): number;
}

export function checksAlongside(
  repo: Repository,
  manifest: Manifest,
  identities: readonly Identity[],
  url: string,
  options: MeasureOptions,
): ChecksAlongside {
  const reported: RestoredTableRef[] = [];
  let check: DetailsCheck | undefined;
  let cancelled = false;
  const details = loadDetails(repo, manifest, identities).then((d) => {
    if (!cancelled) {
      check = startDetailsCheck(url, d, options);
      for (const ref of reported.splice(0)) check.ready(ref);
    }
    return d;
  });
  details.catch(() => undefined); // observed by whoever awaits it
  return {
    details,
    onTableData: (ref) => (check ? check.ready(ref) : void reported.push(ref)),
    async finish() {
      await details;
      return check!.finish();
    },
    async cancel() {
      cancelled = true;
      await details.catch(() => undefined);
      check?.cancel();
    },
    measuredEarly: () => check?.measuredEarly ?? 0,
    yields: () => check?.yields ?? 0,
  };
}

export async function loadDetails(
  repo: Repository,
  manifest: Manifest,
  identities: readonly Identity[],
): Promise<BackupDetails> {
  const object = manifest.objects.find((o) => o.name === DETAILS_NAME);
  if (!object) throw new OperationError(`backup '${manifest.target}/${manifest.id}' has no '${DETAILS_NAME}'`);
  const text = await loadEncryptedText(
    repo.storage,
    repo.objectPath(manifest.target, manifest.id, DETAILS_NAME),
    object,
    identities,
  );
  return JSON.parse(text) as BackupDetails;
}
