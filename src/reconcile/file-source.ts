// The file InvoiceSource: tax platform exports (.xlsx sheet 信息汇总表, or .csv in UTF-8, UTF-8
// with BOM or GB18030), one or a glob of many. Every row is validated; line items are aggregated.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, OperationError, messageOf } from '../errors.js';
import { parseCsv } from './csv.js';
import { type ColumnMap, findHeader } from './export-columns.js';
import { expandGlob } from './glob.js';
import { MemorySource } from './memory-source.js';
import { type Encoding, decodeText } from './text-decode.js';
import type { InputProblem, Invoice } from './types.js';
import { type RawRow, type RowContext, type RowField, validateRow } from './upstream-row.js';
import { XlsxFormatError, readSheet } from './xlsx-reader.js';

export interface FileSourceOptions extends RowContext {
  /** a file or a glob (`./exports/*.xlsx`), relative to `baseDir` */
  path: string;
  baseDir: string;
  encoding?: Encoding;
  sheet?: string;
  /** aggregate consecutive rows of one invoice (a line-item export); auto: when an item column repeats a key */
  lineItems?: 'auto' | boolean;
  /** header names per field, when the export's differ from the platform's */
  columns?: Partial<Record<RowField, string>>;
}

export const DEFAULT_SHEET = '信息汇总表';

interface Table {
  /** file name for evidence */
  name: string;
  rows: Array<{ line: string; cells: string[]; numeric: boolean[] }>;
  detail: string;
}

export async function openFileSource(options: FileSourceOptions): Promise<MemorySource & { invalidKeys: Map<string, string> }> {
  const files = await expandGlob(options.path, options.baseDir);
  if (files.length === 0) throw new ConfigError(`no upstream file matches '${options.path}'`, [], { hint: `paths are relative to ${options.baseDir}; check reconcile.upstream.path` });
  const invoices: Invoice[] = [];
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const invalidKeys = new Map<string, string>();
  const details: string[] = [];
  for (const file of files) {
    const table = await readTable(file, options);
    details.push(table.detail);
    const rows = toRawRows(table, options.columns);
    const results = rows.map((r) => ({ raw: r, result: validateRow(r, options) }));
    for (const { raw, result } of results) {
      const base = { origin: raw.origin, ...(result.key ? { key: result.key } : {}), ...(result.invoice ? { day: result.invoice.day } : {}), raw: rawCells(raw) };
      if (result.errors.length > 0) {
        errors.push({ severity: 'error', reason: result.errors.join('; '), ...base });
        if (!result.invoice && result.key) invalidKeys.set(result.key, raw.origin);
      }
      for (const w of result.warnings) warnings.push({ severity: 'warning', reason: w, ...base });
    }
    const valid = results.flatMap((r) => (r.result.invoice ? [r.result.invoice] : []));
    const lineItems = options.lineItems ?? 'auto';
    const aggregate = lineItems === true || (lineItems === 'auto' && rows.some((r) => r.fields.itemName !== undefined) && hasConsecutiveRepeat(valid));
    invoices.push(...(aggregate ? aggregateLineItems(valid) : valid));
  }
  const source = new MemorySource({ kind: 'file', location: options.path, hashes: true, files: details }, invoices, { errors, warnings });
  return Object.assign(source, { invalidKeys });
}

async function readTable(file: string, options: FileSourceOptions): Promise<Table> {
  const name = path.relative(options.baseDir, file) || path.basename(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new OperationError(`cannot read upstream file '${name}': ${messageOf(err)}`, { cause: err });
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.xlsx' || ext === '.xlsm') {
    try {
      const sheet = readSheet(bytes, options.sheet ?? DEFAULT_SHEET);
      return { name, detail: `${name} (sheet ${sheet.sheet})`, rows: sheet.rows.map((r) => ({ line: String(r.row), cells: r.cells.map((c) => c.text), numeric: r.cells.map((c) => c.numeric) })) };
    } catch (err) {
      if (err instanceof XlsxFormatError) throw new ConfigError(`upstream file '${name}' ${err.message}`, [], { hint: 'export 全量发票查询 as .xlsx again, or set reconcile.upstream.sheet' });
      throw err;
    }
  }
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') {
    const decoded = decodeText(bytes, options.encoding ?? 'auto');
    return { name, detail: `${name} (${decoded.encoding})`, rows: parseCsv(decoded.text).map((r) => ({ line: String(r.line), cells: r.cells, numeric: [] })) };
  }
  throw new ConfigError(`upstream file '${name}' is neither .xlsx nor .csv`, [], { hint: 'reconcile.upstream.path should match the tax platform export files' });
}

function toRawRows(table: Table, overrides: FileSourceOptions['columns']): RawRow[] {
  const header = findHeader(table.rows.map((r) => r.cells), overrides);
  if (!header) {
    throw new ConfigError(`upstream file '${table.name}' is not a tax platform export: no header row with 发票号码 or 数电发票号码, 开票日期 and 价税合计 in its first 20 rows`, [], {
      hint: 'check the file, or map its headers in reconcile.upstream.columns',
    });
  }
  const entries = Object.entries(header.map) as Array<[RowField, number]>;
  return table.rows.slice(header.index + 1).map((r) => {
    const fields: RawRow['fields'] = {};
    const numeric = new Set<RowField>();
    for (const [field, i] of entries) {
      const v = r.cells[i];
      if (v !== undefined && v !== '') fields[field] = v.length > 4096 ? v.slice(0, 4096) : v;
      if (r.numeric[i]) numeric.add(field);
    }
    return { origin: `${table.name}:${r.line}`, fields, numeric };
  });
}

function rawCells(row: RawRow): Record<string, string> {
  return Object.fromEntries(Object.entries(row.fields).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 80)}…` : v]));
}

function hasConsecutiveRepeat(rows: readonly Invoice[]): boolean {
  return rows.some((r, i) => i > 0 && rows[i - 1]!.key === r.key);
}

/** Consecutive rows of one key that agree on the invoice's header fields are one invoice's lines. */
export function aggregateLineItems(rows: readonly Invoice[]): Invoice[] {
  const out: Invoice[] = [];
  for (const r of rows) {
    const prev = out.at(-1);
    if (prev && prev.key === r.key && prev.issuedAt === r.issuedAt && prev.status === r.status && prev.sellerTaxId === r.sellerTaxId) {
      prev.totalFen += r.totalFen;
      if (prev.amountFen !== undefined && r.amountFen !== undefined) prev.amountFen += r.amountFen;
      if (prev.taxFen !== undefined && r.taxFen !== undefined) prev.taxFen += r.taxFen;
      continue;
    }
    out.push({ ...r });
  }
  return out;
}

export type { ColumnMap };
