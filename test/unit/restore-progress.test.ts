// pg_restore --verbose lines (as PostgreSQL 15 prints them, LC_ALL=C) into "this table's data is in".
import { describe, expect, it } from 'vitest';
import { resolveRef } from '../../src/drill/restore/restored-details.js';
import { type RestoredTableRef, tableDataTracker } from '../../src/drill/restore/restore-progress.js';

function track(parallel: boolean, text: string, ok = true): { refs: RestoredTableRef[]; kept: string[] } {
  const refs: RestoredTableRef[] = [];
  const tracker = tableDataTracker(parallel, (ref) => refs.push(ref));
  const kept = text.split('\n').filter((line) => !tracker.line(line));
  if (ok) tracker.end();
  return { refs, kept };
}

const PARALLEL = `pg_restore: connecting to database for restore
pg_restore: processing item 6 SCHEMA s2
pg_restore: creating SCHEMA "s2"
pg_restore: processing item 215 TABLE a
pg_restore: creating TABLE "public.a"
pg_restore: entering main parallel loop
pg_restore: launching item 3352 TABLE DATA a
pg_restore: launching item 3353 TABLE DATA a
pg_restore: processing data for table "s2.a"
pg_restore: processing data for table "public.a"
pg_restore: finished item 3353 TABLE DATA a
pg_restore: launching item 3209 CONSTRAINT a a_pkey
pg_restore: creating CONSTRAINT "s2.a a_pkey"
pg_restore: finished item 3352 TABLE DATA a
pg_restore: launching item 3354 TABLE DATA b
pg_restore: processing data for table "public.b"
pg_restore: finished item 3209 CONSTRAINT a a_pkey
pg_restore: finished item 3354 TABLE DATA b
pg_restore: finished main parallel loop`;

const SERIAL = `pg_restore: connecting to database for restore
pg_restore: creating TABLE "public.a"
pg_restore: creating TABLE "public.b"
pg_restore: processing data for table "public.a"
pg_restore: processing data for table "public.b"
pg_restore: creating CONSTRAINT "public.a a_pkey"
pg_restore: processing data for table "s2.a"`;

describe('tableDataTracker', () => {
  it('parallel: a table is in when its TABLE DATA item finished (named by its tag)', () => {
    const { refs, kept } = track(true, PARALLEL);
    expect(refs).toEqual([
      { kind: 'tag', text: 'a' },
      { kind: 'tag', text: 'a' },
      { kind: 'tag', text: 'b' },
    ]);
    expect(kept).toEqual([]);
  });

  it('serial: a table is in when the next item starts, the last one when pg_restore exited 0', () => {
    expect(track(false, SERIAL).refs.map((r) => r.text)).toEqual(['public.a', 'public.b', 's2.a']);
    // a failed run never reports the table it was reading
    expect(track(false, SERIAL, false).refs.map((r) => r.text)).toEqual(['public.a', 'public.b']);
  });

  it('keeps errors and their context for the error message, drops progress', () => {
    const text = `pg_restore: creating TABLE "public.invoice_items"
pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 216; 1259 19036 TABLE invoice_items postgres
pg_restore: error: could not execute query: ERROR:  relation "invoice_items" already exists
Command was: CREATE TABLE public.invoice_items (`;
    expect(track(false, text, false).kept).toEqual(text.split('\n').slice(1));
  });

  it('only an unambiguous name is measured early; the rest waits for the end of the restore', () => {
    const tables = [
      { schema: 'public', name: 'a', rows: 1 },
      { schema: 's2', name: 'a', rows: 1 },
      { schema: 'public', name: 'b', rows: 1 },
    ];
    expect(resolveRef(tables, { kind: 'tag', text: 'a' })).toBeUndefined();
    expect(resolveRef(tables, { kind: 'tag', text: 'b' })).toBe(tables[2]);
    expect(resolveRef(tables, { kind: 'qualified', text: 's2.a' })).toBe(tables[1]);
    expect(resolveRef(tables, { kind: 'qualified', text: 'public.c' })).toBeUndefined();
  });
});
