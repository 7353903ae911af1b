// Every field both sides read is compared (issue 12, item 2): a 金额/税额 split changed under the
// same total, a changed 税率, a changed seller or buyer tax ID and a changed issue time each make
// their bucket differ and come out as their own finding, with regular evidence in fen; a field one
// side lacks is not compared. Pure: in-memory sources.
import { describe, expect, it } from 'vitest';
import { classify, failing } from '../../src/reconcile/engine/classify.js';
import { fieldsOfRows, parseRateBp, formatRate } from '../../src/reconcile/model/detail-fields.js';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { MemorySource } from '../../src/reconcile/sources/memory-source.js';
import { DEFAULT_FAIL_ON, type DetailField, type Invoice } from '../../src/reconcile/model/types.js';

const window = { from: '2026-11-01', to: '2026-11-07', timezone: 'Asia/Shanghai' };
const NOW = new Date('2026-11-08T00:00:00Z');
const SELLER = '91310110666007217T';
const BUYER = '91110000600037341L';

function invoice(i: number): Invoice {
  const day = `2026-11-0${1 + (i % 7)}`;
  const hour = (i * 7) % 24;
  const number = String(10_000_000 + i).slice(-8);
  const amountFen = 10_000 + ((i * 7919) % 100_000);
  const taxFen = Math.round(amountFen * 0.13);
  return {
    key: `031001900111-${number}`,
    number,
    code: '031001900111',
    day,
    hour,
    issuedAt: new Date(`${day}T${String(hour).padStart(2, '0')}:00:00+08:00`).toISOString(),
    amountFen,
    taxFen,
    rateBp: 1300,
    totalFen: amountFen + taxFen,
    status: 'valid',
    sellerTaxId: SELLER,
    buyerTaxId: BUYER,
  };
}

const mem = (rows: Invoice[], fields?: DetailField[]): MemorySource =>
  new MemorySource({ kind: 'memory', location: 'test' }, rows, undefined, fields);

async function findingsOf(
  upstream: Invoice[],
  local: Invoice[],
  fields?: { upstream?: DetailField[]; local?: DetailField[] },
) {
  const result = await compareSources(mem(upstream, fields?.upstream), mem(local, fields?.local), {
    window,
    partition: false,
    limits: { listLimit: 50, maxPrefix: 6 },
  });
  return { result, findings: classify(result.diffs, { now: NOW, syncLagSeconds: 3600, fields: result.fields }) };
}

