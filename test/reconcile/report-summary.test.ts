// The complaints of issue 12 about reports, each reproduced on a report shaped like the demo's:
// counts that did not add up (8 "need attention" next to 10 by kind; a duplicated row counted as two
// invoices; rejected rows unexplained), fen and camelCase evidence, UTC times in the CSV; then the
// zh-CN and en renderings that fix them, with per-day and per-seller summaries.
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/reconcile/report/report-html.js';
import { renderCsv } from '../../src/reconcile/report/report-render.js';
import { renderReconcileText } from '../../src/reconcile/report/report-terminal.js';
import { yuan } from '../../src/reconcile/report/report-text.js';
import { markNotLookedUp, shownCause } from '../../src/reconcile/engine/backup-lookup.js';
import { FINDINGS, SELLER_A, SELLER_B, demoLike } from './report-fixture.js';

describe('a summary whose numbers add up', () => {
  it('reproduces: "8 need attention" beside kinds summing to 10; now every finding has one role and the roles add up', () => {
    const r = demoLike('en');
    const byKind = Object.values(r.summary.findings).reduce((a, b) => a + b, 0);
    expect(byKind).toBe(10); // what the old headline put next to "8 finding(s) need attention"
    expect(r.summary.failing).toBe(8);
    expect(r.summary.roles).toEqual({ failing: 8, acknowledged: 0, pending_sync: 1, not_in_fail_on: 1 });
    expect(Object.values(r.summary.roles!).reduce((a, b) => a + b, 0)).toBe(r.findings.length);
    expect(r.summary.failingByKind).toEqual({ missing: 3, extra: 3, amount_mismatch: 1, duplicate: 1 });
    const html = renderHtml(r);
    expect(html).toContain('10 finding(s) in all = 8 failing + 2 informational.');
    expect(html).toMatch(
      /<tr class="total"><th>total<\/th><td class="num">10<\/td><td class="num">8<\/td><td class="num">2<\/td><\/tr>/,
    );
    expect(html).toContain('<li>pending sync: 1</li>');
    expect(html).toMatch(/<li>kinds not in failOn: 1 <small>\(failOn: missing, extra/);
    const text = renderReconcileText(r, { html: 'r.html', csv: 'r.csv', json: 'r.json' });
    expect(text).toContain('10 finding(s) in all = 8 failing + 2 informational.');
    expect(text).toContain(
      '  failing: missing locally (upstream only) 3, extra locally (not upstream) 3, total differs 1, duplicate key 1',
    );
    expect(text).toContain('  informational: pending sync 1, kinds not in failOn 1 (failOn: missing, extra');
  });

  it('reproduces: "upstream 2894 invoices" counted a duplicated row twice and left the rejected row unexplained', () => {
    const r = demoLike('en');
    expect(r.summary.upstream.count).toBe(2894); // rows, not invoices
    expect(r.summary.rows?.upstream).toEqual({
      read: 2895,
      rejected: 1,
      accepted: 2894,
      duplicateRows: 1,
      distinct: 2893,
    });
    const sentence =
      'upstream: 2895 rows read = 2894 accepted + 1 rejected; accepted = 2893 distinct invoices + 1 duplicate rows.';
    expect(renderHtml(r)).toContain(sentence);
    expect(renderCsv(r)).toContain(`# ${sentence}\r\n`);
    expect(renderCsv(r)).toContain('# total (yuan): upstream 289,400.00; local 289,200.00; failing 8\r\n'); // no "2894 invoices"
    expect(renderReconcileText(r, { html: 'r.html', csv: 'r.csv', json: 'r.json' })).toContain(sentence);
    // the export's own row count (what the demo prints) is rows read: accepted + rejected
    const zh = renderHtml(demoLike('zh-CN'));
    expect(zh).toContain('上游读取 2895 行 = 2894 行有效 + 1 行被拒；有效行 = 2893 张不同发票 + 1 行重复。');
  });

  it('per day and per seller (销方): the differing days and the sellers with findings, in yuan', () => {
    const r = demoLike('zh-CN');
    expect(r.summary.sellers?.map((s) => [s.sellerTaxId, s.findings, s.failing])).toEqual([
      [SELLER_A, 6, 5], // missing 2 (+1 pending), extra 1, amount 1, duplicate 1
      [SELLER_B, 3, 3],
    ]);
    const html = renderHtml(r);
    expect(html).toContain('<h2 id="per-seller">按销方（有差异的销方）</h2>');
    expect(html).toMatch(
      new RegExp(
        `<td class="key">${SELLER_B}</td><td class="num">3</td><td class="num">3</td><td>本地缺失（仅上游有） 1<br>本地多出（上游没有） 2</td><td class="num">50.00</td><td class="num">9.00</td>`,
      ),
    );
    expect(html).toMatch(
      /<tr class="differs"><td class="day">2026-11-03<\/td><td class="num">1000<\/td><td class="num">100,000.00<\/td><td class="num">999<\/td><td class="num">99,900.00<\/td><td>不一致<\/td><td class="num">3<\/td><\/tr>/,
    );
  });
});

describe('reports auditors can read', () => {
  it('reproduces: evidence in fen under camelCase keys; now in yuan under names, in zh-CN', () => {
    const html = renderHtml(demoLike('zh-CN'));
    expect(html).toContain('<li><b>差额 本地−上游（元）</b>: -100.00</li>');
    expect(html).toContain('<li><b>上游金额（元）</b>: 1,234,567.89</li>');
    expect(html).not.toMatch(/differenceFen|upstreamFen|-10000\b/);
    expect(html).toContain('<html lang="zh-CN">');
    for (const label of [
      '发票对账报告',
      '本地缺失（仅上游有）',
      '待同步',
      '价税合计不一致',
      '发票号码重复',
      '上游数据行无效',
      '正常',
    ])
      expect(html).toContain(label);
    const csv = renderCsv(demoLike('zh-CN'));
    expect(csv).toContain('差额 本地−上游（元）=-100.00');
    expect(csv).not.toContain('differenceFen');
  });

  it('reproduces: the CSV gave times in UTC (2026-11-20T02:15:00.000Z); now in the zone with its offset', () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const csv = renderCsv(demoLike(lang));
      expect(csv).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(csv).toContain(',2026-11-20 10:15:00 +08:00,2026-11-20 10:15:00 +08:00,');
      expect(csv).toContain('now=2026-11-28 09:00:00 +08:00');
    }
    const html = renderHtml(demoLike('zh-CN'));
    expect(html).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    // instants inside evidence text too (a duplicate without file lines is placed by day and time)
    const findings = structuredClone(FINDINGS);
    findings.find((f) => f.kind === 'duplicate')!.evidence.where = [
      '2026-11-06 2026-11-06T02:15:00.000Z',
      '2026-11-06 2026-11-06T03:00:00Z',
    ];
    expect(renderHtml(demoLike('en', findings))).toContain(
      '<li><b>where</b>: 2026-11-06 2026-11-06 10:15:00 +08:00, 2026-11-06 2026-11-06 11:00:00 +08:00</li>',
    );
  });

  it('CSV header, kinds, causes and statuses in the language, ids kept in the last two columns', () => {
    const zh = renderCsv(demoLike('zh-CN')).split('\r\n');
    const header = zh.find((l) => l.startsWith('类型,'))!;
    expect(header).toBe(
      '类型,原因,发票号码,开票日,上游价税合计（元）,本地价税合计（元）,上游状态,本地状态,上游开票时间,本地开票时间,销方识别号,来源,首次发现,证据,差异编号,确认状态,确认人,确认时间,确认理由,kind_id,cause_id',
    );
    expect(zh.find((l) => l.includes('26312000000000000004'))).toMatch(
      /^本地缺失（仅上游有）,待同步,.*,10.00,,正常,,.*,missing,pending_sync$/,
    );
    const en = renderCsv(demoLike('en')).split('\r\n');
    expect(en.find((l) => l.startsWith('kind,'))).toBe(
      'kind,cause,invoice key,day,upstream total (yuan),local total (yuan),upstream status,local status,upstream issued at,local issued at,seller tax ID,origin,first seen,evidence,finding id,ack state,ack by,ack at,ack reason,kind_id,cause_id',
    );
  });

  it('yuan: two decimals, thousands separated, negative and bigint sums', () => {
    expect(yuan(0)).toBe('0.00');
    expect(yuan(-5)).toBe('-0.05');
    expect(yuan(123456789)).toBe('1,234,567.89');
    expect(yuan('900719925474099312')).toBe('9,007,199,254,740,993.12');
  });
});

