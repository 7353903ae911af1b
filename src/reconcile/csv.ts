// A forgiving RFC 4180 reader (quotes, CRLF, embedded newlines, `,` `;` or tab) that never throws
// on hostile input except at its limits: an unclosed quote ends at end of file, each record
// remembers its line, and a record longer than maxRecordLength or more than maxRecords records end
// in a CsvLimitError (one 100 MB line would otherwise take gigabytes as one growing cell).

export class CsvLimitError extends Error {}

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
  let recordStart = 0;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let atCellStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (i - recordStart > maxLength) throw new CsvLimitError(`line ${start} is longer than ${maxLength} characters (reconcile.limits.maxLineLength)`);
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      records.push({ line: start, cells });
      if (records.length > maxRecords) throw new CsvLimitError(`has more than ${maxRecords} lines (reconcile.limits.maxRows)`);
      cells = [];
      cell = '';
      atCellStart = true;
      line++;
      start = line;
      recordStart = i + 1;
    } else {
      cell += ch;
      atCellStart = false;
    }
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    records.push({ line: start, cells });
  }
  return records.filter((r) => r.cells.some((c) => c.trim() !== ''));
}

/** One CSV cell for output: quoted when needed. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
