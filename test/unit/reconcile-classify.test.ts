// Differences → findings (src/reconcile/engine/classify.ts) on hand-made diffs, with every finding written
// out: kinds, causes (pending_sync at the lag boundary, probable_typo pairing), evidence, order.
import { describe, expect, it } from 'vitest';
import { classify, failing, oneEditApart, sortFindings, view } from '../../src/reconcile/engine/classify.js';
import type { KeyDiff } from '../../src/reconcile/engine/diff.js';
import type { Finding, Invoice } from '../../src/reconcile/model/types.js';

const NOW = new Date('2026-11-20T12:00:00Z');
const inv = (key: string, over: Partial<Invoice> = {}): Invoice => ({
  key,
  number: key,
  day: '2026-11-20',
  hour: 9,
  issuedAt: '2026-11-20T01:00:00Z',
  totalFen: 11_300,
  status: 'issued',
  ...over,
});
const d = (key: string, upstream: Invoice[], local: Invoice[]): KeyDiff => ({ key, upstream, local });
const V = (key: string, over: Record<string, unknown> = {}) => ({
  key,
  issuedAt: '2026-11-20T01:00:00Z',
  day: '2026-11-20',
  totalFen: 11_300,
  status: 'issued',
  ...over,
});

describe('view', () => {
  it('keeps the shown fields, leaves out absent optional ones, and counts rows only when more than one', () => {
    expect(view(inv('A'))).toEqual(V('A'));
    expect(view(inv('A'), 1)).toEqual(V('A'));
    expect(
      view(
        inv('A', {
          partition: 'p',
          sellerTaxId: 's',
          buyerTaxId: 'b',
          origin: 'f.csv:3',
          hour: 1,
          number: 'n',
          amountFen: 1,
        }),
        2,
      ),
    ).toEqual(V('A', { partition: 'p', sellerTaxId: 's', buyerTaxId: 'b', origin: 'f.csv:3', amountFen: 1, rows: 2 }));
  });

  it('an absent optional field is no key at all (not a key holding undefined); 税额 and 税率 are shown', () => {
    expect(view(inv('A'))).toStrictEqual(V('A'));
    expect(view(inv('A'), 1)).toStrictEqual(V('A'));
    expect(view(inv('A', { taxFen: 1_300, rateBp: 1_300 }), 3)).toStrictEqual(
      V('A', { taxFen: 1_300, rateBp: 1_300, rows: 3 }),
    );
    expect(Object.keys(view(inv('A'), 2))).toEqual(['key', 'issuedAt', 'day', 'totalFen', 'status', 'rows']);
  });
});

describe('oneEditApart', () => {
  it.each([
    ['ABCD', 'ABXD', true],
    ['ABCD', 'XBCD', true],
    ['ABCD', 'ABCX', true],
    ['ABCD', 'BACD', true],
    ['ABCD', 'ABDC', true],
    ['ABCD', 'ABCD', false],
    ['ABCD', 'ABC', false],
    ['ABCD', 'XYCD', false],
    ['ABCD', 'XACD', false],
    ['ABCD', 'ACBX', false],
    ['ABCD', 'BADC', false],
    ['ABCD', 'AXCY', false],
    ['ABCA', 'BBCB', false],
    ['ABCD', 'DBCA', false],
    ['ABAB', 'BABA', false],
  ])('%s / %s: %s', (a, b, expected) => {
    expect(oneEditApart(a, b)).toBe(expected);
    expect(oneEditApart(b, a)).toBe(expected);
  });
});

