// The checks a drill runs on its restored scratch database: row counts and content checksums
// against the backup's details (several tables at once), the user's SQL assertions, pg_amcheck.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type pg from 'pg';
import { messageOf, oneLine } from '../core/errors.js';
import { connect, libpqInvocation } from '../core/pg/connect.js';
import type { DetailCheck } from '../core/pg/details.js';
import type { AssertionValue, DrillAssertion } from './drill-config.js';

/** One recorded check; `problem` is the one-line reason when it failed for an error, not a mismatch. */
export type Check = DetailCheck & { problem?: string };

/** Close the client when the drill is interrupted, so a long query cannot delay the exit. */
async function openClient(url: string, signal: AbortSignal | undefined, opened: pg.Client[]): Promise<pg.Client> {
  const client = await connect(url, 'fapiao-guard drill-check');
  opened.push(client);
  if (signal?.aborted) void client.end().catch(() => undefined);
  signal?.addEventListener('abort', () => void client.end().catch(() => undefined), { once: true });
  return client;
}

/** The assertion's result as shown in reports: first column of the first row. */
export function displayValue(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/** Pure: does what the query returned equal what the config expects? Numbers compare as numbers. */
export function assertionHolds(expected: AssertionValue, actual: unknown): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  if (typeof expected === 'boolean')
    return actual === expected || (typeof actual === 'string' && actual === (expected ? 't' : 'f'));
  if (typeof expected === 'number') {
    const n =
      typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : NaN;
    return n === expected;
  }
  return String(displayValue(actual)) === expected;
}

/** Each assertion in a read-only transaction of its own; an SQL error fails that assertion only. */
export async function assertionChecks(
  url: string,
  assertions: readonly DrillAssertion[],
  signal?: AbortSignal,
): Promise<Check[]> {
  if (assertions.length === 0) return [];
  const opened: pg.Client[] = [];
  const client = await openClient(url, signal, opened);
  const checks: Check[] = [];
  try {
    for (const a of assertions) {
      const name = `assert ${a.name}`;
      const expected = a.expect === null ? null : typeof a.expect === 'boolean' ? String(a.expect) : a.expect;
      try {
        await client.query('begin read only');
        const result = await client.query({ text: a.sql, rowMode: 'array' });
        await client.query('rollback');
        const row = (Array.isArray(result) ? result.at(-1) : result)?.rows?.[0] as unknown[] | undefined;
        const value = row?.[0] ?? null;
        checks.push({
          name,
          ok: assertionHolds(a.expect, value),
          expected,
          actual: row ? displayValue(value) : 'no rows',
        });
      } catch (err) {
        if (signal?.aborted) throw err;
        await client.query('rollback').catch(() => undefined);
        const problem = `error: ${oneLine(messageOf(err))}`;
        checks.push({ name, ok: false, expected, actual: problem, problem });
      }
    }
    return checks;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_amcheck on PATH, or next to the server's binaries in Debian's layout. */
export function findAmcheck(serverMajor: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of [...dirs, `/usr/lib/postgresql/${serverMajor}/bin`]) {
    if (existsSync(`${dir}/pg_amcheck`)) return `${dir}/pg_amcheck`;
  }
  return undefined;
}

/**
 * pg_amcheck (heap and B-tree indexes) on the restored database; it installs the amcheck extension
 * there. drill.amcheck asks for it, so where it is not installed the check fails as "not run": a
 * drill that silently left out a check it was configured to run would pass on less than it claims.
 */
export async function amcheckCheck(url: string, serverVersion: string, signal?: AbortSignal): Promise<Check> {
  const major = serverVersion.split(/[.\s]/)[0] ?? '';
  const bin = findAmcheck(major);
  if (!bin) {
    const problem = `not run: pg_amcheck not found on PATH or in /usr/lib/postgresql/${major}/bin (install postgresql-client-${major}, or set drill.amcheck: false)`;
    return {
      name: 'pg_amcheck',
      ok: false,
      expected: 'no corruption',
      actual: 'not run: pg_amcheck not installed',
      problem,
    };
  }
  const { dbnameArg, env } = libpqInvocation(url);
  try {
    await promisify(execFile)(bin, ['--install-missing', dbnameArg.replace(/^--dbname=/, '')], {
      env,
      maxBuffer: 16 << 20,
      ...(signal ? { signal } : {}),
    });
    return { name: 'pg_amcheck', ok: true, expected: 'no corruption', actual: 'no corruption' };
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = err as { stdout?: string; stderr?: string };
    const detail = oneLine(`${e.stdout ?? ''} ${e.stderr ?? ''}`).slice(0, 300) || messageOf(err);
    return { name: 'pg_amcheck', ok: false, expected: 'no corruption', actual: detail, problem: detail };
  }
}
