// A local "extra" that is really an upstream row rejected as damaged is linked to that row.
import { describe, expect, it } from 'vitest';
import { linkRejectedRows } from '../../src/reconcile/engine/rejected-rows.js';
import type { Finding } from '../../src/reconcile/model/types.js';

const damaged = (origin: string, row: Record<string, string>): Finding => ({
  kind: 'invalid_input',
  key: '',
  evidence: { origin, reason: "number '2.64E+19' is in scientific notation", severity: 'error', row },
});
const extra = (key: string, issuedAt: string, totalFen: number, sellerTaxId = '91110000600037341L'): Finding => ({
  kind: 'extra',
  key,
  day: issuedAt.slice(0, 10),
  local: { key, issuedAt, day: issuedAt.slice(0, 10), totalFen, status: 'valid', sellerTaxId },
  evidence: { reason: 'the local table has the invoice, upstream does not' },
});

describe('linkRejectedRows', () => {
  it('links an extra to the one damaged row with its seller, Shanghai issue time and total', () => {
    const findings = [
      damaged('export.xlsx:1267', {
        digitalNumber: '2.64E+19',
        sellerTaxId: '91110000600037341L',
        issuedAt: '2026-10-27 05:19:10',
        total: '11588.28',
      }),
      extra('26442000000000018411', '2026-10-26T21:19:10.180Z', 1158828),
      extra('26442000000000018412', '2026-10-26T21:19:10.180Z', 1158829), // one fen off: not the same invoice
      extra('26442000000000018413', '2026-10-26T21:19:10.180Z', 1158828, '91310110666007217T'), // other seller
    ];
    expect(linkRejectedRows(findings, 'Asia/Shanghai')).toBe(1);
    expect(findings[1]!.evidence.upstreamRowRejected).toBe(
      "export.xlsx:1267: number '2.64E+19' is in scientific notation",
    );
    expect(findings[1]!.evidence.reason).toMatch(/^upstream has this invoice, but its row was rejected as damaged/);
    expect(findings[2]!.evidence.upstreamRowRejected).toBeUndefined();
    expect(findings[3]!.evidence.upstreamRowRejected).toBeUndefined();
  });

  it('claims nothing when two damaged rows fit', () => {
    const row = { sellerTaxId: '91110000600037341L', issuedAt: '2026-10-27 05:19:10', total: '11588.28' };
    const findings = [
      damaged('a.xlsx:1', row),
      damaged('a.xlsx:2', row),
      extra('26442000000000018411', '2026-10-26T21:19:10Z', 1158828),
    ];
    expect(linkRejectedRows(findings, 'Asia/Shanghai')).toBe(0);
  });
});
