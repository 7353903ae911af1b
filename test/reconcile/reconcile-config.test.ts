// The reconcile section means what it says: a mapping names exactly the columns read (defaults
// only without one), names are parsed as psql prints them, amountUnit is one of two words.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';

const base = {
  repository: { url: 'file:///tmp/r' },
  encryption: { recipients: [generateIdentity().recipient] },
  targets: [{ name: 'invoices', url: 'postgres://h/db' }],
};
const parse = (reconcile: Record<string, unknown>) =>
  parseConfig(JSON.stringify({ ...base, reconcile: { upstream: { type: 'file', path: 'x.csv' }, ...reconcile } }), {})
    .reconcile!;

describe('reconcile mapping', () => {
  it('uses exactly the columns a mapping names; the demo names only without a mapping', () => {
    const rc = parse({
      local: {
        table: 'sales.invoice',
        columns: { number: 'invoice_no', issuedAt: 'issue_time', total: 'gross', status: 'state' },
      },
    });
    expect(rc.local.columns).toEqual({ number: 'invoice_no', issuedAt: 'issue_time', total: 'gross', status: 'state' });
    expect(parse({}).local.columns).toEqual({
      code: 'invoice_code',
      number: 'invoice_number',
      issuedAt: 'issued_at',
      total: 'total_amount',
      status: 'status',
      sellerTaxId: 'seller_tax_id',
      buyerTaxId: 'buyer_tax_id',
      amount: 'amount',
      tax: 'tax_amount',
      rate: 'tax_rate',
    });
    // a postgres upstream the same way
    const up = parse({
      upstream: {
        type: 'postgres',
        url: 'postgres://h/up',
        table: 'public.fp_zb',
        columns: { code: 'fpdm', number: 'fphm', issuedAt: 'kprq', total: 'jshj', status: 'zt' },
      },
    }).upstream;
    expect(up).toMatchObject({
      columns: { code: 'fpdm', number: 'fphm', issuedAt: 'kprq', total: 'jshj', status: 'zt' },
    });
    expect(Object.keys((up as { columns: object }).columns)).toHaveLength(5);
  });

  it('reads table and column names as psql prints them, quoted or not', () => {
    const rc = parse({
      local: {
        table: '"财务"."发票 主表"',
        columns: { number: '发票号码', issuedAt: '"Issued At"', total: '价税合计', status: '状态' },
        amountUnit: 'fen',
      },
    });
    expect(rc.local).toMatchObject({
      table: '"财务"."发票 主表"',
      columns: { number: '发票号码', issuedAt: 'Issued At' },
      amountUnit: 'fen',
    });
  });

  it('refuses, with paths, a mapping missing a required column, a name that is not one, an unknown amountUnit', () => {
    expect(() =>
      parse({ local: { table: 'a.b.c', columns: { number: 'n', issuedAt: '"t', total: 't' }, amountUnit: 'cents' } }),
    ).toThrow(
      /reconcile\.local\.table: 'a\.b\.c' a database name cannot be given here \(write schema\.table\).*reconcile\.local\.amountUnit: must be one of yuan, fen.*reconcile\.local\.columns\.issuedAt: '"t' unterminated quoted identifier.*reconcile\.local\.columns\.status: required \(a mapping names every column it uses\)/,
    );
  });
});
