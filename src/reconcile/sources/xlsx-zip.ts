// A strict reader for the few zip entries an .xlsx needs: the central directory is the truth,
// every entry is inflated with its declared size as a hard ceiling and its CRC-32 and size are
// checked, so a damaged archive is an error instead of a shorter sheet, and a zip bomb stops at
// the limit before it can fill memory. No zip64, no encryption (tax exports use neither).
import { crc32, inflateRawSync } from 'node:zlib';
import { formatSize } from './input-limits.js';
import { ConfigError } from '../../core/errors.js';

/** The bytes are not a usable zip archive (damaged, truncated or not a zip at all). */
export class ZipError extends ConfigError {
  constructor(
    message: string,
    /** true: a zip whose checks fail (CRC, sizes, offsets); false: not a zip or a kind we do not read */
    readonly damaged: boolean,
  ) {
    super(message);
  }
}

/** The archive is valid but larger than the configured limit. */
export class ZipLimitError extends ConfigError {}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function findEndOfDirectory(bytes: Buffer): number {
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let i = bytes.length - 22; i >= lowest; i--) if (bytes.readUInt32LE(i) === EOCD) return i;
  return -1;
}

function centralDirectory(bytes: Buffer): CentralEntry[] {
  if (bytes.length < 22) throw new ZipError('is not a zip archive (too short)', false);
  const end = findEndOfDirectory(bytes);
  if (end < 0)
    throw new ZipError(
      bytes.readUInt32LE(0) === LOCAL ? 'is truncated (no zip central directory)' : 'is not a zip archive',
      bytes.readUInt32LE(0) === LOCAL,
    );
  const count = bytes.readUInt16LE(end + 10);
  const size = bytes.readUInt32LE(end + 12);
  const offset = bytes.readUInt32LE(end + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff)
    throw new ZipError('is a zip64 archive, which no tax platform export is', false);
  if (offset + size > end) throw new ZipError('has a zip central directory that points past its end', true);
  const entries: CentralEntry[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || bytes.readUInt32LE(p) !== CENTRAL)
      throw new ZipError(`has a broken zip central directory (entry ${i})`, true);
    const nameLength = bytes.readUInt16LE(p + 28);
    const entry: CentralEntry = {
      flags: bytes.readUInt16LE(p + 8),
      method: bytes.readUInt16LE(p + 10),
      crc: bytes.readUInt32LE(p + 16),
      compressedSize: bytes.readUInt32LE(p + 20),
      size: bytes.readUInt32LE(p + 24),
      localOffset: bytes.readUInt32LE(p + 42),
      name: bytes.toString('utf8', p + 46, Math.min(end, p + 46 + nameLength)),
    };
    entries.push(entry);
    p += 46 + nameLength + bytes.readUInt16LE(p + 30) + bytes.readUInt16LE(p + 32);
  }
  return entries;
}

function inflateEntry(bytes: Buffer, e: CentralEntry): Buffer {
  if (e.flags & 1) throw new ZipError(`entry '${e.name}' is encrypted`, false);
  if (e.size === 0xffffffff || e.compressedSize === 0xffffffff || e.localOffset === 0xffffffff)
    throw new ZipError(`entry '${e.name}' is zip64, which no tax platform export is`, false);
  const h = e.localOffset;
  if (h + 30 > bytes.length || bytes.readUInt32LE(h) !== LOCAL)
    throw new ZipError(`entry '${e.name}' has no local header where the directory says`, true);
  const start = h + 30 + bytes.readUInt16LE(h + 26) + bytes.readUInt16LE(h + 28);
  const stop = start + e.compressedSize;
  if (stop > bytes.length) throw new ZipError(`entry '${e.name}' is truncated`, true);
  const raw = bytes.subarray(start, stop);
  let data: Buffer;
  if (e.method === 0) data = raw;
  else if (e.method === 8) {
    try {
      // the declared size is a ceiling: a lying size field stops inflation here, not at memory's end
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ZipError(
        `entry '${e.name}' ${code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than its declared ${e.size} bytes` : `does not inflate (${(err as Error).message})`}`,
        true,
      );
    }
  } else throw new ZipError(`entry '${e.name}' uses compression method ${e.method}, not deflate`, false);
  if (data.length !== e.size)
    throw new ZipError(`entry '${e.name}' holds ${data.length} bytes, not the declared ${e.size}`, true);
  if (crc32(data) >>> 0 !== e.crc) throw new ZipError(`entry '${e.name}' fails its CRC-32 check`, true);
  return data;
}

/**
 * The wanted entries, inflated and checked. Their declared sizes together must fit
 * `maxInflatedBytes` before anything is inflated; each then inflates to exactly its declared size.
 */
export function readZipEntries(
  bytes: Uint8Array,
  wanted: (name: string) => boolean,
  maxInflatedBytes: number,
): Map<string, Buffer> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = centralDirectory(buf).filter((e) => wanted(e.name));
  const declared = entries.reduce((sum, e) => sum + e.size, 0);
  if (declared > maxInflatedBytes) {
    throw new ZipLimitError(
      `inflates to ${formatSize(declared)}, over the ${formatSize(maxInflatedBytes)} limit (reconcile.limits.maxInflatedBytes)`,
    );
  }
  const out = new Map<string, Buffer>();
  for (const e of entries) if (!out.has(e.name)) out.set(e.name, inflateEntry(buf, e));
  return out;
}
