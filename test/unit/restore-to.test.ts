// `restore --to` takes a URL: a bare database name is a usage error whose hint spells the URL
// on the source's server, without its password.
import { describe, expect, it } from 'vitest';
import { checkRestoreTo } from '../../src/cli/restore-commands.js';

describe('restore --to', () => {
  it('accepts postgres:// and postgresql:// URLs', () => {
    expect(() => checkRestoreTo('postgres://127.0.0.1/x', 'postgres://h/src')).not.toThrow();
    expect(() => checkRestoreTo('postgresql:///x?host=/run/postgresql', 'postgres://h/src')).not.toThrow();
  });

  it('refuses a bare name (exit 2) and suggests the URL on the source server without the password', () => {
    let error: unknown;
    try {
      checkRestoreTo('nc_shop_r2', 'postgres://backup:s3cret@db.internal:6432/nc_shop?sslmode=require');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      exitCode: 2,
      message: "--to must be a postgres:// URL of the database to restore into, got 'nc_shop_r2'",
      hint: 'e.g. --to postgres://backup@db.internal:6432/nc_shop_r2 (create the database first: createdb)',
    });
    expect(JSON.stringify(error)).not.toContain('s3cret');
  });

  it('refuses anything else with a generic example', () => {
    expect(() => checkRestoreTo('host=db dbname=x', 'postgres://h/src')).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('postgres://HOST:PORT/NAME') }),
    );
  });
});
