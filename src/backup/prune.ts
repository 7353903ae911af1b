// prune for one target: list, plan (retention-plan.ts), report the plan, then delete. A complete
// backup loses its manifest first, so a half-deleted backup never looks complete (pgBackRest order).
import { InterruptedError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { backupIdTime } from '../core/run-id.js';
import { MANIFEST_NAME } from '../core/repository/manifest.js';
import type { BackupEntry, Repository } from '../core/repository/repository.js';
import { incompleteUploadsOf, leftoversOf } from '../core/storage/incomplete-uploads.js';
import type { RetentionPolicy } from './retention-config.js';
import { describePolicy } from './retention-config.js';
import { type PlanEntry, planRetention } from './retention-plan.js';

export interface UploadEntry {
  name: string;
  uploadId: string;
  initiated: string | null;
  action: 'keep' | 'abort';
  reason: string;
}

/** A temp file of a killed save, or an empty backup folder (file:// repositories). */
export interface LeftoverEntry {
  name: string;
  kind: 'temp file' | 'empty folder';
  size: number;
  modified: string;
  action: 'keep' | 'remove';
  reason: string;
}

export interface PrunePlan {
  target: string;
  policy: string;
  backups: PlanEntry[];
  uploads: UploadEntry[];
  leftovers: LeftoverEntry[];
}

export type Outcome = 'kept' | 'deleted' | 'would delete' | 'retained' | 'failed';

export interface PruneResult {
  target: string;
  dryRun: boolean;
  policy: string;
  backups: Array<Omit<PlanEntry, 'startedAt'> & { startedAt: string; outcome: Outcome; note?: string }>;
  uploads: Array<UploadEntry & { outcome: Outcome; note?: string }>;
  leftovers: Array<LeftoverEntry & { outcome: Outcome; note?: string }>;
  deleted: number;
  deletedBytes: number;
  retained: number;
  failed: number;
}

export interface PruneContext {
  repo: Repository;
  logger: Logger;
  signal?: AbortSignal;
  timeZone: string;
  /** S3 Object Lock is configured: an AccessDenied on delete means "locked", not "no permission" */
  objectLock: boolean;
}

export async function planPrune(
  ctx: PruneContext,
  target: string,
  policy: RetentionPolicy,
  now = new Date(),
): Promise<PrunePlan> {
  const entries = await ctx.repo.listBackups(target);
  const backups = planRetention(entries.map(toPlanInput), policy, now, ctx.timeZone);
  const uploads: UploadEntry[] = [];
  const multipart = incompleteUploadsOf(ctx.repo.storage);
  if (multipart) {
    for await (const u of multipart.listIncompleteUploads(`backups/${target}/`)) {
      const age = u.initiated ? (now.getTime() - u.initiated.getTime()) / 1000 : undefined;
      const old = age !== undefined && age > policy.incompleteAfter;
      uploads.push({
        name: u.name,
        uploadId: u.uploadId,
        initiated: u.initiated?.toISOString() ?? null,
        action: old ? 'abort' : 'keep',
        reason:
          age === undefined
            ? 'start time unknown: left alone'
            : old
              ? 'abandoned multipart upload'
              : 'recent multipart upload: may still be running',
      });
    }
  }
  const leftovers: LeftoverEntry[] = [];
  const stray = leftoversOf(ctx.repo.storage);
  if (stray) {
    for (const l of await stray.listLeftovers(`backups/${target}/`)) {
      const old = (now.getTime() - l.modified.getTime()) / 1000 > policy.incompleteAfter;
      leftovers.push({
        name: l.name,
        kind: l.kind,
        size: l.size,
        modified: l.modified.toISOString(),
        action: old ? 'remove' : 'keep',
        reason: old
          ? `${l.kind === 'temp file' ? 'left by an interrupted save' : 'left by a failed or pruned backup'}, older than incompleteAfter`
          : 'younger than incompleteAfter: a backup may still be writing it',
      });
    }
  }
  return { target, policy: describePolicy(policy), backups, uploads, leftovers };
}

/** Carry out a plan (or only report it with dryRun). Errors per backup are collected, not thrown. */
export async function executePrune(ctx: PruneContext, plan: PrunePlan, dryRun: boolean): Promise<PruneResult> {
  const result: PruneResult = {
    target: plan.target,
    dryRun,
    policy: plan.policy,
    backups: [],
    uploads: [],
    leftovers: [],
    deleted: 0,
    deletedBytes: 0,
    retained: 0,
    failed: 0,
  };
  const entries = new Map((await ctx.repo.listBackups(plan.target)).map((e) => [e.id, e]));
  for (const b of plan.backups) {
    const row = { ...b, startedAt: b.startedAt.toISOString() };
    if (b.action === 'keep') {
      result.backups.push({ ...row, outcome: 'kept' });
      continue;
    }
    if (dryRun) {
      result.backups.push({ ...row, outcome: 'would delete' });
      continue;
    }
    if (ctx.signal?.aborted)
      throw new InterruptedError(`prune of '${plan.target}' interrupted after ${result.deleted} deletions`);
    const entry = entries.get(b.id);
    const outcome = entry ? await deleteBackup(ctx, entry) : { outcome: 'deleted' as const, note: 'already gone' };
    result.backups.push({ ...row, ...outcome });
    if (outcome.outcome === 'deleted') {
      result.deleted++;
      result.deletedBytes += b.storedBytes;
    } else if (outcome.outcome === 'retained') result.retained++;
    else result.failed++;
  }
  const multipart = incompleteUploadsOf(ctx.repo.storage);
  result.failed += await removeEach(
    plan.uploads,
    multipart && ((u) => multipart.abortIncompleteUpload(u)),
    dryRun,
    result.uploads,
  );
  const stray = leftoversOf(ctx.repo.storage);
  result.failed += await removeEach(
    plan.leftovers,
    stray && ((l) => stray.removeLeftover(l)),
    dryRun,
    result.leftovers,
  );
  ctx.logger.info(
    {
      target: plan.target,
      deleted: result.deleted,
      deletedBytes: result.deletedBytes,
      retained: result.retained,
      failed: result.failed,
      dryRun,
    },
    'prune finished',
  );
  return result;
}

async function deleteBackup(ctx: PruneContext, entry: BackupEntry): Promise<{ outcome: Outcome; note?: string }> {
  const manifestFirst = [...entry.objects].sort(
    (a, b) => Number(b.name === MANIFEST_NAME) - Number(a.name === MANIFEST_NAME),
  );
  for (const object of manifestFirst) {
    const name = ctx.repo.objectPath(entry.target, entry.id, object.name);
    try {
      await ctx.repo.storage.remove(name);
    } catch (err) {
      if (isRetentionRefusal(err, ctx.objectLock)) {
        ctx.logger.info({ object: name }, 'object is under S3 Object Lock retention: kept');
        const until = /\((?:GOVERNANCE|COMPLIANCE) until [^)]+\)/.exec(messageOf(err))?.[0];
        return {
          outcome: 'retained',
          note: `'${object.name}' is under Object Lock retention${until ? ` ${until}` : ''}`,
        };
      }
      ctx.logger.warn({ object: name, err: messageOf(err) }, 'could not delete');
      return { outcome: 'failed', note: messageOf(err) };
    }
  }
  ctx.logger.info({ target: entry.target, backup: entry.id, status: entry.status }, 'backup deleted');
  return { outcome: 'deleted' };
}

