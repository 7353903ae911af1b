// The restore guard's pure decisions (src/drill/restore/target-guard.ts) with facts written out: the live
// source's facts settle "is this the source", then the non-empty check and its --clean escape.
// The host/port fallback has its own file (target-guard-fallback.test.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import {
  guardRestoreTarget,
  isSourceOfBackup,
  sameDatabase,
  type TargetFacts,
} from '../../src/drill/restore/target-guard.js';

const manifest = (systemIdentifier?: string) =>
  ({
    id: '20261128T040000Z-abcd',
    database: 'invoices',
    server: { version: '15', ...(systemIdentifier ? { systemIdentifier } : {}) },
  }) as unknown as Manifest;
const facts = (over: Partial<TargetFacts> = {}): TargetFacts => ({ database: 'invoices', userTables: 0, ...over });
const TO = 'postgres://restorer:s3cret@db-restore.example:5433/invoices';
const SOURCE = 'postgres://backup@db.example:5432/invoices';

function thrown(run: () => void): UsageError | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
}

describe('sameDatabase', () => {
  it('another database name is never the same, whatever the server', () => {
    expect(
      sameDatabase(
        facts({ systemIdentifier: '1', serverStarted: 't' }),
        facts({ database: 'other', systemIdentifier: '1', serverStarted: 't' }),
      ),
    ).toBe(false);
  });

  it('system identifiers on both sides decide alone', () => {
    expect(
      sameDatabase(
        facts({ systemIdentifier: '1', serverStarted: 'a' }),
        facts({ systemIdentifier: '1', serverStarted: 'b' }),
      ),
    ).toBe(true);
    expect(
      sameDatabase(
        facts({ systemIdentifier: '1', serverStarted: 't' }),
        facts({ systemIdentifier: '2', serverStarted: 't' }),
      ),
    ).toBe(false);
  });

  it('without an identifier on one side, the server start time tells servers apart', () => {
    expect(sameDatabase(facts({ systemIdentifier: '1', serverStarted: 't1' }), facts({ serverStarted: 't1' }))).toBe(
      true,
    );
    expect(sameDatabase(facts({ serverStarted: 't1' }), facts({ systemIdentifier: '1', serverStarted: 't1' }))).toBe(
      true,
    );
    expect(sameDatabase(facts({ serverStarted: 't1' }), facts({ serverStarted: 't2' }))).toBe(false);
  });

  it('no start time on either side is not proof of sameness', () => {
    expect(sameDatabase(facts(), facts())).toBe(false);
    expect(sameDatabase(facts({ serverStarted: 't1' }), facts())).toBe(false);
  });
});

describe('isSourceOfBackup with the live source read', () => {
  it('the source read as the same database is the source, even when the manifest names another database', () => {
    const target = facts({ database: 'renamed', systemIdentifier: '9' });
    expect(
      isSourceOfBackup(manifest('1'), target, TO, SOURCE, facts({ database: 'renamed', systemIdentifier: '9' })),
    ).toBe(true);
  });

  it('a live source that is another database leaves the decision to the manifest', () => {
    const live = facts({ systemIdentifier: '9' });
    expect(isSourceOfBackup(manifest('1'), facts({ systemIdentifier: '1' }), TO, SOURCE, live)).toBe(true);
    expect(isSourceOfBackup(manifest('1'), facts({ systemIdentifier: '2' }), TO, SOURCE, live)).toBe(false);
    expect(
      isSourceOfBackup(manifest('1'), facts({ database: 'invoices_copy', systemIdentifier: '1' }), TO, SOURCE, live),
    ).toBe(false);
  });
});

describe('guardRestoreTarget', () => {
  it('refuses the source with the backup, database and masked URL named, and a hint', () => {
    const err = thrown(() => guardRestoreTarget(manifest('1'), facts({ systemIdentifier: '1' }), TO, true));
    expect(err?.message).toBe(
      "refusing to restore backup '20261128T040000Z-abcd' onto its own source database 'invoices' at 'postgres://restorer:***@db-restore.example:5433/invoices'",
    );
    expect(err?.hint).toBe('restore into another database (createdb invoices_restored) and compare, or use a drill');
  });

  it('refuses a non-empty target without --clean, naming the relation count, with a hint', () => {
    const err = thrown(() =>
      guardRestoreTarget(manifest('1'), facts({ systemIdentifier: '2', userTables: 3 }), TO, false),
    );
    expect(err?.message).toBe(
      "database 'invoices' at 'postgres://restorer:***@db-restore.example:5433/invoices' is not empty (3 relations)",
    );
    expect(err?.hint).toBe(
      'restore into an empty database, or pass --clean to drop and recreate the objects the backup contains',
    );
  });

  it('accepts a non-empty target with --clean, and an empty one without', () => {
    expect(
      thrown(() => guardRestoreTarget(manifest('1'), facts({ systemIdentifier: '2', userTables: 3 }), TO, true)),
    ).toBeUndefined();
    expect(
      thrown(() => guardRestoreTarget(manifest('1'), facts({ systemIdentifier: '2', userTables: 0 }), TO, false)),
    ).toBeUndefined();
    expect(
      thrown(() => guardRestoreTarget(manifest('1'), facts({ systemIdentifier: '2', userTables: 1 }), TO, false))
        ?.message,
    ).toMatch(/is not empty \(1 relations\)$/);
  });

  it('the live source passed along settles it', () => {
    const target = facts({ database: 'invoices', serverStarted: 't1' });
    const err = thrown(() => guardRestoreTarget(manifest(), target, TO, true, SOURCE, facts({ serverStarted: 't1' })));
    expect(err?.message).toMatch(
      /^refusing to restore backup '20261128T040000Z-abcd' onto its own source database 'invoices'/,
    );
  });
});
