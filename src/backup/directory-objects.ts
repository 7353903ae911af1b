// How the files of a `pg_dump --format=directory` dump map to stored objects and back. Pure.
// `<file>` is stored as `dir-<file>[.zst].age` with layers ['pg_dump:directory', ('zstd',) 'age']:
// decrypting (and decompressing) `dir-3456.dat.zst.age` gives back pg_dump's `3456.dat`.
import type { Compression } from '../core/config/config.js';
import type { Manifest, ManifestObject } from '../core/repository/manifest.js';

export const DIRECTORY_LAYER = 'pg_dump:directory';
const PREFIX = 'dir-';

/** The files pg_dump --format=directory writes (PostgreSQL 12-17); anything else in a manifest is refused. */
const DIRECTORY_FILE = /^(toc\.dat|\d+\.dat(\.gz)?|blobs(_\d+)?\.toc|blob_\d+\.dat(\.gz)?)$/;

/** A table data file that pg_restore opens by its item id (`<dumpId>.dat[.gz]`). */
export const DATA_FILE = /^(\d+)\.dat(\.gz)?$/;

export function directoryObjectName(file: string, compression: Compression): string {
  return `${PREFIX}${file}${compression.kind === 'zstd' ? '.zst' : ''}.age`;
}

export function directoryLayers(compression: Compression): string[] {
  return [DIRECTORY_LAYER, ...(compression.kind === 'zstd' ? ['zstd'] : []), 'age'];
}

export function isDirectoryBackup(manifest: Manifest): boolean {
  return manifest.objects.some((o) => o.layers[0] === DIRECTORY_LAYER);
}

export interface DirectoryFile {
  /** the file's name in the dump folder, e.g. `3456.dat` */
  file: string;
  object: ManifestObject;
  zstd: boolean;
}

/** The dump folder's files as the manifest lists them; a reason string when it cannot be trusted. */
export function directoryFiles(manifest: Manifest): DirectoryFile[] | string {
  const out: DirectoryFile[] = [];
  const seen = new Set<string>();
  for (const object of manifest.objects.filter((o) => o.layers[0] === DIRECTORY_LAYER)) {
    const middle = object.layers.slice(1, -1).join('+');
    if ((middle !== '' && middle !== 'zstd') || object.layers.at(-1) !== 'age')
      return `object '${object.name}' has layers ${object.layers.join('+')} that this version cannot read`;
    const zstd = middle === 'zstd';
    const suffix = zstd ? '.zst.age' : '.age';
    const file =
      object.name.startsWith(PREFIX) && object.name.endsWith(suffix)
        ? object.name.slice(PREFIX.length, -suffix.length)
        : '';
    if (!DIRECTORY_FILE.test(file)) return `object '${object.name}' does not name a file of a pg_dump directory dump`;
    if (seen.has(file)) return `file '${file}' is listed twice`;
    seen.add(file);
    out.push({ file, object, zstd });
  }
  if (!seen.has('toc.dat')) return 'no toc.dat object (dir-toc.dat…age)';
  return out;
}
