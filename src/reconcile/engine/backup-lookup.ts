// When was a missing invoice lost? Search the key indexes (invoice-keys.age) of the local target's
// newest backups, newest first: the first backup holding a key is the last one before it was lost.
import { loadIdentities } from '../../core/encryption-keys.js';
import { INVOICE_KEYS_NAME, scanInvoiceKeys } from '../../backup/invoice-keys.js';
import type { Config } from '../../core/config/config.js';
import type { Identity } from '../../core/crypto/index.js';
import { isFgError, messageOf } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type Manifest, findObject } from '../../core/repository/manifest.js';
import { Repository } from '../../core/repository/repository.js';
import { openStorage } from '../../core/storage/open-storage.js';
import { type ReconcileConfig, localTableTarget } from '../reconcile-config.js';
import type { Finding } from '../model/types.js';

/** What the lookup did, for the report's run parameters (no secret: paths and ids only). */
export interface BackupLookupInfo {
  /** reconcile.backupLookup: how many backups may be searched */
  limit: number;
  target?: string;
  /** backups whose key index was read, newest first */
  searched: string[];
  /** missing invoices found in one of them */
  found: number;
  /** why nothing was searched */
  skipped?: string;
  /** the same as an id (LOOKUP_SKIPS in report-i18n.ts translates it) */
  skippedCode?: LookupSkipCode;
  /** backups whose key index could not be read (integrity, storage), with the reason */
  problems?: string[];
}

export interface BackupLookupOptions {
  config: Config;
  rc: ReconcileConfig;
  findings: readonly Finding[];
  logger: Logger;
  signal?: AbortSignal;
  /** the repository (default: config.repository) */
  repo?: Repository;
}

export type LookupSkipCode =
  | 'disabled'
  | 'not_a_target'
  | 'nothing_to_look_up'
  | 'no_identity'
  | 'identity_unreadable'
  | 'repository_unreadable'
  | 'no_key_index';

/** Missing invoices a backup can explain: not pending sync (not yet due locally). */
const lookedUp = (f: Finding): boolean => f.kind === 'missing' && f.cause !== 'pending_sync';

/**
 * Marks missing findings found in a backup: cause `in_backup` with the backup's id and finish time
 * (a probable_typo keeps its cause and gains the evidence). Never fails the run: a lookup that
 * cannot happen says why in the returned info.
 */
export async function lookUpInBackups(options: BackupLookupOptions): Promise<BackupLookupInfo> {
  const { config, rc } = options;
  const info: BackupLookupInfo = { limit: rc.backupLookup, searched: [], found: 0 };
  const skip = (code: LookupSkipCode, why: string): BackupLookupInfo => ({ ...info, skipped: why, skippedCode: code });
  if (rc.backupLookup === 0) return skip('disabled', 'disabled (reconcile.backupLookup: 0)');
  const local = localTableTarget(
    rc,
    config.targets.map((t) => t.name),
  );
  if (!local)
    return skip('not_a_target', 'reconcile.local is not the table of a configured target, so no backup holds its keys');
  info.target = local.target;
  const wanted = options.findings.filter(lookedUp);
  if (wanted.length === 0) return skip('nothing_to_look_up', 'no missing invoices to look up');
  if (!config.encryption.identityFile)
    return skip('no_identity', 'no encryption.identityFile configured: the key indexes are encrypted');
  let identities: Identity[];
  try {
    identities = await loadIdentities(config);
  } catch (err) {
    return skip('identity_unreadable', isFgError(err) ? err.message : messageOf(err));
  }
  let backups: Manifest[];
  const repo =
    options.repo ??
    new Repository(await openStorage(config.repository.url, { s3: config.repository.s3, logger: options.logger }));
  try {
    backups = (await repo.listBackups(local.target))
      .flatMap((b) => (b.manifest && findObject(b.manifest, INVOICE_KEYS_NAME) ? [b.manifest] : []))
      // newest first by start time (ms): ids order by the second only, then by a random suffix
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id))
      .slice(0, rc.backupLookup);
  } catch (err) {
    options.logger.warn({ err: messageOf(err) }, 'backup lookup skipped: the repository cannot be listed');
    return skip(
      'repository_unreadable',
      `the repository cannot be listed: ${isFgError(err) ? err.message : messageOf(err)}`,
    );
  }
  if (backups.length === 0)
    return skip('no_key_index', `no backup of '${local.target}' has an invoice key index (${INVOICE_KEYS_NAME}) yet`);

  const problems = await searchNewestFirst(repo, backups, wanted, identities, info, options);
  return { ...info, ...(problems.length > 0 ? { problems } : {}) };
}

