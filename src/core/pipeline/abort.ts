// Run parallel branches of one job so that the first failure cancels the others and we still
// wait for every branch to clean up (abort its upload, kill its child) before reporting.
import { InterruptedError } from '../errors.js';

export async function allOrAbort<T extends readonly unknown[]>(
  controller: AbortController,
  branches: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  // The root cause is the failure that came first; later ones are mostly consequences of aborting.
  let first: { reason: unknown } | undefined;
  const settled = await Promise.allSettled(
    branches.map((p) =>
      p.catch((err: unknown) => {
        first ??= { reason: err };
        controller.abort(err);
        throw err;
      }),
    ),
  );
  if (first) throw first.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' ||
      (err as NodeJS.ErrnoException).code === 'ABORT_ERR' ||
      err instanceof InterruptedError)
  );
}

/** A child controller that aborts when the parent signal does. */
export function linkedController(parent?: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent) {
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener('abort', () => controller.abort(parent.reason), { once: true });
  }
  return controller;
}

/** Throws InterruptedError when the run was cancelled, e.g. between phases. */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new InterruptedError(`${what} interrupted`);
}