describe('every field both sides read is compared', () => {
  const base = Array.from({ length: 600 }, (_, i) => invoice(i));

  it('a 金额/税额 split changed under the same total is a tax_mismatch (its bucket differs although count and sum agree)', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[10]!.amountFen! += 500;
    upstream[10]!.taxFen! -= 500;
    const { result, findings } = await findingsOf(upstream, base);
    expect(result.fields).toEqual(['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId', 'issueTime']);
    expect(result.stats.differingBuckets).toBe(1);
    expect(findings.map((f) => [f.kind, f.key])).toEqual([['tax_mismatch', base[10]!.key]]);
    expect(findings[0]!.evidence).toEqual({
      fields: ['amount', 'tax'],
      upstreamAmountFen: base[10]!.amountFen! + 500,
      localAmountFen: base[10]!.amountFen,
      upstreamTaxFen: base[10]!.taxFen! - 500,
      localTaxFen: base[10]!.taxFen,
      upstreamRate: '13%',
      localRate: '13%',
      upstreamFen: base[10]!.totalFen,
      localFen: base[10]!.totalFen,
      differenceFen: 0,
      totalsAgree: true,
    });
    expect(failing(findings, DEFAULT_FAIL_ON)).toHaveLength(1);
  });

  it('a changed 税率 is a tax_mismatch, also when the total changed with it (then next to amount_mismatch)', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[20]!.rateBp = 900;
    upstream[30]!.rateBp = 900;
    upstream[30]!.taxFen = Math.round(upstream[30]!.amountFen! * 0.09);
    upstream[30]!.totalFen = upstream[30]!.amountFen! + upstream[30]!.taxFen;
    const { findings } = await findingsOf(upstream, base);
    expect(findings.map((f) => [f.kind, f.key, f.evidence.fields])).toEqual([
      ['amount_mismatch', base[30]!.key, ['tax', 'rate']],
      ['tax_mismatch', base[30]!.key, ['tax', 'rate']], // 11-03
      ['tax_mismatch', base[20]!.key, ['rate']], // 11-07
    ]);
    expect(findings.find((f) => f.kind === 'tax_mismatch' && f.key === base[20]!.key)!.evidence).toMatchObject({
      upstreamRate: '9%',
      localRate: '13%',
      totalsAgree: true,
    });
  });

  it('a total changed with its 金额 at the same rate is one amount_mismatch whose evidence shows the split', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[40]!.amountFen! += 100;
    upstream[40]!.totalFen += 100;
    const { findings } = await findingsOf(upstream, base);
    expect(findings.map((f) => f.kind)).toEqual(['amount_mismatch']);
    expect(findings[0]!.evidence).toMatchObject({
      upstreamFen: base[40]!.totalFen + 100,
      localFen: base[40]!.totalFen,
      differenceFen: -100,
      fields: ['amount'],
      upstreamAmountFen: base[40]!.amountFen! + 100,
    });
  });

  it('a changed seller or buyer tax ID is a party_mismatch', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[50]!.sellerTaxId = '91512081MA62K0260E';
    upstream[60]!.buyerTaxId = '121200004013590816';
    const { findings } = await findingsOf(upstream, base);
    expect(findings.map((f) => [f.kind, f.key])).toEqual([
      ['party_mismatch', base[50]!.key],
      ['party_mismatch', base[60]!.key],
    ]);
    expect(findings[0]!.evidence).toEqual({
      fields: ['sellerTaxId'],
      upstreamSellerTaxId: '91512081MA62K0260E',
      localSellerTaxId: SELLER,
      upstreamBuyerTaxId: BUYER,
      localBuyerTaxId: BUYER,
    });
    expect(findings[1]!.evidence.fields).toEqual(['buyerTaxId']);
    expect(failing(findings, DEFAULT_FAIL_ON)).toHaveLength(2);
  });

  it('an issue time changed within the day is a time_mismatch, informational unless failOn names it', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[70]!.issuedAt = new Date(Date.parse(base[70]!.issuedAt) + 37_000).toISOString();
    const { findings } = await findingsOf(upstream, base);
    expect(findings.map((f) => [f.kind, f.key])).toEqual([['time_mismatch', base[70]!.key]]);
    expect(findings[0]!.evidence).toEqual({
      fields: ['issueTime'],
      upstreamIssuedAt: upstream[70]!.issuedAt.replace('.000Z', 'Z'),
      localIssuedAt: base[70]!.issuedAt.replace('.000Z', 'Z'),
      differenceSeconds: -37,
    });
    expect(failing(findings, DEFAULT_FAIL_ON)).toHaveLength(0);
    expect(failing(findings, ['time_mismatch'])).toHaveLength(1);
  });

  it('milliseconds do not count: the issue time is compared to the second', async () => {
    const upstream = base.map((r) => ({ ...r, issuedAt: r.issuedAt.replace('.000Z', '.999Z') }));
    const { findings, result } = await findingsOf(upstream, base);
    expect(findings).toEqual([]);
    expect(result.stats.differingBuckets).toBe(0);
  });

  it('a field one side does not read is not compared (and does not make buckets differ)', async () => {
    const upstream = base.map((r) => ({ ...r }));
    upstream[10]!.amountFen! += 500;
    upstream[10]!.taxFen! -= 500;
    upstream[50]!.sellerTaxId = '91512081MA62K0260E';
    const local = base.map(({ amountFen: _a, taxFen: _t, ...r }) => r);
    const { findings, result } = await findingsOf(upstream, local);
    expect(result.fields).toEqual(['rate', 'sellerTaxId', 'buyerTaxId', 'issueTime']);
    expect(findings.map((f) => [f.kind, f.key])).toEqual([['party_mismatch', base[50]!.key]]);
    // a source's declared fields win over what its rows happen to carry
    const declared = await findingsOf(upstream, base, { local: ['issueTime'] });
    expect(declared.result.fields).toEqual(['issueTime']);
    expect(declared.findings).toEqual([]);
  });
});

describe('field values', () => {
  it('reads 税率 as the export and tables write it', () => {
    expect(
      [
        '13%',
        '9%',
        '0.13',
        '13',
        '1.5%',
        '0.5',
        '0.005',
        '0',
        '免税',
        '不征税',
        '６%'.normalize('NFKC'),
        '***',
        '',
        'abc',
      ].map(parseRateBp),
    ).toEqual([1300, 900, 1300, 1300, 150, 50, 50, 0, 0, 0, 600, undefined, undefined, undefined]);
    expect([1300, 150, 0, -1, undefined].map(formatRate)).toEqual(['13%', '1.5%', '0%', 'mixed', undefined]);
  });

  it('a memory side reads the fields every row carries, the issue time always', () => {
    expect(fieldsOfRows([invoice(1), { ...invoice(2), buyerTaxId: undefined }])).toEqual([
      'amount',
      'tax',
      'rate',
      'sellerTaxId',
      'issueTime',
    ]);
  });
});
