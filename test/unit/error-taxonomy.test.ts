// A lint rule as a test: every error a user can meet is in the taxonomy of src/core/errors.ts, so it
// carries its exit code (docs/ARCHITECTURE.md#error-taxonomy). In src/ and jobs/, no class extends
// Error but FgError, and no `throw new Error`, except where the line (or the comment line just above
// it) says `plain-error-ok: <why>`: an invariant that is a bug if it fires (exit 70 is then right),
// or control flow caught before any user sees it.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Lines that define a class extending Error or throw a bare Error, without a plain-error-ok note. */
export function plainErrors(source: string, file = ''): string[] {
  const lines = source.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    const code = line.replace(/^\s*(\/\/|\*).*$|\s\/\/ .*$/, '');
    const bare = /\bextends\s+Error\b/.test(code) || /\bthrow\s+new\s+Error\s*\(/.test(code);
    if (!bare) return;
    if (file.endsWith('src/core/errors.ts') && /class FgError extends Error/.test(code)) return;
    const noted = line.includes('plain-error-ok:') || (lines[i - 1] ?? '').includes('plain-error-ok:');
    if (!noted) found.push(`${i + 1}: ${line.trim()}`);
  });
  return found;
}

describe('errors come from the taxonomy', () => {
  it('recognises what it forbids, and allows what is noted', () => {
    expect(plainErrors('export class ZipError extends Error {}')).toHaveLength(1);
    expect(plainErrors("  if (x) throw new Error('no body');")).toHaveLength(1);
    expect(plainErrors("throw new ConfigError('bad'); class A extends OperationError {}")).toEqual([]);
    expect(plainErrors("// plain-error-ok: an invariant\nthrow new Error('never')")).toEqual([]);
    expect(plainErrors("throw new Error('never'); // plain-error-ok: an invariant")).toEqual([]);
    expect(plainErrors("// throw new Error('was the bug')")).toEqual([]);
    expect(plainErrors('export abstract class FgError extends Error {', 'src/core/errors.ts')).toEqual([]);
    expect(plainErrors('export abstract class FgError extends Error {', 'lib/other.ts')).toHaveLength(1);
  });

  it('finds none in src/ and jobs/', async () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'jobs']) {
      for (const file of await sourceFiles(path.join(ROOT, dir))) {
        const rel = path.relative(ROOT, file);
        for (const hit of plainErrors(await readFile(file, 'utf8'), rel)) offenders.push(`${rel}:${hit}`);
      }
    }
    expect(offenders, 'throw an FgError subclass from src/core/errors.ts, or note plain-error-ok: why').toEqual([]);
  });
});
