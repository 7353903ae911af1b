// Runs parseUpstreamFiles in a worker thread with a heap cap: parsing a large export takes seconds
// of CPU, which on the main thread would stall the daemon's scheduler, heartbeats and /healthz.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, InternalError, OperationError } from '../../core/errors.js';
import { type FileParseOptions, type FileParseResult, parseUpstreamFiles } from './file-parse.js';
import { type InputLimits, formatSize } from './input-limits.js';

interface WorkerError {
  kind: 'config' | 'operation' | 'other' | 'foreign';
  name: string;
  code?: string;
  message: string;
  hint?: string;
}

/**
 * The compiled worker next to this module; when this module runs from TypeScript sources (the
 * tests), the one `npm run build` put in dist/. Undefined when neither exists: parse in this thread.
 */
function workerFile(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../../../dist/src/reconcile/sources/file-parse-worker.js', here)
    : new URL('./file-parse-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

/** Up to this many bytes of CSV parse in a few milliseconds: less than starting a worker costs. */
const IN_THREAD_CSV_BYTES = 256 * 1024;

/** Only CSV files, small together (an .xlsx always goes to the worker: its inflated size is unknown here). */
function smallText(files: readonly string[]): boolean {
  let total = 0;
  for (const f of files) {
    if (!/\.(csv|txt|tsv)$/i.test(f)) return false;
    try {
      total += statSync(f).size;
    } catch {
      return false; // the parser reports it
    }
  }
  return total <= IN_THREAD_CSV_BYTES;
}

export function parseInWorker(
  files: readonly string[],
  options: FileParseOptions,
  limits: InputLimits,
  signal?: AbortSignal,
): Promise<FileParseResult> {
  const file = workerFile();
  if (!file || smallText(files)) return Promise.resolve().then(() => parseUpstreamFiles(files, options, limits));
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, {
      workerData: { files, options, limits },
      resourceLimits: { maxOldGenerationSizeMb: Math.ceil(limits.maxParseMemory / 2 ** 20) },
      stderr: false,
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      settle(() => reject(signal!.reason));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (msg: { ok?: FileParseResult; error?: WorkerError }) => {
      settle(() => (msg.ok ? resolve(msg.ok) : reject(rebuild(msg.error!, options.path))));
      void worker.terminate();
    });
    worker.once('error', (err: Error & { code?: string }) => {
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new OperationError(
                `parsing upstream '${options.path}' needed more than ${formatSize(limits.maxParseMemory)} of memory (reconcile.limits.maxParseMemory)`,
                {
                  hint: 'check that this is the intended export; lower the other reconcile.limits, or raise maxParseMemory if the machine has the memory',
                },
              )
            : new InternalError(`the upstream parser failed: ${err.message}`, { cause: err }),
        ),
      );
    });
    worker.once('exit', (code) =>
      settle(() => reject(new InternalError(`the upstream parser ended (exit ${code}) without an answer`))),
    );
  });
}

function rebuild(e: WorkerError, what: string): Error {
  if (e.kind === 'config') return new ConfigError(e.message, [], e.hint !== undefined ? { hint: e.hint } : {});
  if (e.kind === 'operation') return new OperationError(e.message, e.hint !== undefined ? { hint: e.hint } : {});
  // V8's own limits (longest string, largest array) reached by hostile input: not a bug of ours
  if (e.name === 'RangeError' || e.code === 'ERR_STRING_TOO_LONG') {
    return new OperationError(`upstream '${what}' is too large to parse: ${e.message}`, {
      hint: 'check that this is the intended export; lower reconcile.limits so that it is refused earlier',
    });
  }
  const err = new InternalError(e.message);
  err.name = e.name;
  return err;
}
