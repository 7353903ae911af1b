// The tree is the drawing: every folder under src/ (and jobs/) is a row of docs/ARCHITECTURE.md's
// "The tree" table or is named (`name/`) in its parent's row, and every folder a row names exists.
// A folder added or moved without the document fails here.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

const folders = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [`${dir}/${e.name}`, ...folders(`${dir}/${e.name}`)]);

/** The table's rows: first cell's folder (`src/x/` → src/x) and the row's whole text. */
function tableRows(): Map<string, string> {
  const doc = readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('The tree'));
  if (!section) throw new Error('docs/ARCHITECTURE.md has no "## The tree" section'); // plain-error-ok: test setup
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `((?:src|jobs)[\w/-]*?)\/?` /.exec(line);
    if (m) rows.set(m[1]!, line);
  }
  return rows;
}

describe('docs/ARCHITECTURE.md and the tree', () => {
  const rows = tableRows();
  const tree = ['src', ...folders('src'), 'jobs', ...folders('jobs')];

  it('reads the table (a guard against a parser that finds nothing)', () => {
    expect(rows.size).toBeGreaterThanOrEqual(20);
    expect(rows.has('src/core')).toBe(true);
    expect(rows.has('jobs')).toBe(true);
  });

  it('every folder is a row, or is named in its parent row', () => {
    const undocumented = tree.filter((dir) => {
      if (dir === 'src' || rows.has(dir)) return false;
      const parent = rows.get(path.posix.dirname(dir));
      return !parent?.includes(`\`${path.posix.basename(dir)}/\``);
    });
    expect(undocumented).toEqual([]);
  });

  it('every folder a row names exists', () => {
    expect([...rows.keys()].filter((dir) => !tree.includes(dir))).toEqual([]);
  });
});