describe('what was not checked', () => {
  const files = { html: 'r.html', csv: 'r.csv', json: 'r.json' };
  const skipped = {
    limit: 7,
    searched: [],
    found: 0,
    skippedCode: 'not_a_target' as const,
    skipped: 'reconcile.local is not the table of a configured target, so no backup holds its keys',
  };

  it('a skipped lookup: missing invoices read "not looked up" (未查备份) with the reason, in every rendering', () => {
    const findings = structuredClone(FINDINGS);
    expect(markNotLookedUp(findings, skipped)).toBe(3); // the pending_sync one keeps its cause
    expect(findings.filter((f) => f.kind === 'missing').map((f) => shownCause(f))).toEqual([
      'not_looked_up',
      'not_looked_up',
      'not_looked_up',
      'pending_sync',
    ]);
    expect(findings.filter((f) => f.kind === 'missing').map((f) => f.cause)).toEqual([
      undefined,
      undefined,
      undefined,
      'pending_sync',
    ]); // the JSON's cause is unchanged
    const zh = demoLike('zh-CN', findings);
    zh.run.parameters.backupLookup = skipped;
    const html = renderHtml(zh);
    const why = '本地一侧不是某个已配置备份目标的表（例如以 query 给出），备份中没有它的发票号码索引';
    expect(html).toContain(
      `<p class="warn"><b>备份查找:</b> 未在备份中查找缺失发票：${why}（reconcile.local is not the table`,
    );
    expect(html).toContain('缺失发票的原因标为“未查备份”，不表示它们从未到达本地。');
    expect(html.match(/<i class="cause c-not_looked_up">未查备份<\/i>/g)).toHaveLength(3);
    expect(html).toContain(`<li><b>未查备份原因</b>: ${why}（reconcile.local`);
    const csv = renderCsv(zh);
    expect(csv).toContain(`# 备份查找: 未在备份中查找缺失发票：${why}`);
    expect(
      csv.split('\r\n').filter((l) => /^本地缺失（仅上游有）,未查备份,.*,missing,not_looked_up$/.test(l)),
    ).toHaveLength(3);
    expect(renderReconcileText(zh, files)).toContain(`备份查找: 未在备份中查找缺失发票：${why}`);

    const en = demoLike('en', findings);
    en.run.parameters.backupLookup = skipped;
    expect(renderHtml(en)).toContain(
      'Missing invoices were not looked up in the backups: reconcile.local is not the table of a configured target, so no backup holds its keys. Their cause reads &quot;not looked up&quot;; it does not mean they never arrived.',
    );
    expect(renderReconcileText(en, files)).toMatch(
      /missing locally \(upstream only\) +not looked up +26312000000000000001 /,
    );
  });

  it('a partial lookup (a backup unreadable): the missing invoices not found read "not looked up", naming the backup', () => {
    const findings = structuredClone(FINDINGS);
    const partial = {
      limit: 7,
      target: 'invoices',
      searched: ['20261127T010000Z-aaaa', '20261126T010000Z-bbbb'],
      found: 0,
      problems: ['20261127T010000Z-aaaa: checksum mismatch'],
    };
    expect(markNotLookedUp(findings, partial)).toBe(3);
    expect(findings[0]!.evidence.notLookedUp).toBe(
      'backups that could not be read: 20261127T010000Z-aaaa: checksum mismatch',
    );
    const zh = demoLike('zh-CN', findings);
    zh.run.parameters.backupLookup = partial;
    const html = renderHtml(zh);
    expect(html).toContain(
      '备份查找不完整，以下备份无法读取：20261127T010000Z-aaaa: checksum mismatch。未找到的缺失发票标为“未查备份”。',
    );
    expect(html).toContain('<li><b>未查备份原因</b>: 以下备份无法读取：20261127T010000Z-aaaa: checksum mismatch</li>');
  });

  it('a lookup that ran in full changes nothing; one with nothing to look up is not a warning', () => {
    const findings = structuredClone(FINDINGS);
    expect(
      markNotLookedUp(findings, { limit: 7, target: 'invoices', searched: ['20261127T010000Z-aaaa'], found: 0 }),
    ).toBe(0);
    expect(findings.filter((f) => shownCause(f) === 'not_looked_up')).toEqual([]);
    const r = demoLike('en', findings);
    r.run.parameters.backupLookup = {
      limit: 7,
      searched: [],
      found: 0,
      skippedCode: 'nothing_to_look_up',
      skipped: 'no missing invoices to look up',
    };
    expect(renderHtml(r)).not.toContain('class="warn"');
  });
});
