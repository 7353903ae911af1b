// The pure validators and mappings: docs/INVOICES.md's test vectors, Excel damage, amounts in fen.
import { describe, expect, it } from 'vitest';
import { canonicalKey } from '../../src/reconcile/model/invoice-key.js';
import { parseIssueTime } from '../../src/reconcile/model/issue-time.js';
import { mapLocalStatus, parseStatus } from '../../src/reconcile/model/invoice-status.js';
import { validateRow } from '../../src/reconcile/sources/upstream-row.js';
import {
  checkCode,
  checkDigitalYear,
  checkNumber,
  checkTaxId,
  formatFen,
  gb32100CheckChar,
  parseAmountFen,
} from '../../src/reconcile/model/validators.js';

const TZ = 'Asia/Shanghai';
const NOW = new Date('2026-11-28T00:00:00Z');

describe('taxpayer IDs (GB 32100)', () => {
  it.each(['91310110666007217T', '91110000600037341L', '121200004013590816', '91512081MA62K0260E'])(
    '%s is valid',
    (id) => {
      expect(checkTaxId(id, 'seller tax ID')).toEqual({ ok: true });
    },
  );
  it('flags a wrong check character as a warning with the expected one', () => {
    expect(checkTaxId('91110000600037341N', 'seller tax ID')).toEqual({
      ok: true,
      warning: "seller tax ID '91110000600037341N' fails the GB 32100 check character (expected 'L')",
    });
    expect(gb32100CheckChar('91350100M000100Y4')).toBe('3');
    expect(checkTaxId('91350100M000100Y4Z', 'buyer tax ID')).toMatchObject({
      ok: true,
      warning: expect.stringContaining("expected '3'"),
    });
  });
  it('accepts lengths 15, 17, 20 without a checksum and rejects others', () => {
    expect(checkTaxId('110108123456789', 'x').ok).toBe(true);
    expect(checkTaxId('11010812345678901', 'x').ok).toBe(true);
    expect(checkTaxId('11010812345678901234', 'x').ok).toBe(true);
    expect(checkTaxId('1234', 'seller tax ID')).toEqual({
      ok: false,
      error: "seller tax ID '1234' has 4 characters (expected 15, 17, 18 or 20)",
    });
    expect(checkTaxId('9131011066600721 T', 'x').ok).toBe(false);
  });
});

describe('codes, numbers and Excel damage', () => {
  it('accepts the real shapes', () => {
    expect(checkCode('')).toEqual({ ok: true });
    expect(checkCode('031001900111')).toEqual({ ok: true });
    expect(checkCode('3100191130')).toEqual({ ok: true });
    expect(checkNumber('00012345', '031001900111')).toEqual({ ok: true });
    expect(checkNumber('26312000000000012345', '')).toEqual({ ok: true });
  });
  it('reports scientific notation and lost leading zeros, never repairs them', () => {
    expect(checkNumber('2.41E+19', '')).toEqual({
      ok: false,
      error:
        "number '2.41E+19' is in scientific notation: Excel kept 15 significant digits and dropped the rest (re-export it as text)",
    });
    expect(checkCode('31001900111')).toEqual({
      ok: false,
      error: "code '31001900111' has 11 digits: a leading zero was probably lost (Excel), expected 12",
    });
    expect(checkNumber('12345', '031001900111')).toEqual({
      ok: false,
      error: "number '12345' has 5 digits: leading zeros were probably lost (Excel), expected 8",
    });
    expect(checkCode('231001900111')).toEqual({
      ok: false,
      error: "12-digit code '231001900111' must start with 0 or 1",
    });
    expect(checkNumber('24312345678901200000', '')).toMatchObject({
      ok: true,
      warning: expect.stringContaining('five zeros'),
    });
  });
  it('a 20-digit number from a numeric xlsx cell is damaged even when it looks whole', () => {
    const r = validateRow(
      {
        origin: 'a.xlsx:2',
        fields: {
          digitalNumber: '26312000000000012345',
          issuedAt: '2026-11-01 10:00:00',
          total: '10.00',
          sellerTaxId: '91310110666007217T',
        },
        numeric: new Set(['digitalNumber']),
      },
      { timezone: TZ, now: NOW },
    );
    expect(r.invoice).toBeUndefined();
    expect(r.errors[0]).toMatch(/stored as a number by Excel/);
  });
  it('warns when a 数电 number year disagrees with the issue date', () => {
    expect(checkDigitalYear('25312000000000012345', 2026)).toEqual({
      ok: true,
      warning: "数电 number '25312000000000012345' starts with '25' but the invoice was issued in 2026",
    });
    expect(checkDigitalYear('26312000000000012345', 2026)).toEqual({ ok: true });
  });
});

