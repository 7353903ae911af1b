// Reports are safe and self-checking: hostile values are escaped in HTML, neutralised in CSV,
// keys keep every digit for Excel, and each rendering carries a sha256 that detects any edit.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';
import { type ReconcileReport, buildReport, groupWarnings } from '../../src/reconcile/report/report.js';
import { renderHtml } from '../../src/reconcile/report/report-html.js';
import { excelText, renderCsv, renderJson, verifyReport } from '../../src/reconcile/report/report-render.js';
import type { Finding } from '../../src/reconcile/model/types.js';

const hostile: Finding = {
  kind: 'extra',
  key: '031001900111-00012345',
  day: '2026-11-03',
  local: {
    key: '031001900111-00012345',
    issuedAt: '2026-11-03T01:00:00Z',
    day: '2026-11-03',
    totalFen: 11300,
    status: 'valid',
    origin: '<img src=x onerror=alert(1)>',
  },
  evidence: { reason: '=HYPERLINK("http://evil")', note: '</td><script>alert(1)</script>' },
};

function report(findings: Finding[]): ReconcileReport {
  const bucket = { day: '2026-11-03' };
  return buildReport({
    run: {
      id: '20261128T010000Z-abcd',
      scope: 's',
      startedAt: '2026-11-28T01:00:00Z',
      finishedAt: '2026-11-28T01:00:01Z',
      window: { from: '2026-11-01', to: '2026-11-07', timezone: 'Asia/Shanghai' },
      upstream: { kind: 'file', location: './x/"<b>.xlsx' },
      local: { kind: 'postgres', location: 'postgres://u:***@h/db public.invoices' },
      parameters: { syncLagSeconds: 7200, failOn: ['extra'], listLimit: 2000, now: '2026-11-28T01:00:00Z' },
      toolVersion: '0.1.0',
    },
    days: [
      {
        bucket,
        upstream: { bucket, count: 1, sumFen: 11300n, hash: 1n },
        local: { bucket, count: 2, sumFen: 22600n, hash: 2n },
        equal: false,
      },
    ],
    findings,
    failing: findings.length,
    warnings: [
      {
        severity: 'warning',
        origin: 'a.csv:2',
        reason: "buyer tax ID '913100000000000001' fails the GB 32100 check character (expected 'X')",
      },
      {
        severity: 'warning',
        origin: 'a.csv:3',
        reason: "buyer tax ID '913100000000000002' fails the GB 32100 check character (expected 'Y')",
      },
    ],
    rejectedRows: 0,
    stats: {
      buckets: 1,
      differingBuckets: 1,
      listedBuckets: 1,
      rowsListed: { upstream: 1, local: 2 },
      splitQueries: 0,
      lookedUpKeys: 1,
    },
  });
}

