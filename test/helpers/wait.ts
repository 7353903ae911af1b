// Waiting on state instead of sleeping: poll `check` until it returns a value, with a deadline the
// caller derives from what it waits for (plus room for a busy machine), failing with what it waited for.

export interface WaitOptions {
  /** between checks (default 100 ms) */
  pollMs?: number;
  /** a reason to stop waiting at once (the process doing the work has exited, say) */
  abandon?: () => string | undefined;
}

/** Poll until `check` returns a value other than undefined, or fail after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    const gone = options.abandon?.();
    if (gone !== undefined) throw new Error(`${gone} while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}

/** For `abandon`: a function that names how `p` ended once it has (undefined before). */
export function watch(p: Promise<unknown>, name: string): () => string | undefined {
  let state: string | undefined;
  p.then(
    () => (state = `${name} finished`),
    (err: unknown) => (state = `${name} failed (${err instanceof Error ? err.message : String(err)})`),
  );
  return () => state;
}
