// A forgiving RFC 4180 reader (quotes, CRLF, embedded newlines, `,` `;` or tab) that never throws
// on hostile input except at its limits: an unclosed quote ends at end of file, each record
// remembers its line, and a record longer than maxRecordLength or more than maxRecords records end
// in a CsvLimitError (one 100 MB line would otherwise take gigabytes as one growing cell).

import { ConfigError } from '../../core/errors.js';

export class CsvLimitError extends ConfigError {}

export interface CsvLimits {
  /** characters of one record (a quoted cell with newlines counts whole) */
  maxRecordLength?: number;
  maxRecords?: number;
}

export interface CsvRecord {
  /** 1-based line where the record starts */
  line: number;
  cells: string[];
}

/** The delimiter of the header line: whichever of `,` `\t` `;` occurs most outside quotes. */
export function sniffDelimiter(text: string): string {
  const firstLine = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
  const counts = [',', '\t', ';'].map((d) => [d, firstLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

export function parseCsv(text: string, delimiter = sniffDelimiter(text), limits: CsvLimits = {}): CsvRecord[] {
  const maxLength = limits.maxRecordLength ?? Infinity;
  const maxRecords = limits.maxRecords ?? Infinity;
  const records: CsvRecord[] = [];
  // runs of plain characters are sliced, not appended one by one: a million-row export in seconds
  const plain = new RegExp(`[^${delimiter === '\t' ? '\\t' : delimiter}\r\n]*`, 'y');
  const lineBreaks = (from: number, to: number): number => {
    let count = 0;
    for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count++;
    return count;
  };
  let cells: string[] = [];
  let line = 1;
  let start = 1;
  let recordStart = 0;
  let i = 0;
  const endRecord = (): void => {
    records.push({ line: start, cells });
    if (records.length > maxRecords)
      throw new CsvLimitError(`has more than ${maxRecords} lines (reconcile.limits.maxRows)`);
    cells = [];
  };
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      // quoted: "" is a quote; an unclosed quote runs to the end of the text
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        const stop = q === -1 ? text.length : q;
        line += lineBreaks(i, stop);
        cell += text.slice(i, stop);
        if (stop - recordStart > maxLength)
          throw new CsvLimitError(
            `line ${start} is longer than ${maxLength} characters (reconcile.limits.maxLineLength)`,
          );
        if (q === -1) {
          i = text.length;
          break;
        }
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
    }
    // plain characters (after a closing quote too: they belong to the same cell)
    plain.lastIndex = i;
    const run = plain.exec(text)![0];
    cell += run;
    i += run.length;
    if (i - recordStart > maxLength)
      throw new CsvLimitError(`line ${start} is longer than ${maxLength} characters (reconcile.limits.maxLineLength)`);
    cells.push(cell);
    if (i >= text.length) break;
    const ch = text[i]!;
    i++;
    if (ch === delimiter) {
      if (i >= text.length) cells.push('');
      continue;
    }
    // a line break ends the record
    if (ch === '\r' && text[i] === '\n') i++;
    endRecord();
    line++;
    start = line;
    recordStart = i;
  }
  if (cells.length > 0) endRecord();
  return records.filter((r) => r.cells.some((c) => c.trim() !== ''));
}

/** One CSV cell for output: quoted when needed. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
