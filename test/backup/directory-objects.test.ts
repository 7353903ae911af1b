// The mapping between a directory dump's files and stored objects, and what a manifest may name
// (a manifest is input: a hostile one must not write outside the spool folder). Pure, no database.
import { describe, expect, it } from 'vitest';
import {
  directoryFiles,
  directoryLayers,
  directoryObjectName,
  isDirectoryBackup,
} from '../../src/backup/directory-objects.js';
import type { Manifest, ManifestObject } from '../../src/core/repository/manifest.js';
import { tableDataItems } from '../../src/drill/verify-folder.js';

const sha = 'a'.repeat(64);
const zstd = { kind: 'zstd', level: 1 } as const;
const object = (name: string, layers = ['pg_dump:directory', 'zstd', 'age']): ManifestObject => ({
  name,
  layers,
  size: 1,
  sha256: sha,
});
const manifest = (objects: ManifestObject[]): Manifest =>
  ({ id: 'b', target: 't', objects: [...objects, object('details.json.age', ['json', 'age'])] }) as unknown as Manifest;

describe('directory dump objects', () => {
  it('names each file dir-<file>[.zst].age and reads the names back', () => {
    expect(directoryObjectName('3456.dat', zstd)).toBe('dir-3456.dat.zst.age');
    expect(directoryObjectName('3456.dat.gz', { kind: 'pg_dump', level: 6 })).toBe('dir-3456.dat.gz.age');
    expect(directoryLayers(zstd)).toEqual(['pg_dump:directory', 'zstd', 'age']);
    expect(directoryLayers({ kind: 'none', level: 0 })).toEqual(['pg_dump:directory', 'age']);
    const files = directoryFiles(
      manifest([
        object('dir-toc.dat.zst.age'),
        object('dir-3456.dat.zst.age'),
        object('dir-3457.dat.gz.age', ['pg_dump:directory', 'age']),
        object('dir-blobs.toc.zst.age'),
        object('dir-blob_16400.dat.zst.age'),
      ]),
    );
    expect(typeof files === 'string' ? files : files.map((f) => [f.file, f.zstd])).toEqual([
      ['toc.dat', true],
      ['3456.dat', true],
      ['3457.dat.gz', false],
      ['blobs.toc', true],
      ['blob_16400.dat', true],
    ]);
  });

  it('refuses names that are not files of a pg_dump folder, unknown layers, duplicates and a missing toc.dat', () => {
    const toc = object('dir-toc.dat.zst.age');
    expect(directoryFiles(manifest([toc, object('dir-...zst.age')]))).toMatch(
      /does not name a file of a pg_dump directory dump/,
    );
    expect(directoryFiles(manifest([toc, object('dir-..zst.age')]))).toMatch(/does not name a file/);
    expect(directoryFiles(manifest([toc, object('dir-postgresql.conf.zst.age')]))).toMatch(/does not name a file/);
    expect(directoryFiles(manifest([toc, object('dir-3456.dat.age')]))).toMatch(/does not name a file/); // zstd layer, no .zst
    expect(
      directoryFiles(manifest([toc, object('dir-3456.dat.zst.age', ['pg_dump:directory', 'brotli', 'age'])])),
    ).toMatch(/layers pg_dump:directory\+brotli\+age that this version cannot read/);
    expect(
      directoryFiles(manifest([toc, object('dir-3456.dat.zst.age'), { ...object('dir-3456.dat.zst.age') }])),
    ).toMatch(/listed twice/);
    expect(directoryFiles(manifest([object('dir-3456.dat.zst.age')]))).toMatch(/no toc\.dat object/);
  });

  it('tells a parallel backup from a single-stream one by its layers', () => {
    expect(isDirectoryBackup(manifest([object('dir-toc.dat.zst.age')]))).toBe(true);
    expect(isDirectoryBackup(manifest([object('dump.zst.age', ['pg_dump:custom', 'zstd', 'age'])]))).toBe(false);
  });

  it('reads the table data items of a pg_restore --list', () => {
    const listing = [
      ';',
      '; Archive created at 2026-12-02',
      '3342; 0 16388 TABLE DATA public a postgres',
      '3343; 0 16391 TABLE DATA billing "Odd name" postgres',
      '3344; 0 0 SEQUENCE SET public s postgres',
      '214; 1259 16385 TABLE public a postgres',
    ].join('\n');
    expect([...tableDataItems(listing)]).toEqual(['3342', '3343']);
  });
});
