// The worker thread of file-parse-in-worker.ts: parse, then post the result or the error's parts
// (error classes do not survive structured cloning; the main thread rebuilds ours from them).
import { parentPort, workerData } from 'node:worker_threads';
import { isFgError } from '../../core/errors.js';
import { type FileParseOptions, parseUpstreamFiles } from './file-parse.js';
import type { InputLimits } from './input-limits.js';

const { files, options, limits } = workerData as { files: string[]; options: FileParseOptions; limits: InputLimits };
try {
  parentPort!.postMessage({ ok: parseUpstreamFiles(files, options, limits) });
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort!.postMessage({
    error: {
      kind: isFgError(err) ? (err.exitCode === 2 ? 'config' : err.exitCode === 3 ? 'operation' : 'other') : 'foreign',
      name: e?.name ?? 'Error',
      code: e?.code,
      message: e?.message ?? String(err),
      hint: isFgError(err) ? err.hint : undefined,
    },
  });
}
