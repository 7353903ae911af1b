// The CPU-heavy half of the file upstream: read each export (limits checked before parsing),
// parse it (.xlsx or .csv), validate every row, aggregate line items. Synchronous and free of
// shared state, so it runs in a worker thread (file-parse-worker.ts) while the daemon stays responsive.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pushAll } from '../../core/arrays.js';
import { ConfigError, OperationError, messageOf } from '../../core/errors.js';
import { CsvLimitError, parseCsv } from './csv.js';
import { type ColumnMap, findHeader } from './export-columns.js';
import { type InputLimits, formatSize } from './input-limits.js';
import { type Encoding, decodeText } from './text-decode.js';
import {
  DETAIL_FIELDS,
  type DetailField,
  type DuplicateLine,
  type InputProblem,
  type Invoice,
  MIXED_RATE,
} from '../model/types.js';
import { type RawRow, type RowContext, type RowField, validateRow } from './upstream-row.js';
import { XlsxFormatError, XlsxLimitError, readSheet } from './xlsx-reader.js';

export const DEFAULT_SHEET = '信息汇总表';

export interface FileParseOptions extends RowContext {
  /** as configured (for messages) */
  path: string;
  baseDir: string;
  encoding?: Encoding;
  sheet?: string;
  /** aggregate consecutive rows of one invoice (a line-item export); auto: when an item column repeats a key */
  lineItems?: 'auto' | boolean;
  /** header names per field, when the export's differ from the platform's */
  columns?: Partial<Record<RowField, string>>;
}

export interface FileParseResult {
  invoices: Invoice[];
  errors: InputProblem[];
  warnings: InputProblem[];
  invalidKeys: Array<[string, string]>;
  details: string[];
  /** the detail fields every file has a column for (the issue time always) */
  fields: DetailField[];
}

interface Table {
  /** file name for evidence */
  name: string;
  rows: Array<{ line: string; cells: string[]; numeric: boolean[] }>;
  detail: string;
}

const LIMIT_HINT = 'check that this is the intended export; raise reconcile.limits if it truly is this large';

export function parseUpstreamFiles(
  files: readonly string[],
  options: FileParseOptions,
  limits: InputLimits,
): FileParseResult {
  const out: FileParseResult = {
    invoices: [],
    errors: [],
    warnings: [],
    invalidKeys: [],
    details: [],
    fields: [...DETAIL_FIELDS],
  };
  const invalidKeys = new Map<string, string>();
  let rowCount = 0;
  for (const file of files) {
    const table = readTable(file, options, limits);
    out.details.push(table.detail);
    const { rows, map } = toRawRows(table, options.columns);
    out.fields = out.fields.filter((f) => fieldColumn(map, f));
    rowCount += rows.length;
    if (rowCount > limits.maxRows)
      throw new ConfigError(
        `upstream '${options.path}' has more than ${limits.maxRows} rows (reconcile.limits.maxRows)`,
        [],
        { hint: LIMIT_HINT },
      );
    const valid: Invoice[] = [];
    const lines: string[] = [];
    for (const raw of rows) {
      const result = validateRow(raw, options);
      const base = {
        origin: raw.origin,
        ...(result.key ? { key: result.key } : {}),
        ...(result.invoice ? { day: result.invoice.day } : {}),
        raw: rawCells(raw),
      };
      if (result.errors.length > 0) {
        out.errors.push({ severity: 'error', reason: result.errors.join('; '), ...base });
        if (!result.invoice && result.key) invalidKeys.set(result.key, raw.origin);
      }
      for (const w of result.warnings) out.warnings.push({ severity: 'warning', reason: w, ...base });
      if (result.invoice) {
        valid.push(result.invoice);
        lines.push(lineText(raw));
      }
    }
    const lineItems = options.lineItems ?? 'auto';
    const aggregate =
      lineItems === true ||
      (lineItems === 'auto' && rows.some((r) => r.fields.itemName !== undefined) && hasConsecutiveRepeat(valid));
    pushAll(out.invoices, aggregate ? aggregateLineItems(valid, lines) : valid);
  }
  out.invalidKeys = [...invalidKeys];
  return out;
}

