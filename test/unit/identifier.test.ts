// Table names as psql prints them: parsed like PostgreSQL (quotes, "" escapes, folding), shown back unambiguously.
import { describe, expect, it } from 'vitest';
import { displayName, parseQualifiedName, sqlName } from '../../src/pg/identifier.js';

const ok = (text: string) => {
  const parsed = parseQualifiedName(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
};
const reason = (text: string) => {
  const parsed = parseQualifiedName(text);
  if (parsed.ok) throw new Error(`accepted ${text}`);
  return parsed.reason;
};

describe('parseQualifiedName', () => {
  it('folds unquoted parts to lower case and keeps quoted parts as written', () => {
    expect(ok('invoices')).toEqual({ name: 'invoices' });
    expect(ok('Billing.Invoices')).toEqual({ schema: 'billing', name: 'invoices' });
    expect(ok('billing."TaxRate"')).toEqual({ schema: 'billing', name: 'TaxRate' });
    expect(ok('"Billing"."Tax.Rate"')).toEqual({ schema: 'Billing', name: 'Tax.Rate' });
    expect(ok('  public.fp_zb  ')).toEqual({ schema: 'public', name: 'fp_zb' });
  });

  it('takes "" inside quotes as one quote', () => {
    expect(ok('public."say ""hi"""')).toEqual({ schema: 'public', name: 'say "hi"' });
  });

  it('accepts non-ASCII names, unquoted (no folding of them) or quoted with spaces', () => {
    expect(ok('public."发票 附件"')).toEqual({ schema: 'public', name: '发票 附件' });
    expect(ok('"财务"."发票 主表"')).toEqual({ schema: '财务', name: '发票 主表' });
    expect(ok('财务.发票')).toEqual({ schema: '财务', name: '发票' });
    expect(ok('Ärger.Übersicht')).toEqual({ schema: 'Ärger', name: 'Übersicht' });
  });

  it('refuses what PostgreSQL would not read as one table name, saying why', () => {
    expect(reason('public.发票 附件')).toMatch(/space must be quoted/);
    expect(reason('public."open')).toMatch(/unterminated/);
    expect(reason('public.""')).toMatch(/zero-length/);
    expect(reason('db.public.t')).toMatch(/database name/);
    expect(reason('public.')).toMatch(/nothing after the dot/);
    expect(reason('.t')).toMatch(/empty name part/);
    expect(reason('')).toMatch(/empty/);
    expect(reason('public.1abc')).toMatch(/cannot appear/);
    expect(reason('public."a"b')).toMatch(/unexpected 'b'/);
    expect(reason(`public.${'a'.repeat(64)}`)).toMatch(/63 bytes/);
    // 22 three-byte characters are 66 bytes
    expect(reason(`"${'发'.repeat(22)}"`)).toMatch(/63 bytes/);
  });
});

describe('display and SQL forms', () => {
  it('quotes only where psql users must, and always in SQL', () => {
    expect(displayName({ schema: 'public', name: 'invoices' })).toBe('public.invoices');
    expect(displayName({ schema: 'billing', name: 'TaxRate' })).toBe('billing."TaxRate"');
    expect(displayName({ schema: 'public', name: '发票 附件' })).toBe('public."发票 附件"');
    expect(displayName({ schema: 'public', name: 'order' })).toBe('public."order"');
    expect(sqlName({ schema: 'public', name: 'say "hi"' })).toBe('"public"."say ""hi"""');
  });

  it('what displayName writes parses back to the same name', () => {
    for (const t of [{ schema: 'a', name: 'B' }, { schema: '财务', name: '发票 主表' }, { schema: 'x"y', name: 'z.w' }, { schema: 'public', name: 'user' }]) {
      expect(ok(displayName(t))).toEqual(t);
    }
  });
});
