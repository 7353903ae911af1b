// Node file-system error codes turned into one-line storage errors with a hint.
import { StorageError } from './storage-errors.js';

interface Known {
  text: string;
  hint?: string;
  permanent: boolean;
}

const ACCESS: Known = {
  text: 'permission denied',
  hint: 'check that the user running fapiao-guard may read and write the repository directory',
  permanent: true,
};

const KNOWN: Record<string, Known> = {
  ENOSPC: {
    text: 'no space left on device',
    hint: 'disk full: free space on the repository volume or prune old backups',
    permanent: true,
  },
  EDQUOT: {
    text: 'disk quota exceeded',
    hint: 'disk quota full: raise the quota or prune old backups',
    permanent: true,
  },
  EFBIG: { text: 'file too large for this file system', permanent: true },
  EACCES: ACCESS,
  EPERM: ACCESS,
  EROFS: { text: 'read-only file system', hint: 'mount the repository volume read-write', permanent: true },
  ENOTDIR: { text: 'a parent of the path is not a directory', permanent: true },
  EISDIR: { text: 'the path is a directory', permanent: true },
  ENAMETOOLONG: { text: 'name too long', permanent: true },
  EIO: { text: 'i/o error', hint: 'check the disk or network mount holding the repository', permanent: false },
  ESTALE: { text: 'stale file handle', hint: 'the NFS mount was interrupted; check it', permanent: false },
  EMFILE: { text: 'too many open files', hint: 'raise the open-file limit (ulimit -n)', permanent: false },
  ENFILE: { text: 'too many open files in the system', permanent: false },
  EAGAIN: { text: 'resource temporarily unavailable', permanent: false },
  EBUSY: { text: 'resource busy', permanent: false },
  ETIMEDOUT: { text: 'timed out', hint: 'check the network mount holding the repository', permanent: false },
};

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `cannot write '/repo/backups/x/dump.age': no space left on device (ENOSPC)` plus a hint. */
export function fsError(err: unknown, verb: string, path: string): StorageError {
  const code = errnoOf(err);
  const known = code === undefined ? undefined : KNOWN[code];
  const text = known?.text ?? (err instanceof Error ? err.message : String(err));
  const options = { cause: err, permanent: known?.permanent ?? false };
  return new StorageError(
    `cannot ${verb} '${path}': ${text}${code && known ? ` (${code})` : ''}`,
    known?.hint === undefined ? options : { ...options, hint: known.hint },
  );
}
