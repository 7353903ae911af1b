// The evidence pack's table of contents (pure): index.json lists every other file with its sha256
// and size; index.json.sig signs index.json. Entry names are checked by one rule for writing and
// for reading, so a pack never names a path outside the folder it is unpacked into.
import path from 'node:path';

export const PACK_FORMAT = 'fapiao-guard/evidence/v1';
export const INDEX_NAME = 'index.json';
export const INDEX_SIGNATURE_NAME = 'index.json.sig';

export interface PackFile {
  name: string;
  sha256: string;
  size: number;
}

export interface PackIndex {
  format: typeof PACK_FORMAT;
  period: { from: string; to: string; timezone: string };
  generatedAt: string;
  tool: { name: 'fapiao-guard'; version: string };
  /** the signing key's id (sha256 of its public key, 16 hex digits) */
  keyId: string;
  files: PackFile[];
  /** what the pack could not include, in words (a report file gone, a drill report unreadable) */
  notes: string[];
}

/**
 * Why `name` is not a safe entry name, or undefined when it is: relative, forward slashes, no
 * `.`/`..`/empty segments, no drive letters, backslashes or control characters, already normalised.
 */
export function unsafeEntryName(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.length > 200) return 'a name longer than 200 characters';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a control character in the name';
  if (name.includes('\\')) return 'a backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const segments = name.split('/');
  if (segments.includes('..')) return "a '..' segment";
  if (segments.some((s) => s === '' || s === '.')) return 'an empty or . segment';
  if (path.posix.normalize(name) !== name || name.normalize('NFC') !== name) return 'a name that is not normalised';
  return undefined;
}

/** Parse index.json; a string says what is wrong with it. */
export function parseIndex(text: string): PackIndex | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'index.json is not valid JSON';
  }
  const index = doc as Partial<PackIndex>;
  if (!index || typeof index !== 'object' || index.format !== PACK_FORMAT)
    return `index.json is not a ${PACK_FORMAT} index`;
  if (!Array.isArray(index.files)) return 'index.json lists no files';
  for (const f of index.files) {
    if (
      !f ||
      typeof f.name !== 'string' ||
      typeof f.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256) ||
      !Number.isSafeInteger(f.size)
    )
      return 'index.json has a malformed file entry';
  }
  return index as PackIndex;
}
