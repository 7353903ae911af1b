// The file InvoiceSource: tax platform exports (.xlsx sheet 信息汇总表, or .csv in UTF-8, UTF-8
// with BOM or GB18030), one or a glob of many. Every row is validated; line items are aggregated.
// Reading and parsing happen in a worker thread (file-parse-in-worker.ts), within reconcile.limits.
import { ConfigError } from '../../core/errors.js';
import type { ColumnMap } from './export-columns.js';
import { type FileParseOptions, DEFAULT_SHEET, aggregateLineItems } from './file-parse.js';
import { parseInWorker } from './file-parse-in-worker.js';
import { expandGlob } from './glob.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { MemorySource } from './memory-source.js';

export interface FileSourceOptions extends FileParseOptions {
  /** a file or a glob (`./exports/*.xlsx`), relative to `baseDir` */
  path: string;
  limits?: InputLimits;
  signal?: AbortSignal;
}

export { DEFAULT_SHEET, aggregateLineItems };

export async function openFileSource(
  options: FileSourceOptions,
): Promise<MemorySource & { invalidKeys: Map<string, string> }> {
  const files = await expandGlob(options.path, options.baseDir);
  if (files.length === 0)
    throw new ConfigError(`no upstream file matches '${options.path}'`, [], {
      hint: `paths are relative to ${options.baseDir}; check reconcile.upstream.path`,
    });
  const { limits, signal, ...parse } = options;
  const result = await parseInWorker(files, parse, limits ?? DEFAULT_INPUT_LIMITS, signal);
  const source = new MemorySource(
    { kind: 'file', location: options.path, hashes: true, files: result.details },
    result.invoices,
    { errors: result.errors, warnings: result.warnings },
    result.fields,
  );
  return Object.assign(source, { invalidKeys: new Map(result.invalidKeys) });
}

export type { ColumnMap };