describe('reports', () => {
  it('HTML escapes everything and has no scripts or external assets', () => {
    const html = renderHtml(report([hostile]));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('./x/&quot;&lt;b&gt;.xlsx');
    expect(html).not.toMatch(/<link|<img|<iframe|@import|url\(/);
    expect(html.indexOf('<h2 id="summary">Summary</h2>')).toBeGreaterThan(0);
    expect(html.indexOf('<h2 id="summary">Summary</h2>')).toBeLessThan(html.indexOf('<h2 id="per-day">Per day</h2>'));
    expect(html.indexOf('<h2 id="per-day">Per day</h2>')).toBeLessThan(html.indexOf('<h2 id="findings">Findings'));
    expect(verifyReport(html)).toBe(true);
  });

  it('CSV: BOM, keys as Excel text, formulas neutralised, parameters on top, sealed at the end', () => {
    const csv = renderCsv(report([hostile]));
    expect(csv.startsWith('\ufeff# fapiao-guard reconcile run 20261128T010000Z-abcd\r\n')).toBe(true);
    expect(csv).toContain('# parameters syncLag=7200s failOn=extra listLimit=2000');
    expect(csv).toContain('"=""031001900111-00012345"""');
    expect(csv).toContain(',<img src=x onerror=alert(1)>,'); // text, not HTML: left as written
    expect(csv).toMatch(/,"?'?reason=/); // evidence column starts with reason=…, never with '='
    expect(excelText('=1+1')).toBe("'=1+1");
    expect(excelText('26312000000000012345')).toBe('="26312000000000012345"');
    expect(verifyReport(csv)).toBe(true);
    expect(verifyReport(csv.replace('113.00', '113.01'))).toBe(false);
  });

  it('JSON carries the documented shape and a sha256 of itself', () => {
    const json = renderJson(report([hostile]));
    const parsed = JSON.parse(json);
    expect(parsed.run).toMatchObject({ id: '20261128T010000Z-abcd', window: { from: '2026-11-01', to: '2026-11-07' } });
    expect(parsed.summary).toMatchObject({
      ok: false,
      upstream: { count: 1, totalFen: '11300', total: '113.00' },
      local: { count: 2, total: '226.00' },
      findings: { extra: 1, missing: 0 },
    });
    expect(parsed.findings[0]).toMatchObject({
      kind: 'extra',
      key: hostile.key,
      local: { totalFen: 11300 },
      evidence: hostile.evidence,
    });
    expect(verifyReport(json)).toBe(true);
    expect(verifyReport(json.replace('"extra": 1', '"extra": 0'))).toBe(false);
  });

  it('groups thousands of identical warnings into one line with examples', () => {
    expect(groupWarnings([])).toEqual([]);
    const r = report([]);
    expect(r.warnings).toEqual([
      {
        reason: "buyer tax ID '…' fails the GB 32100 check character (expected '…')",
        count: 2,
        examples: expect.any(Array),
      },
    ]);
  });
});

describe('reconcile configuration', () => {
  const base = {
    repository: { url: 'file:///tmp/r' },
    encryption: { recipients: [generateIdentity().recipient] },
    targets: [{ name: 'invoices', url: 'postgres://h/db' }],
  };
  it('defaults fit the sample table; absent section stays absent', () => {
    expect(parseConfig(JSON.stringify(base), {}).reconcile).toBeUndefined();
    const rc = parseConfig(
      JSON.stringify({ ...base, reconcile: { upstream: { type: 'file', path: './exports/*.xlsx' } } }),
      {},
    ).reconcile!;
    expect(rc).toMatchObject({
      window: { days: 35 },
      syncLagSeconds: 7200,
      listLimit: 2000,
      failOn: [
        'missing',
        'extra',
        'amount_mismatch',
        'tax_mismatch',
        'party_mismatch',
        'status_mismatch',
        'date_mismatch',
        'duplicate',
        'duplicate_line',
        'red_letter_unpaired',
      ],
    });
    expect(rc.local).toMatchObject({
      table: 'public.invoices',
      columns: { code: 'invoice_code', number: 'invoice_number', issuedAt: 'issued_at', total: 'total_amount' },
    });
    expect(rc.upstream).toMatchObject({ type: 'file', encoding: 'auto', sheet: '信息汇总表', lineItems: 'auto' });
  });
  it('reports every problem with its path', () => {
    const doc = {
      ...base,
      reconcile: {
        window: { from: '2026-11-31', to: '2026-11-01' },
        partition: 'seller',
        local: { columns: { total: 'a.b' }, statusMap: { '0': 'ok' } },
        upstream: { type: 'http' },
      },
    };
    expect(() => parseConfig(JSON.stringify(doc), {})).toThrow(
      /reconcile\.window\.from: '2026-11-31' is not a date like 2026-11-01.*reconcile\.partition: must be one of sellerTaxId, buyerTaxId.*reconcile\.local\.columns\.total: 'a\.b' is not one column name.*reconcile\.local\.columns\.number: required.*reconcile\.local\.statusMap\.0: 'ok' is not a status.*reconcile\.upstream\.url: required/,
    );
  });
});