describe('classify', () => {
  it('missing: issued before the sync lag is plain missing, at or after it is pending_sync', () => {
    const old = inv('OLD', { issuedAt: '2026-11-20T09:59:59.999Z' });
    const edge = inv('EDGE', { issuedAt: '2026-11-20T10:00:00.000Z' });
    expect(classify([d('OLD', [old], []), d('EDGE', [edge], [])], { now: NOW, syncLagSeconds: 7200 })).toEqual([
      {
        kind: 'missing',
        key: 'EDGE',
        day: '2026-11-20',
        upstream: V('EDGE', { issuedAt: '2026-11-20T10:00:00.000Z' }),
        cause: 'pending_sync',
        evidence: { reason: 'upstream has the invoice, the local table does not', syncLagSeconds: 7200 },
      },
      {
        kind: 'missing',
        key: 'OLD',
        day: '2026-11-20',
        upstream: V('OLD', { issuedAt: '2026-11-20T09:59:59.999Z' }),
        evidence: { reason: 'upstream has the invoice, the local table does not' },
      },
    ]);
  });

  it('extra: says when the upstream row with that key was rejected by validation', () => {
    const findings = classify([d('X1', [], [inv('X1')]), d('X2', [], [inv('X2', { day: '2026-11-19' })])], {
      now: NOW,
      syncLagSeconds: 0,
      invalidUpstreamKeys: new Map([['X1', 'exports/a.csv:7: total is not a number']]),
    });
    expect(findings).toEqual([
      {
        kind: 'extra',
        key: 'X2',
        day: '2026-11-19',
        local: V('X2', { day: '2026-11-19' }),
        evidence: { reason: 'the local table has the invoice, upstream does not' },
      },
      {
        kind: 'extra',
        key: 'X1',
        day: '2026-11-20',
        local: V('X1'),
        evidence: {
          reason: 'the local table has the invoice, upstream does not',
          upstreamRowRejected: 'exports/a.csv:7: total is not a number',
        },
      },
    ]);
  });

  it('one pair can be several mismatches at once, each with its evidence', () => {
    const u = inv('K', { totalFen: 10_000, status: 'issued', day: '2026-11-20', partition: 'p1' });
    const l = inv('K', {
      totalFen: 10_050,
      status: 'red_flushed',
      day: '2026-11-21',
      partition: 'p2',
      issuedAt: '2026-11-21T01:00:00Z',
    });
    const both = {
      upstream: V('K', { totalFen: 10_000, partition: 'p1' }),
      local: V('K', {
        totalFen: 10_050,
        status: 'red_flushed',
        day: '2026-11-21',
        partition: 'p2',
        issuedAt: '2026-11-21T01:00:00Z',
      }),
    };
    expect(classify([d('K', [u], [l])], { now: NOW, syncLagSeconds: 0 })).toEqual([
      {
        kind: 'amount_mismatch',
        key: 'K',
        day: '2026-11-20',
        ...both,
        evidence: { upstreamFen: 10_000, localFen: 10_050, differenceFen: 50 },
      },
      {
        kind: 'status_mismatch',
        key: 'K',
        day: '2026-11-20',
        ...both,
        evidence: { upstreamStatus: 'issued', localStatus: 'red_flushed' },
      },
      {
        kind: 'date_mismatch',
        key: 'K',
        day: '2026-11-20',
        ...both,
        evidence: {
          upstreamDay: '2026-11-20',
          localDay: '2026-11-21',
          upstreamIssuedAt: '2026-11-20T01:00:00Z',
          localIssuedAt: '2026-11-21T01:00:00Z',
          upstreamPartition: 'p1',
          localPartition: 'p2',
        },
      },
    ]);
  });

  it('a date mismatch names partitions only when they differ; a partition alone is a date mismatch', () => {
    const [dayOnly] = classify([d('K', [inv('K')], [inv('K', { day: '2026-11-21' })])], {
      now: NOW,
      syncLagSeconds: 0,
    });
    expect(dayOnly).toMatchObject({ kind: 'date_mismatch' });
    expect(dayOnly!.evidence).toStrictEqual({
      upstreamDay: '2026-11-20',
      localDay: '2026-11-21',
      upstreamIssuedAt: '2026-11-20T01:00:00Z',
      localIssuedAt: '2026-11-20T01:00:00Z',
    });
    const partitionOnly = classify([d('K', [inv('K', { partition: 'p1' })], [inv('K')])], {
      now: NOW,
      syncLagSeconds: 0,
    });
    expect(partitionOnly.map((f) => [f.kind, f.evidence.upstreamPartition, f.evidence.localPartition])).toEqual([
      ['date_mismatch', 'p1', undefined],
    ]);
    expect(classify([d('K', [inv('K', { partition: '' })], [inv('K')])], { now: NOW, syncLagSeconds: 0 })).toEqual([]);
  });

  it('duplicates on each side, compared through the row most like the other side', () => {
    const u1 = inv('D', { origin: 'up.csv:1' });
    const u2 = inv('D', { origin: 'up.csv:2' });
    const l1 = inv('D', { totalFen: 1, issuedAt: '2026-11-20T02:00:00Z' });
    const l2 = inv('D');
    const findings = classify([d('D', [u1, u2], [l1, l2])], { now: NOW, syncLagSeconds: 0 });
    expect(findings).toEqual([
      {
        kind: 'duplicate',
        key: 'D',
        side: 'upstream',
        day: '2026-11-20',
        upstream: V('D', { origin: 'up.csv:1', rows: 2 }),
        evidence: { side: 'upstream', rows: 2, where: ['up.csv:1', 'up.csv:2'] },
      },
      {
        kind: 'duplicate',
        key: 'D',
        side: 'local',
        day: '2026-11-20',
        local: V('D', { totalFen: 1, issuedAt: '2026-11-20T02:00:00Z', rows: 2 }),
        evidence: {
          side: 'local',
          rows: 2,
          where: ['2026-11-20 2026-11-20T02:00:00Z', '2026-11-20 2026-11-20T01:00:00Z'],
        },
      },
    ]);
  });

  it('the closest row: same total, status and day first, then same total, then the first', () => {
    const u = inv('C', { totalFen: 500, status: 'issued', day: '2026-11-20' });
    const byTotal = inv('C', { totalFen: 500, status: 'red_flushed', day: '2026-11-20' });
    const other = inv('C', { totalFen: 900 });
    // local rows: [other, byTotal] → the pair is u/byTotal: a status mismatch, no amount mismatch
    const kinds = classify([d('C', [u], [other, byTotal])], { now: NOW, syncLagSeconds: 0 }).map((f) => f.kind);
    expect(kinds).toEqual(['status_mismatch', 'duplicate']);
    const exact = inv('C', { totalFen: 500, status: 'issued', day: '2026-11-20' });
    expect(classify([d('C', [u], [byTotal, exact])], { now: NOW, syncLagSeconds: 0 }).map((f) => f.kind)).toEqual([
      'duplicate',
    ]);
    expect(
      classify([d('C', [u], [other, inv('C', { totalFen: 901 })])], { now: NOW, syncLagSeconds: 0 }).map((f) => [
        f.kind,
        f.local?.totalFen,
      ]),
    ).toEqual([
      ['amount_mismatch', 900],
      ['duplicate', 900],
    ]);
  });

  it('pairs a missing and an extra one edit apart with the same day and total as probable typos, each at most once', () => {
    const m = inv('12345', { issuedAt: '2026-11-20T11:00:00Z' }); // within the lag: the typo wins over pending_sync
    const e1 = inv('12354');
    const e2 = inv('12346');
    const findings = classify([d('12345', [m], []), d('12354', [], [e1]), d('12346', [], [e2])], {
      now: NOW,
      syncLagSeconds: 7200,
    });
    expect(findings).toEqual([
      {
        kind: 'missing',
        key: '12345',
        day: '2026-11-20',
        upstream: V('12345', { issuedAt: '2026-11-20T11:00:00Z' }),
        cause: 'probable_typo',
        evidence: {
          reason: "the local table has '12354', one typing error away, with the same amount and day",
          pairedWith: '12354',
        },
      },
      {
        kind: 'extra',
        key: '12346',
        day: '2026-11-20',
        local: V('12346'),
        evidence: { reason: 'the local table has the invoice, upstream does not' },
      },
      {
        kind: 'extra',
        key: '12354',
        day: '2026-11-20',
        local: V('12354'),
        cause: 'probable_typo',
        evidence: {
          reason: "upstream has '12345', one typing error away, with the same amount and day",
          pairedWith: '12345',
        },
      },
    ]);
  });

  it('no typo pairing across days or totals, nor with an extra already paired', () => {
    const kindsAndCauses = (diffs: KeyDiff[]) =>
      classify(diffs, { now: NOW, syncLagSeconds: 0 }).map((f) => `${f.kind}:${f.key}:${f.cause ?? '-'}`);
    expect(
      kindsAndCauses([d('12345', [inv('12345')], []), d('12354', [], [inv('12354', { day: '2026-11-19' })])]),
    ).toEqual(['missing:12345:-', 'extra:12354:-']);
    expect(kindsAndCauses([d('12345', [inv('12345')], []), d('12354', [], [inv('12354', { totalFen: 1 })])])).toEqual([
      'missing:12345:-',
      'extra:12354:-',
    ]);
    expect(
      kindsAndCauses([d('12345', [inv('12345')], []), d('12355', [inv('12355')], []), d('12354', [], [inv('12354')])]),
    ).toEqual(['missing:12345:probable_typo', 'missing:12355:-', 'extra:12354:probable_typo']);
  });
});

