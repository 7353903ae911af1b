// manifest.json: the plaintext commit marker of a backup (docs/ARCHITECTURE.md#repository-format). Nothing secret,
// no invoice data. Parsing is strict: a manifest we cannot trust is reported, never guessed.
import { IntegrityError } from '../errors.js';

export const MANIFEST_NAME = 'manifest.json';
export const REPOSITORY_FORMAT = 1;

export interface ManifestObject {
  /** name relative to the backup's folder */
  name: string;
  /**
   * what the stored bytes are, outermost last: e.g. ['pg_dump:custom', 'zstd', 'age'], or for one
   * file of a parallel (directory-format) dump ['pg_dump:directory', 'zstd', 'age']
   */
  layers: string[];
  size: number;
  sha256: string;
  /** bytes before compression and encryption, where known */
  plainSize?: number;
  /** S3 Object Lock retention the server reported for the stored version when the backup was taken */
  retention?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retainUntil: string; versionId?: string };
}

export interface Manifest {
  format: number;
  id: string;
  target: string;
  database: string;
  server: { version: string; systemIdentifier?: string };
  /** format 'directory' (with jobs): the dump is one object per file of pg_dump's folder, toc.dat included */
  pgDump: { version: string; format: 'custom' | 'directory'; compression: string; jobs?: number };
  startedAt: string;
  finishedAt: string;
  snapshot: string;
  objects: ManifestObject[];
  recipients: string[];
  tables: number;
  tool: { name: string; version: string };
}

/** The bytes of manifest.json as stored (what a manifest signature signs). */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

export function parseManifest(text: string, where: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new IntegrityError(`manifest '${where}' is not valid JSON`);
  }
  const m = doc as Partial<Manifest>;
  const problems: string[] = [];
  if (m.format !== REPOSITORY_FORMAT)
    problems.push(`format ${String(m.format)} (this version reads ${REPOSITORY_FORMAT})`);
  for (const key of ['id', 'target', 'database', 'startedAt', 'finishedAt', 'snapshot'] as const) {
    if (typeof m[key] !== 'string') problems.push(`${key} missing`);
  }
  if (!Array.isArray(m.objects) || m.objects.length === 0) problems.push('objects missing');
  else {
    m.objects.forEach((o, i) => {
      if (typeof o?.name !== 'string' || !/^[\w.-]+$/.test(o.name)) problems.push(`objects[${i}].name invalid`);
      if (!Number.isSafeInteger(o?.size) || o.size < 0) problems.push(`objects[${i}].size invalid`);
      if (typeof o?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256))
        problems.push(`objects[${i}].sha256 invalid`);
      if (!Array.isArray(o?.layers)) problems.push(`objects[${i}].layers invalid`);
      if (
        o?.retention !== undefined &&
        (typeof o.retention !== 'object' ||
          o.retention === null ||
          typeof o.retention.retainUntil !== 'string' ||
          !['GOVERNANCE', 'COMPLIANCE'].includes(o.retention.mode))
      ) {
        problems.push(`objects[${i}].retention invalid`);
      }
    });
  }
  if (problems.length > 0) throw new IntegrityError(`manifest '${where}' is invalid: ${problems.join(', ')}`);
  return m as Manifest;
}

export function storedBytes(manifest: Manifest): number {
  return manifest.objects.reduce((sum, o) => sum + o.size, 0);
}

export function findObject(manifest: Manifest, name: string): ManifestObject | undefined {
  return manifest.objects.find((o) => o.name === name);
}
