// Comments cite only files that exist: every `docs/….md` (with its #section) or `src/….ts` path named
// in src/, jobs/, test/ and scripts/ is in the repository.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' ? [] : walk(path.join(dir, e.name))) : [path.join(dir, e.name)],
  );
const slug = (h: string): string =>
  h
    .toLowerCase()
    .trim()
    .replace(/[^\w\s-]/g, '')
    .replace(/\s+/g, '-');

describe('cited files exist', () => {
  it('every docs/ and src/ path cited in src, jobs, test and scripts exists, with its section', () => {
    const missing: string[] = [];
    for (const dir of ['src', 'jobs', 'test', 'scripts']) {
      for (const file of walk(path.join(ROOT, dir)).filter((f) => /\.(ts|mjs|js)$/.test(f))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\b((?:docs\/[\w./-]+\.md)(?:#[\w-]+)?|src\/[\w./-]+\.ts)\b/g)) {
          const [cited, section] = m[1]!.split('#');
          const target = path.join(ROOT, cited!);
          if (!existsSync(target)) missing.push(`${path.relative(ROOT, file)}: ${m[1]}`);
          else if (
            section &&
            !readFileSync(target, 'utf8')
              .split('\n')
              .some((l) => /^#+ /.test(l) && slug(l.replace(/^#+ /, '')) === section)
          ) {
            missing.push(`${path.relative(ROOT, file)}: ${m[1]} (no such section)`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