/**
 * S3 refuses to delete a locked object version with AccessDenied (AWS) or a WORM/retention message
 * (MinIO, Ceph). A plain AccessDenied counts only when Object Lock is configured for the repository.
 */
export function isRetentionRefusal(err: unknown, objectLock: boolean): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const name = (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
    const message = e instanceof Error ? e.message : '';
    if (name === 'ObjectLocked' || /object ?lock|WORM|retention/i.test(message)) return true;
    if (name === 'AccessDenied' && objectLock) return true;
  }
  return false;
}

function toPlanInput(e: BackupEntry) {
  return { id: e.id, status: e.status, startedAt: backupIdTime(e.id) ?? new Date(0), storedBytes: e.storedBytes };
}

/**
 * Abandoned uploads and leftovers: each one marked for deletion is removed (or, on a dry run, said
 * to be), where the storage can remove such things at all; returns how many removals failed.
 */
async function removeEach<T extends { action: string }>(
  items: readonly T[],
  remove: ((item: T) => Promise<void>) | undefined,
  dryRun: boolean,
  out: Array<T & { outcome: Outcome; note?: string }>,
): Promise<number> {
  let failed = 0;
  for (const item of items) {
    if (item.action === 'keep' || !remove) out.push({ ...item, outcome: 'kept' });
    else if (dryRun) out.push({ ...item, outcome: 'would delete' });
    else {
      try {
        await remove(item);
        out.push({ ...item, outcome: 'deleted' });
      } catch (err) {
        failed++;
        out.push({ ...item, outcome: 'failed', note: messageOf(err) });
      }
    }
  }
  return failed;
}
