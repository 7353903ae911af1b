// A minimal .xlsx reader: unzip (zip-reader.ts: CRC and sizes checked, inflation bounded), the
// workbook's sheet list, shared strings and one sheet's cells, with each cell's type kept (a
// numeric cell may hide Excel damage).
import { DEFAULT_INPUT_LIMITS } from './input-limits.js';
import { ZipError, ZipLimitError, readZipEntries } from './xlsx-zip.js';
import { ConfigError } from '../../core/errors.js';

export interface XlsxCell {
  text: string;
  numeric: boolean;
}

export interface XlsxRow {
  /** Excel row number (1-based), for evidence */
  row: number;
  cells: XlsxCell[];
}

/** Not a readable workbook; file-parse.ts names the file and adds a hint (exit 2, like every bad input file). */
export class XlsxFormatError extends ConfigError {
  /** the archive is a zip whose checks failed (CRC, sizes): damaged in transit or on disk */
  damaged = false;
}

/** The workbook is larger than reconcile.limits allows. */
export class XlsxLimitError extends ConfigError {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function xmlUnescape(text: string): string {
  return text
    .replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
      if (e[0] !== '#') return ENTITIES[e]!;
      const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    })
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? xmlUnescape(m[1]!) : undefined;
}

/** Text of `<t>` runs inside an element (shared string or inline string, rich text included). */
function textRuns(xml: string): string {
  let out = '';
  for (const m of xml.matchAll(/<t(?:\s[^>]*)?>([^<]*)<\/t>|<t\s*\/>/g)) out += xmlUnescape(m[1] ?? '');
  return out;
}

function columnIndex(ref: string): number {
  let n = 0;
  for (const ch of ref) {
    const c = ch.charCodeAt(0);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

export function listSheets(bytes: Uint8Array, maxInflatedBytes = DEFAULT_INPUT_LIMITS.maxInflatedBytes): string[] {
  return readWorkbook(unzipEntries(bytes, () => false, maxInflatedBytes)).map((s) => s.name);
}

/** Rows of the named sheet, or of the only sheet when the name is absent and there is just one. */
export function readSheet(
  bytes: Uint8Array,
  sheetName: string,
  maxInflatedBytes = DEFAULT_INPUT_LIMITS.maxInflatedBytes,
): { sheet: string; rows: XlsxRow[] } {
  const entries = unzipEntries(
    bytes,
    (name) => name === 'xl/sharedStrings.xml' || name.startsWith('xl/worksheets/'),
    maxInflatedBytes,
  );
  const sheets = readWorkbook(entries);
  const sheet = sheets.find((s) => s.name === sheetName) ?? (sheets.length === 1 ? sheets[0] : undefined);
  if (!sheet)
    throw new XlsxFormatError(`has no sheet '${sheetName}' (sheets: ${sheets.map((s) => s.name).join(', ')})`);
  const xml = entries.get(sheet.path);
  if (xml === undefined) throw new XlsxFormatError(`sheet '${sheet.name}' is missing from the archive (${sheet.path})`);
  const shared = readSharedStrings(entries.get('xl/sharedStrings.xml'));
  return { sheet: sheet.name, rows: parseSheetXml(xml, shared) };
}

function unzipEntries(
  bytes: Uint8Array,
  also: (name: string) => boolean,
  maxInflatedBytes: number,
): Map<string, string> {
  let files: Map<string, Buffer>;
  try {
    files = readZipEntries(
      bytes,
      (name) => name === 'xl/workbook.xml' || name === 'xl/_rels/workbook.xml.rels' || also(name),
      maxInflatedBytes,
    );
  } catch (err) {
    if (err instanceof ZipLimitError) throw new XlsxLimitError(err.message);
    if (!(err instanceof ZipError)) throw err;
    const e = new XlsxFormatError(
      err.damaged ? `is damaged: ${err.message}` : `is not an .xlsx file (zip: ${err.message})`,
    );
    e.damaged = err.damaged;
    throw e;
  }
  const out = new Map<string, string>();
  for (const [name, data] of files) {
    try {
      out.set(name, data.toString('utf8'));
    } catch (err) {
      // V8's longest string (about 512 M characters) is a limit of its own
      throw new XlsxLimitError(
        `entry '${name}' (${data.length} bytes) is too large to read as text (${(err as Error).message})`,
      );
    }
  }
  return out;
}

function readWorkbook(entries: Map<string, string>): Array<{ name: string; path: string }> {
  const workbook = entries.get('xl/workbook.xml');
  if (workbook === undefined) throw new XlsxFormatError('is not an .xlsx workbook (no xl/workbook.xml)');
  const rels = new Map<string, string>();
  for (const m of (entries.get('xl/_rels/workbook.xml.rels') ?? '').matchAll(/<Relationship\b[^>]*>/g)) {
    const id = attr(m[0], 'Id');
    const target = attr(m[0], 'Target');
    if (id && target) rels.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`);
  }
  return [...workbook.matchAll(/<sheet\b[^>]*>/g)].map((m, i) => {
    const rid = attr(m[0], 'r:id');
    return {
      name: attr(m[0], 'name') ?? `Sheet${i + 1}`,
      path: (rid && rels.get(rid)) || `xl/worksheets/sheet${i + 1}.xml`,
    };
  });
}

function readSharedStrings(xml: string | undefined): string[] {
  if (!xml) return [];
  return [...xml.matchAll(/<si>([\s\S]*?)<\/si>|<si\s*\/>/g)].map((m) => textRuns(m[1] ?? ''));
}

export function parseSheetXml(xml: string, shared: readonly string[]): XlsxRow[] {
  const rows: XlsxRow[] = [];
  let implicitRow = 0;
  for (const rm of xml.matchAll(/<row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const r = attr(rm[0].slice(0, rm[0].indexOf('>') + 1), 'r');
    const rowNumber = r ? Number(r) : implicitRow + 1;
    implicitRow = rowNumber;
    const cells: XlsxCell[] = [];
    let implicitCol = -1;
    for (const cm of (rm[2] ?? '').matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const open = `<c${cm[1]}>`;
      const ref = attr(open, 'r');
      const col = ref ? columnIndex(ref) : implicitCol + 1;
      implicitCol = col;
      const type = attr(open, 't') ?? 'n';
      const body = cm[2] ?? '';
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      let text = '';
      if (type === 's') text = shared[Number(v)] ?? '';
      else if (type === 'inlineStr') text = textRuns(body);
      else if (v !== undefined) text = xmlUnescape(v);
      if (col >= 0 && col < 16384) cells[col] = { text, numeric: type === 'n' && v !== undefined };
    }
    for (let i = 0; i < cells.length; i++) cells[i] ??= { text: '', numeric: false };
    rows.push({ row: rowNumber, cells });
  }
  return rows;
}