/**
 * Reads the key indexes of `backups` (newest first) until every wanted key is found, marking each
 * finding with the newest backup that held its key; counts into `info`. Returns the backups that
 * could not be read, with the reason.
 */
async function searchNewestFirst(
  repo: Repository,
  backups: readonly Manifest[],
  wanted: readonly Finding[],
  identities: readonly Identity[],
  info: BackupLookupInfo,
  options: BackupLookupOptions,
): Promise<string[]> {
  const remaining = new Map<string, Finding[]>();
  for (const f of wanted) remaining.set(f.key, [...(remaining.get(f.key) ?? []), f]);
  const problems: string[] = [];
  /** the newer neighbour of the backup being read, when it was read in full: it no longer had the keys found now */
  let newerReadInFull: Manifest | undefined;
  for (const manifest of backups) {
    if (remaining.size === 0) break;
    info.searched.push(manifest.id);
    const hits = new Set<string>(); // a set: a key the table held twice is one hit
    let complete = false;
    try {
      complete = await scanInvoiceKeys(
        repo,
        manifest,
        findObject(manifest, INVOICE_KEYS_NAME)!,
        identities,
        (key) => {
          if (remaining.has(key)) hits.add(key);
          return hits.size < remaining.size; // stop early once every key is found
        },
        options.signal,
      );
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const why = isFgError(err) ? err.message : messageOf(err);
      problems.push(`${manifest.id}: ${why}`);
      options.logger.warn(
        { backup: manifest.id, err: why },
        'backup lookup: cannot read the invoice key index; trying older backups',
      );
    }
    // Keys seen before a failure came from authenticated age chunks: they count.
    for (const key of hits) {
      for (const f of remaining.get(key) ?? []) mark(f, manifest, newerReadInFull);
      info.found += remaining.get(key)?.length ?? 0;
      remaining.delete(key);
    }
    newerReadInFull = complete ? manifest : undefined;
  }
  return problems;
}

function mark(f: Finding, backup: Manifest, newer: Manifest | undefined): void {
  f.evidence.inBackup = backup.id;
  f.evidence.backupFinishedAt = backup.finishedAt;
  if (newer) f.evidence.notInLaterBackup = newer.id;
  if (f.cause !== undefined) return; // probable_typo: the pairing still explains what is local
  f.cause = 'in_backup';
  f.evidence.reason = `the local table had the invoice in backup ${backup.id}${newer ? ` but not in the next one, ${newer.id}` : ''}: it was lost after that backup; restore it from there`;
}

/**
 * After the lookup: a missing invoice it could not settle (skipped, or a backup unreadable) gets
 * `evidence.notLookedUp` saying why, and reports show its cause as `not_looked_up` (未查备份), so none
 * implies it never arrived. Its `cause` stays what classify found: the finding's identity and
 * history in the state database do not depend on whether backups could be read. Returns how many.
 */
export function markNotLookedUp(findings: readonly Finding[], info: BackupLookupInfo): number {
  const why =
    info.skipped ?? (info.problems?.length ? `backups that could not be read: ${info.problems.join('; ')}` : undefined);
  if (why === undefined || info.skippedCode === 'nothing_to_look_up') return 0;
  let marked = 0;
  for (const f of findings) {
    if (!lookedUp(f) || f.cause !== undefined) continue;
    f.evidence.notLookedUp = why;
    marked += 1;
  }
  return marked;
}

/** The cause reports show: the finding's own, else `not_looked_up` when the backups were not searched for it. */
export function shownCause(f: Pick<Finding, 'cause' | 'evidence'>): string | undefined {
  return f.cause ?? (typeof f.evidence.notLookedUp === 'string' ? 'not_looked_up' : undefined);
}
