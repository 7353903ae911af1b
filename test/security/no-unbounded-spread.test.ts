// A lint rule as a test: no call in src/ spreads an array into arguments (`push(...rows)`,
// `Math.max(...values)`, `fn.apply(x, rows)`). Each argument takes a stack slot, so above ~100k
// elements such a call throws "Maximum call stack size exceeded" (exit 70 on a large export).
// Use pushAll / maxOf from src/core/arrays.ts. A spread of a literal list (`f(...[a, b])`) is allowed, and
// a line marked `// spread-ok: <why it is bounded>`.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Calls that spread a non-literal into their arguments: `name(...x` or `name(a, ...x`. */
export function spreadCalls(source: string): string[] {
  const code = source
    .split('\n')
    .map((l) => (l.includes('spread-ok:') ? '' : l.replace(/^\s*\/\/.*$|^\s*\*.*$|\s\/\/ .*$/, '')))
    .join('\n');
  const found: string[] = [];
  // an identifier or `)` / `]` right before `(`: a call, not a grouping, array or object literal
  for (const m of code.matchAll(/[\w$)\]]\s*\(([^(){}[\]]*?,\s*)?\.\.\.(?!\[)/g)) {
    const line = code.slice(0, m.index).split('\n').length;
    found.push(`${line}: ${code.split('\n')[line - 1]!.trim()}`);
  }
  for (const m of code.matchAll(/\.apply\(/g)) found.push(`${code.slice(0, m.index).split('\n').length}: .apply(`);
  return found;
}

describe('no unbounded spread in calls', () => {
  it('recognises the patterns it forbids, and allows literal and object spreads', () => {
    expect(spreadCalls('invoices.push(...valid);')).toHaveLength(1);
    expect(spreadCalls('const m = Math.max(...data.map((p) => p.x));')).toHaveLength(1);
    expect(spreadCalls('f(a, ...rest)')).toHaveLength(1);
    expect(spreadCalls('Reflect.apply(f, null, rows); f.apply(null, rows)')).toHaveLength(2);
    expect(spreadCalls('f(...[a, b]); const o = { ...x }; g({ ...y }); const l = [...xs];')).toEqual([]);
    expect(spreadCalls('// invoices.push(...valid) was the bug')).toEqual([]);
    expect(spreadCalls("join(root, ...name.split('/')); // spread-ok: path segments")).toEqual([]);
    expect(spreadCalls("start('x', ['-d', ...args], { ...env, a: f(...rows) })")).toHaveLength(1);
  });

  it('finds none in src/', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      for (const hit of spreadCalls(await readFile(file, 'utf8'))) offenders.push(`${path.relative(SRC, file)}:${hit}`);
    }
    expect(offenders, 'use pushAll / maxOf from src/core/arrays.ts').toEqual([]);
  });
});
