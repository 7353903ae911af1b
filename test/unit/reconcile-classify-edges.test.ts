// Edges of the classification (src/reconcile/engine/classify.ts) that the main examples in
// reconcile-classify.test.ts do not reach, with every expectation written out: the closest row's day,
// an extra's evidence without a rejected upstream row, a finding without a day in the sort, and which
// warnings do not fail a run.
import { describe, expect, it } from 'vitest';
import { classify, failing, sortFindings } from '../../src/reconcile/engine/classify.js';
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

describe('classify edges', () => {
  it('the closest row has the same day too: same total and status on another day comes after it', () => {
    const u = inv('C', { totalFen: 500 });
    const otherDay = inv('C', { totalFen: 500, day: '2026-11-21' });
    const exact = inv('C', { totalFen: 500 });
    expect(classify([d('C', [u], [otherDay, exact])], { now: NOW, syncLagSeconds: 0 }).map((f) => f.kind)).toEqual([
      'duplicate',
    ]);
  });

  it('an extra whose upstream row was not rejected has the reason only in its evidence', () => {
    const [extra] = classify([d('X2', [], [inv('X2')])], {
      now: NOW,
      syncLagSeconds: 0,
      invalidUpstreamKeys: new Map([['X1', 'exports/a.csv:7: total is not a number']]),
    });
    expect(extra!.evidence).toStrictEqual({ reason: 'the local table has the invoice, upstream does not' });
  });
});

describe('sortFindings edges', () => {
  it('a finding without a day comes before the dated ones of its kind, whichever comes first', () => {
    const dated: Finding = { kind: 'missing', key: 'a', day: '2026-11-01', evidence: {} };
    const dayless: Finding = { kind: 'missing', key: 'z', evidence: {} };
    expect(sortFindings([dated, dayless]).map((f) => f.key)).toEqual(['z', 'a']);
    expect(sortFindings([dayless, dated]).map((f) => f.key)).toEqual(['z', 'a']);
  });
});

describe('failing edges', () => {
  it('a warning severity exempts invalid_input only', () => {
    const warned: Finding = { kind: 'missing', key: 'm4', evidence: { severity: 'warning' } };
    expect(failing([warned], ['missing']).map((f) => f.key)).toEqual(['m4']);
  });
});
