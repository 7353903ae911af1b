// File patterns for upstream exports (`./exports/*.xlsx`, `exports/**/2026-*.csv`): Node 20 has
// no fs.glob, and a dependency for this is not worth it. Sorted results; no match is an empty list.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function hasWildcard(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = path.resolve(cwd, pattern);
  if (!hasWildcard(pattern)) {
    const s = await stat(absolute).catch(() => undefined);
    return s?.isFile() ? [absolute] : [];
  }
  const { root } = path.parse(absolute);
  const segments = absolute.slice(root.length).split(path.sep).filter(Boolean);
  const out = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === segments.length) return;
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '**') {
      await walk(dir, i + 1);
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => []))
        if (e.isDirectory()) await walk(path.join(dir, e.name), i);
      return;
    }
    if (!hasWildcard(seg)) {
      const next = path.join(dir, seg);
      if (last) {
        if ((await stat(next).catch(() => undefined))?.isFile()) out.add(next);
      } else await walk(next, i + 1);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!re.test(e.name) || e.name.startsWith('.')) continue;
      if (last && e.isFile()) out.add(path.join(dir, e.name));
      else if (!last && e.isDirectory()) await walk(path.join(dir, e.name), i + 1);
    }
  };
  await walk(root, 0);
  return [...out].sort();
}
