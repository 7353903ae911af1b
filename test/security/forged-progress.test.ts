// Item 10 of the hostile-input review: a table named with line breaks makes `pg_restore --verbose`
// print a line that looks like "processing data for table public.invoices" before that table's
// data is in; believed, the restore check measured public.invoices empty and failed every backup
// from then on. Progress is now matched against the archive (its details or `pg_restore -l`), and
// an early measurement that disagrees is taken again after the restore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseToc, tableDataTracker } from '../../src/drill/restore/restore-progress.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

const FORGER = 'a\npg_restore: processing data for table "public.invoices"\npg_restore: x';

// what PostgreSQL 15's pg_restore -l prints for such an archive: the break becomes a space
const LISTING = `;
; Archive created at 2026-12-01 22:10:00 UTC
;
215; 1259 28190 TABLE public a pg_restore: processing data for table "public.invoices" pg_re postgres
214; 1259 28166 TABLE public invoices postgres
3343; 0 28190 TABLE DATA public a pg_restore: processing data for table "public.invoices" pg_re postgres
3342; 0 28166 TABLE DATA public invoices postgres
`;

describe('progress lines checked against the TOC', () => {
  it('parses TABLE DATA items and flags names that are not one plain word', () => {
    const toc = parseToc(LISTING);
    expect([...toc.tableData]).toEqual([['3342', 'invoices']]);
    expect(toc.clean).toBe(false);
    expect(parseToc('3342; 0 28166 TABLE DATA public invoices postgres\n').clean).toBe(true);
  });

  it('parallel: believes only items the TOC lists with that tag, each once, and nothing when the TOC is not clean', () => {
    const lines = [
      'pg_restore: launching item 9999 TABLE DATA invoices',
      'pg_restore: finished item 9999 TABLE DATA invoices',
      'pg_restore: launching item 3342 TABLE DATA invoices',
      'pg_restore: finished item 3342 TABLE DATA invoices',
      'pg_restore: finished item 3342 TABLE DATA invoices',
    ];
    const seen = (toc: ReturnType<typeof parseToc>): string[] => {
      const out: string[] = [];
      const t = tableDataTracker(true, (r) => out.push(r.text), toc);
      for (const l of lines) t.line(l);
      return out;
    };
    expect(seen(parseToc('3342; 0 28166 TABLE DATA public invoices postgres\n'))).toEqual(['invoices']);
    expect(seen(parseToc(LISTING))).toEqual([]);
  });
});

describe('a restore of a backup holding a table named to forge progress lines', () => {
  let source: TestDatabase;
  let t: TestRepo;
  beforeAll(async () => {
    source = await createDatabase('sec_forge');
    await query(source.url, `create table public.invoices (id int primary key, note text)`);
    await query(source.url, `insert into public.invoices select g, repeat('x', 50) from generate_series(1, 300000) g`);
    const forger = `"${FORGER.replace(/"/g, '""')}"`;
    await query(source.url, `create table public.${forger} (id int)`);
    await query(source.url, `insert into public.${forger} values (1)`);
    t = await createTestRepo({ targets: [{ name: 'inv', url: source.url, verifyTables: ['public.invoices'] }] });
    const backup = await runCli(['backup', '--config', t.configFile]);
    expect(backup.code, backup.stderr).toBe(0);
  });
  afterAll(async () => {
    await source?.drop();
    await t?.cleanup();
  });

  it.each([1, 2])('verifies with --jobs %i (the forged line no longer fails it)', async (jobs) => {
    const scratch = await createDatabase('sec_forge_to');
    try {
      const res = await runCli([
        'restore',
        'latest',
        '--target',
        'inv',
        '--to',
        scratch.url,
        '--jobs',
        String(jobs),
        '--config',
        t.configFile,
      ]);
      expect(errorLine(res)).toBe('');
      expect(res.code).toBe(0);
    } finally {
      await scratch.drop();
    }
  });
});
