// The error taxonomy and its exit codes, in one place (docs/ARCHITECTURE.md#error-taxonomy).
// Messages are one line, lowercase, name their subject in quotes and carry a hint where the fix is known.
// Errors become strings here (constructor, messageOf, formatError), and here secrets are masked:
// whatever a library put in its message (undici repeats URLs with their userinfo) never reaches
// job history, /status, notifications or logs in clear.
import { maskSecrets } from './storage/mask-url.js';

export const ExitCode = {
  ok: 0,
  /** a check ran and found a problem: verify mismatch, failed drill, findings over threshold, stale status */
  checkFailed: 1,
  /** usage or configuration error */
  usage: 2,
  /** the operation could not complete: database, storage, pg_dump, network */
  operation: 3,
  /** a bug */
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface FgErrorOptions {
  hint?: string;
  cause?: unknown;
}

export abstract class FgError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** how to fix it, where known; a caller that knows more context may amend it */
  hint?: string;
  constructor(message: string, options: FgErrorOptions = {}) {
    super(maskSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.hint !== undefined) this.hint = maskSecrets(options.hint);
  }
}

/** Bad command line or arguments. */
export class UsageError extends FgError {
  readonly exitCode = ExitCode.usage;
}

/** Invalid configuration; `issues` lists every problem with its path. */
export class ConfigError extends FgError {
  readonly exitCode = ExitCode.usage;
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options: FgErrorOptions = {}) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message, options);
    this.issues = issues;
  }
}

/** A check ran and found a problem (checksum mismatch, failed drill, …). */
export class CheckFailedError extends FgError {
  readonly exitCode = ExitCode.checkFailed;
}

/** Stored bytes are not what the manifest says, or decryption authentication failed. */
export class IntegrityError extends CheckFailedError {}

/** Something outside us failed: database, storage, a child process, the network. */
export class OperationError extends FgError {
  readonly exitCode = ExitCode.operation;
}

/** The named object, backup or database does not exist. */
export class NotFoundError extends OperationError {}

/** The run was cancelled (SIGINT/SIGTERM). */
export class InterruptedError extends OperationError {}

/** A bug: something we believed impossible happened. */
export class InternalError extends FgError {
  readonly exitCode = ExitCode.internal;
}

export function isFgError(err: unknown): err is FgError {
  return err instanceof FgError;
}

/** The exit code for any thrown value: ours carry one, anything else is a bug. */
export function exitCodeOf(err: unknown): ExitCodeValue {
  return isFgError(err) ? err.exitCode : ExitCode.internal;
}

/** One line for the terminal: `fapiao-guard: <message>` plus `hint: …` where known. */
export function formatError(err: unknown): string {
  if (isFgError(err)) {
    return `fapiao-guard: ${oneLine(maskSecrets(err.message))}${err.hint ? ` (hint: ${oneLine(maskSecrets(err.hint))})` : ''}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `fapiao-guard: internal error: ${oneLine(maskSecrets(message))} (hint: this is a bug; rerun with --log-level debug and report the output)`;
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The message of an unknown thrown value, for wrapping into our own errors. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return maskSecrets(err.message || err.name);
  return maskSecrets(String(err));
}
