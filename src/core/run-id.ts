// Run ids: UTC start time plus a short random suffix, so lexical order is time order. Backups,
// drills and reconcile runs are all named this way; a backup's id is the id of the run that took it.
import { randomBytes } from 'node:crypto';

const ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{4}$/;

export function makeBackupId(at: Date, suffix = randomBytes(2).toString('hex')): string {
  const iso = at.toISOString(); // 2026-11-28T02:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z-${suffix}`;
}

export function isBackupId(text: string): boolean {
  return ID.test(text);
}

/** The start time encoded in an id. */
export function backupIdTime(id: string): Date | undefined {
  const m = ID.exec(id);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

// the neutral names, for drills and reconcile runs
export { makeBackupId as makeRunId, isBackupId as isRunId, backupIdTime as runIdTime };