describe('classify with detail fields and duplicated export lines', () => {
  const ctx = (fields?: Array<'amount' | 'tax' | 'sellerTaxId' | 'issueTime'>) => ({
    now: NOW,
    syncLagSeconds: 0,
    ...(fields ? { fields } : {}),
  });

  it('compares the detail fields the context names, and none without them', () => {
    const u = inv('K', { amountFen: 10_000, taxFen: 1_300 });
    const l = inv('K', { amountFen: 10_100, taxFen: 1_200 });
    expect(classify([d('K', [u], [l])], ctx())).toEqual([]);
    expect(classify([d('K', [u], [l])], ctx(['amount']))).toEqual([
      {
        kind: 'tax_mismatch',
        key: 'K',
        day: '2026-11-20',
        upstream: V('K', { amountFen: 10_000, taxFen: 1_300 }),
        local: V('K', { amountFen: 10_100, taxFen: 1_200 }),
        evidence: {
          fields: ['amount'],
          upstreamAmountFen: 10_000,
          localAmountFen: 10_100,
          upstreamFen: 11_300,
          localFen: 11_300,
          differenceFen: 0,
          totalsAgree: true,
        },
      },
    ]);
  });

  it('another partition on the same day with another tax ID is the party mismatch alone; with another difference it is also a date mismatch', () => {
    const u = inv('K', { partition: '91310000MA1FL0001X', sellerTaxId: '91310000MA1FL0001X' });
    const l = inv('K', { partition: '91310000MA1FL0002Y', sellerTaxId: '91310000MA1FL0002Y' });
    expect(classify([d('K', [u], [l])], ctx(['sellerTaxId'])).map((f) => f.kind)).toEqual(['party_mismatch']);
    const later = inv('K', { partition: '91310000MA1FL0002Y', issuedAt: '2026-11-20T01:00:30Z' });
    expect(classify([d('K', [u], [later])], ctx(['issueTime'])).map((f) => f.kind)).toEqual([
      'date_mismatch',
      'time_mismatch',
    ]);
  });

  // 30 000 fen in the export, of which one line of 10 000 (8 850 + 1 150) is repeated cell for cell
  const lines = [
    {
      origins: ['exports/a.xlsx:17', 'exports/a.xlsx:18'] as [string, string],
      totalFen: 10_000,
      amountFen: 8_850,
      taxFen: 1_150,
    },
  ];
  const up = inv('K', { totalFen: 30_000, amountFen: 26_549, taxFen: 3_451, duplicateLines: lines });
  const upView = V('K', { totalFen: 30_000, amountFen: 26_549, taxFen: 3_451 });

  it('a repeated export line the local side counts once: only the duplicate_line finding, the rest compared counted once', () => {
    const l = inv('K', { totalFen: 20_000, amountFen: 17_699, taxFen: 2_301 });
    expect(classify([d('K', [up], [l])], ctx(['amount', 'tax']))).toEqual([
      {
        kind: 'duplicate_line',
        key: 'K',
        side: 'upstream',
        day: '2026-11-20',
        upstream: upView,
        local: V('K', { totalFen: 20_000, amountFen: 17_699, taxFen: 2_301 }),
        evidence: {
          reason: 'the export repeats a line of this invoice cell for cell; counted once the total is 20000 fen',
          origins: [['exports/a.xlsx:17', 'exports/a.xlsx:18']],
          upstreamFen: 30_000,
          upstreamOnceFen: 20_000,
          localFen: 20_000,
        },
      },
    ]);
  });

  it('counted once, a different split is still a tax mismatch against the once-counted amounts', () => {
    const l = inv('K', { totalFen: 20_000, amountFen: 17_700, taxFen: 2_300 });
    const findings = classify([d('K', [up], [l])], ctx(['amount', 'tax']));
    expect(findings.map((f) => f.kind)).toEqual(['tax_mismatch', 'duplicate_line']);
    expect(findings[0]!.evidence).toEqual({
      fields: ['amount', 'tax'],
      upstreamAmountFen: 17_699,
      localAmountFen: 17_700,
      upstreamTaxFen: 2_301,
      localTaxFen: 2_300,
      upstreamFen: 20_000,
      localFen: 20_000,
      differenceFen: 0,
      totalsAgree: true,
    });
  });

  it('a local side that has the repeated total too: no finding at all', () => {
    const l = inv('K', { totalFen: 30_000, amountFen: 26_549, taxFen: 3_451 });
    expect(classify([d('K', [up], [l])], ctx(['amount', 'tax']))).toEqual([]);
  });

  it('without 金额 and 税额 on the rows, counting once changes the total only', () => {
    const bare = inv('K', {
      totalFen: 30_000,
      duplicateLines: [{ origins: ['a.csv:2', 'a.csv:3'], totalFen: 10_000 }],
    });
    const l = inv('K', { totalFen: 20_000 });
    expect(classify([d('K', [bare], [l])], ctx(['amount', 'tax'])).map((f) => f.kind)).toEqual(['duplicate_line']);
  });

  it('repeated lines of an invoice missing locally: the missing finding and the duplicate lines, counted', () => {
    const two = inv('K', {
      totalFen: 30_000,
      duplicateLines: [
        { origins: ['a.csv:2', 'a.csv:3'], totalFen: 10_000 },
        { origins: ['a.csv:4', 'a.csv:5'], totalFen: 5_000, amountFen: 4_425 },
      ],
    });
    expect(classify([d('K', [two], [])], ctx())).toEqual([
      {
        kind: 'missing',
        key: 'K',
        day: '2026-11-20',
        upstream: V('K', { totalFen: 30_000 }),
        evidence: { reason: 'upstream has the invoice, the local table does not' },
      },
      {
        kind: 'duplicate_line',
        key: 'K',
        side: 'upstream',
        day: '2026-11-20',
        upstream: V('K', { totalFen: 30_000 }),
        evidence: {
          reason: 'the export repeats 2 lines of this invoice cell for cell; counted once the total is 15000 fen',
          origins: [
            ['a.csv:2', 'a.csv:3'],
            ['a.csv:4', 'a.csv:5'],
          ],
          upstreamFen: 30_000,
          upstreamOnceFen: 15_000,
        },
      },
    ]);
  });
});

