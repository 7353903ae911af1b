// A small, strict reader for the evidence packs this tool writes (zip, deflate or stored, no zip64):
// the central directory is the table of contents, each entry is streamed from its local header.
// Only what verification needs; anything unexpected is a damaged pack, never a crash.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { CheckFailedError } from '../core/errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

/** A pack that is not a readable zip of ours: names the problem (a check failure, exit 1). */
/** The pack is not an intact zip: verify-pack.ts reports it as a problem (a failed check, exit 1). */
export class DamagedZipError extends CheckFailedError {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The entries listed in the central directory, in its order. */
export async function readCentralDirectory(file: string): Promise<ZipEntry[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tailSize = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailSize);
    await handle.read(tail, 0, tailSize, size - tailSize);
    let eocd = -1;
    for (let i = tailSize - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new DamagedZipError('not a zip file (no end of central directory)');
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff)
      throw new DamagedZipError('zip64 archives are not evidence packs of this tool');
    if (cdOffset + cdSize > size) throw new DamagedZipError('the central directory lies outside the file (truncated)');
    const cd = Buffer.alloc(cdSize);
    await handle.read(cd, 0, cdSize, cdOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
        throw new DamagedZipError(`central directory entry ${i + 1} is damaged`);
      const flags = cd.readUInt16LE(p + 8);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      if (p + 46 + nameLength > cd.length) throw new DamagedZipError(`central directory entry ${i + 1} is damaged`);
      const rawName = cd.subarray(p + 46, p + 46 + nameLength);
      // bit 11: UTF-8 names; without it the name is CP437, which only ASCII survives unchanged
      const name = rawName.toString(flags & 0x800 ? 'utf8' : 'latin1');
      if (flags & 0x1) throw new DamagedZipError(`entry '${name}' is encrypted`);
      entries.push({
        name,
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/** Where an entry's data starts (after its local header), checked against the central directory. */
export async function dataOffset(file: string, entry: ZipEntry): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await handle.read(header, 0, 30, entry.localHeaderOffset);
    if (bytesRead < 30 || header.readUInt32LE(0) !== LOCAL)
      throw new DamagedZipError(`the local header of '${entry.name}' is damaged`);
    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    const name = Buffer.alloc(nameLength);
    await handle.read(name, 0, nameLength, entry.localHeaderOffset + 30);
    if (name.toString('utf8') !== entry.name && name.toString('latin1') !== entry.name) {
      throw new DamagedZipError(
        `the local header names '${name.toString('utf8')}' where the directory says '${entry.name}'`,
      );
    }
    return entry.localHeaderOffset + 30 + nameLength + extraLength;
  } finally {
    await handle.close();
  }
}

/** The entry's uncompressed bytes as a stream (stored or deflated). */
export async function openEntry(file: string, entry: ZipEntry): Promise<Readable> {
  const start = await dataOffset(file, entry);
  if (entry.compressedSize === 0) return Readable.from([]);
  const raw = createReadStream(file, { start, end: start + entry.compressedSize - 1 });
  if (entry.method === 0) return raw;
  if (entry.method !== 8)
    throw new DamagedZipError(
      `entry '${entry.name}' uses compression method ${entry.method} (only stored and deflate are read)`,
    );
  const inflate = createInflateRaw();
  raw.on('error', (err) => inflate.destroy(err));
  return raw.pipe(inflate);
}
