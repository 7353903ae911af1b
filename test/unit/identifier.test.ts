// Table and column names as psql prints them (src/core/pg/identifier.ts): parsed like PostgreSQL (quotes,
// "" escapes, folding), shown back unambiguously; the same parser for verifyTables and reconcile.
import { describe, expect, it } from 'vitest';
import {
  displayName,
  displayTableName,
  parseColumnName,
  parseQualifiedName,
  parseTableName,
  quoteTableName,
  sqlName,
} from '../../src/core/pg/identifier.js';

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
    for (const t of [
      { schema: 'a', name: 'B' },
      { schema: '财务', name: '发票 主表' },
      { schema: 'x"y', name: 'z.w' },
      { schema: 'public', name: 'user' },
    ]) {
      expect(ok(displayName(t))).toEqual(t);
    }
  });
});

const okTable = (text: string) => {
  const p = parseTableName(text);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

describe('parseTableName', () => {
  it.each([
    ['invoices', { name: 'invoices' }, '"invoices"'],
    ['public.invoices', { schema: 'public', name: 'invoices' }, '"public"."invoices"'],
    ['billing."TaxRate"', { schema: 'billing', name: 'TaxRate' }, '"billing"."TaxRate"'],
    // unquoted names fold to lower case, as in SQL and psql's \d patterns
    ['billing.TaxRate', { schema: 'billing', name: 'taxrate' }, '"billing"."taxrate"'],
    ['"财务"."发票 主表"', { schema: '财务', name: '发票 主表' }, '"财务"."发票 主表"'],
    ['public."发票 附件"', { schema: 'public', name: '发票 附件' }, '"public"."发票 附件"'],
    ['财务.发票主表', { schema: '财务', name: '发票主表' }, '"财务"."发票主表"'],
    ['"a.b"."say ""hi"""', { schema: 'a.b', name: 'say "hi"' }, '"a.b"."say ""hi"""'],
  ])('%s', (text, parts, sql) => {
    expect(okTable(text)).toEqual(parts);
    expect(quoteTableName(okTable(text))).toBe(sql);
    // what it prints in messages reads back to the same parts
    expect(okTable(displayTableName(okTable(text)))).toEqual(parts);
  });

  it.each([
    ['', 'empty name'],
    ['"unterminated', 'unterminated quoted identifier'],
    ['a.b.c', 'a database name cannot be given here'],
    ['a..b', 'empty name part'],
    ['"x"y', "unexpected 'y'"],
    ['ab"c', "unexpected '\"'"],
    ['public.发票 附件', 'a name with a space must be quoted'],
    [`public.${'发'.repeat(22)}`, "longer than PostgreSQL's 63 bytes"],
  ])('refuses %j', (text, error) => {
    const p = parseTableName(text);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toContain(error);
  });
});

describe('parseColumnName', () => {
  it('reads one name, quoted or not', () => {
    expect(parseColumnName('开票日期')).toEqual({ ok: true, value: '开票日期' });
    expect(parseColumnName('"Issued At"')).toEqual({ ok: true, value: 'Issued At' });
    expect(parseColumnName('fphm')).toEqual({ ok: true, value: 'fphm' });
    expect(parseColumnName('src.fphm').ok).toBe(false);
  });
});
