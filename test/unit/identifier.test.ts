// The shared identifier parser (src/pg/identifier.ts): what \dt and \d print is accepted, quoted
// back exactly, and refused with a reason when it cannot be a PostgreSQL name.
import { describe, expect, it } from 'vitest';
import { displayTableName, parseColumnName, parseTableName, quoteTableName } from '../../src/pg/identifier.js';

const ok = (text: string) => {
  const p = parseTableName(text);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

describe('parseTableName', () => {
  it.each([
    ['invoices', { name: 'invoices' }, '"invoices"'],
    ['public.invoices', { schema: 'public', name: 'invoices' }, '"public"."invoices"'],
    ['billing."TaxRate"', { schema: 'billing', name: 'TaxRate' }, '"billing"."TaxRate"'],
    ['billing.TaxRate', { schema: 'billing', name: 'TaxRate' }, '"billing"."TaxRate"'],
    ['"财务"."发票 主表"', { schema: '财务', name: '发票 主表' }, '"财务"."发票 主表"'],
    ['public."发票 附件"', { schema: 'public', name: '发票 附件' }, '"public"."发票 附件"'],
    ['财务.发票主表', { schema: '财务', name: '发票主表' }, '"财务"."发票主表"'],
    ['"a.b"."say ""hi"""', { schema: 'a.b', name: 'say "hi"' }, '"a.b"."say ""hi"""'],
    [' "s" . "t" ', { schema: 's', name: 't' }, '"s"."t"'],
  ])('%s', (text, parts, sql) => {
    expect(ok(text)).toEqual(parts);
    expect(quoteTableName(ok(text))).toBe(sql);
    // what it prints in messages reads back to the same parts
    expect(ok(displayTableName(ok(text)))).toEqual(parts);
  });

  it.each([
    ['', 'is empty'],
    ['"unterminated', 'unterminated double quote'],
    ['a.b.c', 'more than two dotted parts'],
    ['a..b', 'empty name part'],
    ['"x"y', 'text after a closing quote'],
    ['ab"c', 'double quote inside an unquoted name'],
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
