// `evidence verify`: is a pack exactly what was signed? Every entry name safe, index.json signed
// by the given public key, every file present with the sha256 and size the index lists, nothing
// added. Needs only the pack and the public key (an auditor has no configuration of ours).
import { createHash, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CheckFailedError, messageOf } from '../core/errors.js';
import { checkSignature } from '../core/signing/signing-keys.js';
import { INDEX_NAME, INDEX_SIGNATURE_NAME, type PackIndex, parseIndex, unsafeEntryName } from './pack-index.js';
import { DamagedZipError, type ZipEntry, openEntry, readCentralDirectory } from './zip-reader.js';

export interface PackProblem {
  /** the entry concerned (or the pack itself) */
  name: string;
  problem: string;
}

export interface PackVerifyReport {
  file: string;
  ok: boolean;
  period?: PackIndex['period'];
  generatedAt?: string;
  keyId?: string;
  files: number;
  problems: PackProblem[];
}

/** index.json and its signature are small; anything larger is not ours */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export async function verifyEvidencePack(file: string, key: KeyObject): Promise<PackVerifyReport> {
  const report: PackVerifyReport = { file, ok: false, files: 0, problems: [] };
  const fail = (name: string, problem: string): PackVerifyReport => {
    report.problems.push({ name, problem });
    return report;
  };
  let entries: ZipEntry[];
  try {
    entries = await readCentralDirectory(file);
  } catch (err) {
    if (err instanceof DamagedZipError) return fail(file, err.message);
    throw err;
  }
  // names first: a hostile entry is refused before anything is read
  const seen = new Set<string>();
  for (const e of entries) {
    const why = unsafeEntryName(e.name);
    if (why) fail(e.name, `unsafe entry name (${why}); the pack is refused`);
    else if (seen.has(e.name.toLowerCase())) fail(e.name, 'entry appears twice');
    seen.add(e.name.toLowerCase());
  }
  if (report.problems.length > 0) return report;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const indexEntry = byName.get(INDEX_NAME);
  const sigEntry = byName.get(INDEX_SIGNATURE_NAME);
  if (!indexEntry) return fail(INDEX_NAME, 'missing: not an evidence pack, or its index was removed');
  if (!sigEntry) return fail(INDEX_SIGNATURE_NAME, 'missing: the index is unsigned');
  const indexBytes = await readSmall(file, indexEntry).catch((err: unknown) =>
    fail(INDEX_NAME, `damaged (${messageOf(err)})`),
  );
  if (!Buffer.isBuffer(indexBytes)) return report;
  const sigBytes = await readSmall(file, sigEntry).catch((err: unknown) =>
    fail(INDEX_SIGNATURE_NAME, `damaged (${messageOf(err)})`),
  );
  if (Buffer.isBuffer(sigBytes)) {
    const signature = checkSignature(indexBytes, sigBytes.toString('utf8'), key);
    if (signature.ok) report.keyId = signature.keyId;
    else fail(INDEX_SIGNATURE_NAME, signature.problem);
  }
  const index = parseIndex(indexBytes.toString('utf8'));
  if (typeof index === 'string') return fail(INDEX_NAME, index);
  report.period = index.period;
  report.generatedAt = index.generatedAt;
  report.files = index.files.length;
  const listed = new Set<string>([INDEX_NAME, INDEX_SIGNATURE_NAME]);
  for (const f of index.files) {
    listed.add(f.name);
    const entry = byName.get(f.name);
    if (!entry) {
      fail(f.name, 'listed in index.json but absent from the pack');
      continue;
    }
    try {
      const actual = await hashEntry(file, entry);
      if (actual.sha256 !== f.sha256 || actual.size !== f.size)
        fail(
          f.name,
          `altered: sha256 ${actual.sha256.slice(0, 16)}… (${actual.size} bytes), index.json says ${f.sha256.slice(0, 16)}… (${f.size} bytes)`,
        );
    } catch (err) {
      fail(f.name, `damaged (${messageOf(err)})`);
    }
  }
  for (const e of entries) if (!listed.has(e.name)) fail(e.name, 'not listed in index.json (added after signing)');
  report.ok = report.problems.length === 0;
  return report;
}

async function hashEntry(file: string, entry: ZipEntry): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let crc = 0;
  for await (const chunk of await openEntry(file, entry)) {
    hash.update(chunk as Buffer);
    crc = crc32(chunk as Buffer, crc);
    size += (chunk as Buffer).length;
  }
  checkCrc(entry, crc);
  return { sha256: hash.digest('hex'), size };
}

/** The zip's own CRC-32 of the entry: catches a damaged entry even where no sha256 covers it (the signature). */
function checkCrc(entry: ZipEntry, crc: number): void {
  if (crc >>> 0 !== entry.crc32 >>> 0) throw new CheckFailedError('its CRC-32 does not match the zip directory');
}

async function readSmall(file: string, entry: ZipEntry): Promise<Buffer> {
  if (entry.size > MAX_INDEX_BYTES) throw new CheckFailedError(`${entry.size} bytes, more than an index can be`);
  const chunks: Buffer[] = [];
  let size = 0;
  let crc = 0;
  for await (const chunk of await openEntry(file, entry)) {
    size += (chunk as Buffer).length;
    if (size > MAX_INDEX_BYTES) throw new CheckFailedError('larger than an index can be');
    crc = crc32(chunk as Buffer, crc);
    chunks.push(chunk as Buffer);
  }
  checkCrc(entry, crc);
  return Buffer.concat(chunks);
}
