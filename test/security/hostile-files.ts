// Builders of hostile upstream files for the security tests and the measurements in
// scripts/measure-hostile.mjs: zip archives written byte by byte (so sizes and CRCs can lie), zip
// bombs deflated in a stream (never held inflated), and one-line CSVs.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** the bytes as stored (deflated when method is 8) */
  stored: Buffer;
  method: 0 | 8;
  crc: number;
  /** declared inflated size */
  size: number;
}

export function entry(name: string, content: string | Buffer): ZipEntry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  return { name, stored: deflateRawSync(data), method: 8, crc: crc32(data) >>> 0, size: data.length };
}

/** An entry stored without compression (method 0), as archiver writes small files. */
export function storedEntry(name: string, content: string | Buffer): ZipEntry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  return { name, stored: data, method: 0, crc: crc32(data) >>> 0, size: data.length };
}

/**
 * A zip of stored entries with any names: archiver sanitises entry names, so a pack holding `../x`
 * or an absolute name has to be written by hand, as an attacker would.
 */
export function storedZip(entries: ReadonlyArray<{ name: string; data: Buffer | string }>): Buffer {
  return zipBytes(entries.map((e) => storedEntry(e.name, e.data)));
}

/** A zip archive: local headers, data, central directory, end record. */
export function zipBytes(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.stored.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(e.method, 10);
    central.writeUInt32LE(e.crc, 16);
    central.writeUInt32LE(e.stored.length, 20);
    central.writeUInt32LE(e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.stored);
    centrals.push(central, name);
    offset += 30 + name.length + e.stored.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const WORKBOOK = '<workbook xmlns:r="r"><sheets><sheet name="信息汇总表" sheetId="1" r:id="rId1"/></sheets></workbook>';
const RELS = '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>';

/** The entries of a one-sheet workbook around the given sheet entry. */
export function workbookEntries(sheet: ZipEntry): ZipEntry[] {
  return [entry('xl/workbook.xml', WORKBOOK), entry('xl/_rels/workbook.xml.rels', RELS), sheet];
}

/**
 * A sheet entry that inflates to `inflatedBytes` of XML (a comment of spaces inside a worksheet),
 * deflated chunk by chunk; `declaredSize` lets the size field lie.
 */
export async function bombSheet(inflatedBytes: number, declaredSize?: number): Promise<ZipEntry> {
  const head = Buffer.from('<worksheet><sheetData><!--');
  const tail = Buffer.from('--></sheetData></worksheet>');
  const chunk = Buffer.alloc(1 << 20, 0x20);
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  let crc = crc32(head);
  deflate.write(head);
  let left = inflatedBytes - head.length - tail.length;
  while (left > 0) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(part, crc);
    if (!deflate.write(part)) await once(deflate, 'drain');
    left -= part.length;
  }
  crc = crc32(tail, crc);
  deflate.end(tail);
  await once(deflate, 'end');
  return {
    name: 'xl/worksheets/sheet1.xml',
    stored: Buffer.concat(out),
    method: 8,
    crc: crc >>> 0,
    size: declaredSize ?? inflatedBytes,
  };
}

/** A CSV of a header and one line of `bytes` bytes, written in chunks. */
export async function writeOneLineCsv(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('发票号码,开票日期,价税合计\n');
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
  }
  out.end('\n');
  await once(out, 'close');
}
