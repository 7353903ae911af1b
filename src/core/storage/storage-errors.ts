// What storage failures are and whether retrying can help (restic's IsNotExist / IsPermanentError).
import {
  isFgError,
  InterruptedError,
  NotFoundError,
  OperationError,
  UsageError,
  type FgErrorOptions,
} from '../errors.js';

export interface StorageErrorOptions extends FgErrorOptions {
  /** true when retrying cannot help (permission denied, disk full, no such bucket, bad credentials) */
  permanent?: boolean;
}

/** A storage operation failed; `permanent` tells the retry wrapper not to bother. */
export class StorageError extends OperationError {
  readonly permanent: boolean;
  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, options);
    this.permanent = options.permanent ?? false;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError;
}

/** Retry only what might succeed next time: transient storage errors. Bugs and aborts are final. */
export function isPermanent(err: unknown): boolean {
  if (isAbort(err) || err instanceof InterruptedError) return true;
  if (err instanceof StorageError) return err.permanent;
  if (err instanceof NotFoundError) return true;
  // Other operation errors (network and the like, not classified by a backend) may pass.
  if (err instanceof OperationError) return false;
  // Usage and config errors, and anything not ours (a bug), will fail the same way again.
  return true;
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

/** What a cancelled save or load rejects with: the signal's reason, as `signal.throwIfAborted()` does. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('the operation was aborted'), { name: 'AbortError' });
}

/**
 * Object names are repository-relative and '/'-separated: no empty, '.' or '..' segments, no
 * leading or trailing '/', no backslash or NUL. Both backends enforce this so a name means the same
 * everywhere. A list prefix may also be empty or end in '/'.
 */
export function checkName(name: string, { prefix = false } = {}): string {
  if (prefix && name === '') return name;
  const segments = name.split('/');
  if (prefix && segments.length > 1 && segments.at(-1) === '') segments.pop();
  const bad = name === '' || /[\\\0]/.test(name) || segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new UsageError(`invalid object name '${name}'`, {
      hint: "names are relative, '/'-separated paths without empty, '.' or '..' segments",
    });
  }
  return name;
}

/** The one message for a missing object, whichever backend. */
export function notFound(name: string, location: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`object '${name}' not found in ${location}`, cause === undefined ? {} : { cause });
}

/** The body handed to save failed: keep our own errors as they are, wrap anything else. */
export function inputFailed(name: string, err: unknown): Error {
  if (isFgError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(`cannot save '${name}': reading the input failed: ${message}`, {
    cause: err,
    permanent: true,
  });
}