function readTable(file: string, options: FileParseOptions, limits: InputLimits): Table {
  const name = path.relative(options.baseDir, file) || path.basename(file);
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > limits.maxInputBytes)
      throw new ConfigError(
        `upstream file '${name}' is ${formatSize(size)}, over the ${formatSize(limits.maxInputBytes)} limit (reconcile.limits.maxInputBytes)`,
        [],
        { hint: LIMIT_HINT },
      );
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new OperationError(`cannot read upstream file '${name}': ${messageOf(err)}`, { cause: err });
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.xlsx' || ext === '.xlsm') {
    try {
      const sheet = readSheet(bytes, options.sheet ?? DEFAULT_SHEET, limits.maxInflatedBytes);
      return {
        name,
        detail: `${name} (sheet ${sheet.sheet})`,
        rows: sheet.rows.map((r) => ({
          line: String(r.row),
          cells: r.cells.map((c) => c.text),
          numeric: r.cells.map((c) => c.numeric),
        })),
      };
    } catch (err) {
      if (err instanceof XlsxFormatError && err.damaged)
        throw new ConfigError(`upstream file '${name}' is damaged: ${err.message.replace(/^is damaged: /, '')}`, [], {
          hint: 'the file changed after the tax platform wrote it (a broken download or copy): export it again',
        });
      if (err instanceof XlsxFormatError)
        throw new ConfigError(`upstream file '${name}' ${err.message}`, [], {
          hint: 'export 全量发票查询 as .xlsx again, or set reconcile.upstream.sheet',
        });
      if (err instanceof XlsxLimitError)
        throw new ConfigError(`upstream file '${name}' ${err.message}`, [], { hint: LIMIT_HINT });
      throw err;
    }
  }
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') {
    // before decoding: a byte run without a newline longer than any line may be (4 bytes a character at most)
    const longest = longestLineBytes(bytes);
    if (longest > limits.maxLineLength * 4)
      throw new ConfigError(
        `upstream file '${name}' has a line of ${formatSize(longest)}, longer than ${limits.maxLineLength} characters (reconcile.limits.maxLineLength)`,
        [],
        { hint: LIMIT_HINT },
      );
    const decoded = decodeText(bytes, options.encoding ?? 'auto');
    try {
      const records = parseCsv(decoded.text, undefined, {
        maxRecordLength: limits.maxLineLength,
        maxRecords: limits.maxRows,
      });
      return {
        name,
        detail: `${name} (${decoded.encoding})`,
        rows: records.map((r) => ({ line: String(r.line), cells: r.cells, numeric: [] })),
      };
    } catch (err) {
      if (err instanceof CsvLimitError)
        throw new ConfigError(`upstream file '${name}' ${err.message}`, [], { hint: LIMIT_HINT });
      throw err;
    }
  }
  throw new ConfigError(`upstream file '${name}' is neither .xlsx nor .csv`, [], {
    hint: 'reconcile.upstream.path should match the tax platform export files',
  });
}

function longestLineBytes(bytes: Buffer): number {
  let longest = 0;
  let from = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, from);
    const end = nl < 0 ? bytes.length : nl;
    longest = Math.max(longest, end - from);
    if (nl < 0) return longest;
    from = nl + 1;
  }
}

/** Does the header map a column for a detail field? */
function fieldColumn(map: ColumnMap, f: DetailField): boolean {
  return f === 'issueTime' || map[f] !== undefined;
}

/** A line's cells but its 序号, to tell identical lines apart from different lines of one invoice. */
function lineText(row: RawRow): string {
  const { seq: _seq, ...rest } = row.fields;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}

function toRawRows(table: Table, overrides: FileParseOptions['columns']): { rows: RawRow[]; map: ColumnMap } {
  const header = findHeader(
    table.rows.map((r) => r.cells),
    overrides,
  );
  if (!header) {
    throw new ConfigError(
      `upstream file '${table.name}' is not a tax platform export: no header row with 发票号码 or 数电发票号码, 开票日期 and 价税合计 in its first 20 rows`,
      [],
      {
        hint: 'check the file, or map its headers in reconcile.upstream.columns',
      },
    );
  }
  const entries = Object.entries(header.map) as Array<[RowField, number]>;
  const rows = table.rows.slice(header.index + 1).map((r) => {
    const fields: RawRow['fields'] = {};
    const numeric = new Set<RowField>();
    for (const [field, i] of entries) {
      const v = r.cells[i];
      if (v !== undefined && v !== '') fields[field] = v.length > 4096 ? v.slice(0, 4096) : v;
      if (r.numeric[i]) numeric.add(field);
    }
    return { origin: `${table.name}:${r.line}`, fields, numeric };
  });
  return { rows, map: header.map };
}

function rawCells(row: RawRow): Record<string, string> {
  return Object.fromEntries(Object.entries(row.fields).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 80)}…` : v]));
}

function hasConsecutiveRepeat(rows: readonly Invoice[]): boolean {
  return rows.some((r, i) => i > 0 && rows[i - 1]!.key === r.key);
}

/**
 * Consecutive rows of one key that agree on the invoice's header fields are one invoice's lines.
 * Lines at different rates leave the invoice's rate MIXED_RATE. A line identical cell for cell to
 * an earlier line of its invoice (`lines`: each row's cells, lineText) is summed too, and recorded
 * in duplicateLines, so classify can tell a repeated export line from a real difference.
 */
export function aggregateLineItems(rows: readonly Invoice[], lines?: readonly string[]): Invoice[] {
  const out: Invoice[] = [];
  let seen = new Map<string, string>();
  rows.forEach((r, i) => {
    const prev = out.at(-1);
    const line = lines?.[i];
    if (
      prev &&
      prev.key === r.key &&
      prev.issuedAt === r.issuedAt &&
      prev.status === r.status &&
      prev.sellerTaxId === r.sellerTaxId
    ) {
      prev.totalFen += r.totalFen;
      if (prev.amountFen !== undefined && r.amountFen !== undefined) prev.amountFen += r.amountFen;
      if (prev.taxFen !== undefined && r.taxFen !== undefined) prev.taxFen += r.taxFen;
      if (prev.rateBp !== r.rateBp) prev.rateBp = MIXED_RATE;
      const first = line === undefined ? undefined : seen.get(line);
      if (first !== undefined) (prev.duplicateLines ??= []).push(duplicateOf(first, r));
      else if (line !== undefined) seen.set(line, r.origin ?? String(i));
      return;
    }
    out.push({ ...r });
    seen = new Map(line === undefined ? [] : [[line, r.origin ?? String(i)]]);
  });
  return out;
}

function duplicateOf(first: string, r: Invoice): DuplicateLine {
  return {
    origins: [first, r.origin ?? ''],
    totalFen: r.totalFen,
    ...(r.amountFen !== undefined ? { amountFen: r.amountFen } : {}),
    ...(r.taxFen !== undefined ? { taxFen: r.taxFen } : {}),
  };
}