describe('sortFindings', () => {
  it('orders by kind, then day, then key', () => {
    const f = (kind: Finding['kind'], key: string, day?: string): Finding => ({
      kind,
      key,
      ...(day ? { day } : {}),
      evidence: {},
    });
    const sorted = sortFindings([
      f('invalid_input', 'a'),
      f('duplicate', 'a', '2026-11-01'),
      f('date_mismatch', 'a', '2026-11-01'),
      f('status_mismatch', 'a', '2026-11-01'),
      f('amount_mismatch', 'a', '2026-11-01'),
      f('extra', 'a', '2026-11-01'),
      f('missing', 'b', '2026-11-02'),
      f('missing', 'c', '2026-11-01'),
      f('missing', 'a', '2026-11-02'),
      f('missing', 'z'),
    ]);
    expect(sorted.map((x) => `${x.kind} ${x.day ?? '-'} ${x.key}`)).toEqual([
      'missing - z',
      'missing 2026-11-01 c',
      'missing 2026-11-02 a',
      'missing 2026-11-02 b',
      'extra 2026-11-01 a',
      'amount_mismatch 2026-11-01 a',
      'status_mismatch 2026-11-01 a',
      'date_mismatch 2026-11-01 a',
      'duplicate 2026-11-01 a',
      'invalid_input - a',
    ]);
  });
});

describe('failing', () => {
  it('keeps failOn kinds, except pending_sync and invalid_input warnings', () => {
    const all: Finding[] = [
      { kind: 'missing', key: 'm1', evidence: {} },
      { kind: 'missing', key: 'm2', cause: 'pending_sync', evidence: {} },
      { kind: 'missing', key: 'm3', cause: 'probable_typo', evidence: {} },
      { kind: 'extra', key: 'e1', evidence: {} },
      { kind: 'invalid_input', key: 'i1', evidence: { severity: 'error' } },
      { kind: 'invalid_input', key: 'i2', evidence: { severity: 'warning' } },
      { kind: 'duplicate', key: 'd1', cause: 'pending_sync', evidence: {} },
    ];
    expect(failing(all, ['missing', 'invalid_input']).map((f) => f.key)).toEqual(['m1', 'm3', 'i1']);
    expect(failing(all, ['extra', 'duplicate']).map((f) => f.key)).toEqual(['e1']);
    expect(failing(all, []).map((f) => f.key)).toEqual([]);
  });
});