describe('amounts to integer fen', () => {
  it('parses without floats', () => {
    expect(parseAmountFen('1,234.5', 'total')).toEqual({ ok: true, fen: 123450 });
    expect(parseAmountFen('-0.07', 'total')).toEqual({ ok: true, fen: -7 });
    expect(parseAmountFen('¥99', 'total')).toEqual({ ok: true, fen: 9900 });
    expect(parseAmountFen('99999999999.99', 'total')).toEqual({ ok: true, fen: 9999999999999 });
  });
  it('rejects three decimals and garbage, but forgives float noise from a numeric xlsx cell', () => {
    expect(parseAmountFen('1.005', 'total')).toEqual({ ok: false, error: "total '1.005' has more than 2 decimals" });
    expect(parseAmountFen('12a', 'total')).toEqual({ ok: false, error: "total '12a' is not an amount" });
    expect(parseAmountFen('112.99999999999999', 'total', { numericCell: true })).toEqual({ ok: true, fen: 11300 });
    expect(parseAmountFen('1.005', 'total', { numericCell: true }).ok).toBe(false);
  });
  it('formats fen and bigint sums', () => {
    expect(formatFen(-7)).toBe('-0.07');
    expect(formatFen(123450n * 10n ** 10n)).toBe('12345000000000.00');
  });
});

describe('issue times in the configured zone', () => {
  it('00:30 in Shanghai belongs to that Shanghai day, whatever UTC says', () => {
    expect(parseIssueTime('2026-11-03 00:30:00', TZ, NOW)).toEqual({
      ok: true,
      day: '2026-11-03',
      hour: 0,
      issuedAt: '2026-11-02T16:30:00.000Z',
      year: 2026,
    });
    expect(parseIssueTime('2026-11-02T16:30:00Z', TZ, NOW)).toMatchObject({ ok: true, day: '2026-11-03', hour: 0 });
    expect(parseIssueTime('2026/7/10', TZ, NOW)).toMatchObject({ ok: true, day: '2026-07-10', hour: 0 });
    expect(parseIssueTime('46213.5', TZ, NOW, { numericCell: true })).toMatchObject({
      ok: true,
      day: '2026-07-10',
      hour: 12,
    });
  });
  it('rejects impossible dates and the future', () => {
    expect(parseIssueTime('2026-02-30 10:00:00', TZ, NOW)).toEqual({
      ok: false,
      error: "issue date '2026-02-30 10:00:00' is not a valid calendar date",
    });
    expect(parseIssueTime('2027-01-01 10:00:00', TZ, NOW)).toEqual({
      ok: false,
      error: "issue date '2027-01-01 10:00:00' is in the future",
    });
    expect(parseIssueTime('next tuesday', TZ, NOW).ok).toBe(false);
  });
});

describe('keys and statuses', () => {
  it('builds the canonical key', () => {
    expect(canonicalKey(null, '26312000000000012345')).toBe('26312000000000012345');
    expect(canonicalKey('031001900111', ' 00012345 ')).toBe('031001900111-00012345');
  });
  it('maps platform labels, codes and a configured local map', () => {
    expect(parseStatus('正常')).toBe('valid');
    expect(parseStatus('已红冲-部分')).toBe('partially_red_flushed');
    expect(parseStatus('已红冲－全额')).toBe('red_flushed');
    expect(parseStatus('已作废')).toBe('voided');
    expect(parseStatus('8')).toBe('red_flushed');
    expect(parseStatus('作废了吗')).toBeUndefined();
    expect(parseStatus('X', { X: 'abnormal' })).toBe('abnormal');
    expect(mapLocalStatus('2', { '2': 'voided' })).toBe('voided');
    expect(mapLocalStatus('9', { '2': 'voided' })).toBe('unmapped:9');
  });
});
