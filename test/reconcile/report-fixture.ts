// A report shaped like the demo's (missing 4 with one pending sync, extra 3, a total mismatch, an
// upstream duplicate, a rejected row; 2,894 accepted upstream rows), for the rendering tests.
import { type ReconcileReport, buildReport, findingRole } from '../../src/reconcile/report/report.js';
import type { ReportLanguage } from '../../src/reconcile/report/report-i18n.js';
import { DEFAULT_FAIL_ON, type Finding } from '../../src/reconcile/model/types.js';

export const SELLER_A = '91310110666007217T';
export const SELLER_B = '91440300708461136T';
const inv = (key: string, day: string, totalFen: number, seller = SELLER_A, issuedAt = `${day}T02:15:00.000Z`) => ({
  key,
  issuedAt,
  day,
  totalFen,
  status: 'valid',
  sellerTaxId: seller,
});

/** missing 4 (one pending sync), extra 3, amount_mismatch 1, duplicate 1 (upstream, 2 rows), invalid_input 1: 10 findings, 8 failing */
export const FINDINGS: Finding[] = [
  {
    kind: 'missing',
    key: '26312000000000000001',
    day: '2026-11-03',
    upstream: inv('26312000000000000001', '2026-11-03', 11300),
    evidence: { reason: 'upstream has the invoice, the local table does not' },
  },
  {
    kind: 'missing',
    key: '26312000000000000002',
    day: '2026-11-03',
    upstream: inv('26312000000000000002', '2026-11-03', 22600),
    evidence: { reason: 'upstream has the invoice, the local table does not' },
  },
  {
    kind: 'missing',
    key: '26312000000000000003',
    day: '2026-11-04',
    upstream: inv('26312000000000000003', '2026-11-04', 5000, SELLER_B),
    evidence: { reason: 'upstream has the invoice, the local table does not' },
  },
  {
    kind: 'missing',
    key: '26312000000000000004',
    day: '2026-11-05',
    cause: 'pending_sync',
    upstream: inv('26312000000000000004', '2026-11-05', 1000),
    evidence: { reason: 'upstream has the invoice, the local table does not', syncLagSeconds: 7200 },
  },
  {
    kind: 'extra',
    key: '26312000000000000011',
    day: '2026-11-03',
    local: inv('26312000000000000011', '2026-11-03', 300),
    evidence: { reason: 'the local table has the invoice, upstream does not' },
  },
  {
    kind: 'extra',
    key: '26312000000000000012',
    day: '2026-11-04',
    local: inv('26312000000000000012', '2026-11-04', 400, SELLER_B),
    evidence: { reason: 'the local table has the invoice, upstream does not' },
  },
  {
    kind: 'extra',
    key: '26312000000000000013',
    day: '2026-11-04',
    local: inv('26312000000000000013', '2026-11-04', 500, SELLER_B),
    evidence: { reason: 'the local table has the invoice, upstream does not' },
  },
  {
    kind: 'amount_mismatch',
    key: '26312000000000000021',
    day: '2026-11-20',
    upstream: inv('26312000000000000021', '2026-11-20', 123456789),
    local: inv('26312000000000000021', '2026-11-20', 123446789),
    evidence: { upstreamFen: 123456789, localFen: 123446789, differenceFen: -10000 },
  },
  {
    kind: 'duplicate',
    key: '26312000000000000031',
    side: 'upstream',
    day: '2026-11-06',
    upstream: { ...inv('26312000000000000031', '2026-11-06', 700), rows: 2 },
    evidence: { side: 'upstream', rows: 2, where: ['a.xlsx:10', 'a.xlsx:11'] },
  },
  {
    kind: 'invalid_input',
    key: '',
    day: '2026-11-07',
    evidence: { origin: 'a.xlsx:99', reason: "发票号码 '2.63E+19' is not a 20-digit number", severity: 'error' },
  },
];

export function demoLike(language: ReportLanguage, findings: Finding[] = FINDINGS): ReconcileReport {
  const day = (d: string, up: number, lo: number) => {
    const bucket = { day: d };
    return {
      bucket,
      upstream: { bucket, count: up, sumFen: BigInt(up) * 10000n, hash: 1n },
      local: { bucket, count: lo, sumFen: BigInt(lo) * 10000n, hash: up === lo ? 1n : 2n },
      equal: up === lo,
    };
  };
  return buildReport({
    run: {
      id: '20261128T010000Z-abcd',
      scope: 's',
      startedAt: '2026-11-28T01:00:00Z',
      finishedAt: '2026-11-28T01:00:01Z',
      window: { from: '2026-11-01', to: '2026-11-28', timezone: 'Asia/Shanghai' },
      upstream: { kind: 'file', location: './exports/全量发票查询导出结果.xlsx' },
      local: { kind: 'postgres', location: 'postgres://u:***@h/db public.invoices' },
      parameters: { syncLagSeconds: 7200, failOn: [...DEFAULT_FAIL_ON], listLimit: 2000, now: '2026-11-28T01:00:00Z' },
      toolVersion: '0.1.0',
      language,
    },
    // 2894 upstream rows accepted (the duplicate's two rows among them), one more rejected
    days: [
      day('2026-11-03', 1000, 999),
      day('2026-11-04', 900, 901),
      day('2026-11-05', 500, 499),
      day('2026-11-06', 494, 493),
      day('2026-11-20', 0, 0),
    ],
    findings,
    failing: findings.filter((f) => findingRole(f, DEFAULT_FAIL_ON) === 'failing').length,
    warnings: [],
    rejectedRows: 1,
    stats: {
      buckets: 5,
      differingBuckets: 4,
      listedBuckets: 4,
      rowsListed: { upstream: 10, local: 10 },
      splitQueries: 0,
      lookedUpKeys: 8,
    },
  });
}
