// The restore guard when no system identifier can be read (a role without access to
// pg_control_system(), or a manifest from a server that did not say): it falls back to comparing
// host and port of the target with the source's, and refuses when the database name matches there.
// Written against guardRestoreTarget's behaviour (refuse or not, and the message), not its parsing.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { guardRestoreTarget } from '../../src/drill/restore/target-guard.js';

const manifest = (systemIdentifier?: string) =>
  ({
    id: '20261128T040000Z-abcd',
    database: 'invoices',
    server: { version: '15', ...(systemIdentifier ? { systemIdentifier } : {}) },
  }) as unknown as Manifest;
const facts = (systemIdentifier?: string, database = 'invoices') => ({
  database,
  userTables: 0,
  ...(systemIdentifier ? { systemIdentifier } : {}),
});

function refusal(m: Manifest, f: ReturnType<typeof facts>, toUrl: string, sourceUrl?: string): string | undefined {
  try {
    guardRestoreTarget(m, f, toUrl, true, sourceUrl);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
}

const OWN_SOURCE =
  /^refusing to restore backup '20261128T040000Z-abcd' onto its own source database 'invoices' at 'postgres:\/\/[^']*'$/;

describe('restore guard, host/port fallback (no system identifier on one side)', () => {
  it.each([
    ['target unreadable, manifest has one', manifest('7300000000000000001'), facts()],
    ['manifest has none, target readable', manifest(), facts('7300000000000000001')],
    ['neither has one', manifest(), facts()],
  ])('%s: the same host and port as the source is the source', (_what, m, f) => {
    expect(
      refusal(m, f, 'postgres://postgres@db.example:5433/invoices', 'postgres://backup@db.example:5433/invoices'),
    ).toMatch(OWN_SOURCE);
    // the default port written out or left out is the same server
    expect(
      refusal(m, f, 'postgres://postgres@db.example/invoices', 'postgres://backup@db.example:5432/invoices'),
    ).toMatch(OWN_SOURCE);
    expect(
      refusal(m, f, 'postgres://postgres@db.example:5432/invoices', 'postgres://backup@db.example/invoices'),
    ).toMatch(OWN_SOURCE);
  });

  it('another host or another port is not the source', () => {
    expect(
      refusal(
        manifest(),
        facts(),
        'postgres://postgres@db-restore.example:5433/invoices',
        'postgres://backup@db.example:5433/invoices',
      ),
    ).toBeUndefined();
    expect(
      refusal(
        manifest(),
        facts(),
        'postgres://postgres@db.example:5434/invoices',
        'postgres://backup@db.example:5433/invoices',
      ),
    ).toBeUndefined();
  });

  it('another database name on the same server is not the source', () => {
    expect(
      refusal(
        manifest(),
        facts(undefined, 'invoices_restored'),
        'postgres://postgres@db.example/invoices_restored',
        'postgres://backup@db.example/invoices',
      ),
    ).toBeUndefined();
  });

  it('no source URL to compare with: the same database name is refused, to be safe', () => {
    expect(refusal(manifest(), facts(), 'postgres://postgres@db.example/invoices')).toMatch(OWN_SOURCE);
  });

  it('both identifiers readable decide alone: different servers with the same host name are not the source', () => {
    expect(
      refusal(
        manifest('7300000000000000001'),
        facts('7300000000000000002'),
        'postgres://postgres@db.example/invoices',
        'postgres://backup@db.example/invoices',
      ),
    ).toBeUndefined();
    expect(
      refusal(
        manifest('7300000000000000001'),
        facts('7300000000000000001'),
        'postgres://postgres@other.example/invoices',
        'postgres://backup@db.example/invoices',
      ),
    ).toMatch(OWN_SOURCE);
  });
});
