// The pure parts of drills, without a database: config, picks, names and markers, leftover
// rules, assertion comparison, verdict and cause, and the HTML report's escaping.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { assertionHolds, displayValue } from '../../src/drill/drill-checks.js';
import { parsePick, readDrillConfig } from '../../src/drill/drill-config.js';
import { escapeHtml, renderDrillHtml, trendSvg } from '../../src/drill/drill-html.js';
import { type DrillReport, causeOf, objectiveChecks, verdictOf } from '../../src/drill/drill-report.js';
import { isOurs, leftoversOf, parseMarker, scratchDatabaseName } from '../../src/drill/scratch-db.js';
import { Issues, Reader } from '../../src/core/config/reader.js';

const BASE = `repository: {url: 'file:///tmp/r'}
encryption: {recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]}
targets: [{name: invoices, url: 'postgres://h/db'}]
`;

describe('drill configuration', () => {
  it('defaults when the section is absent', () => {
    const config = parseConfig(BASE, {});
    expect(config.drill).toEqual({
      pick: { kind: 'latest' },
      rtoObjective: 900,
      rpoObjective: 93600,
      keep: false,
      keepOnFailure: false,
      assertions: [],
      amcheck: false,
      reportDir: './fapiao-guard-reports',
      leftoverAfter: 43200,
    });
  });

  it('reads the README example', () => {
    const config = parseConfig(
      `${BASE}drill:
  scratchUrl: postgres://postgres@127.0.0.1:5432/postgres
  pick: random:7
  rtoObjective: 15m
  rpoObjective: 26h
  keep: false
  jobs: 2
  assertions:
    - name: totals add up
      sql: select count(*) from public.invoices where total_amount <> amount + tax_amount
      expect: 0
    - name: recent invoices present
      sql: select max(issued_at) > now() - interval '2 days' from public.invoices
      expect: true
  amcheck: true
`,
      {},
    );
    expect(config.drill).toMatchObject({
      scratchUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      pick: { kind: 'random', among: 7 },
      rtoObjective: 900,
      rpoObjective: 93600,
      jobs: 2,
      amcheck: true,
    });
    expect(config.drill!.assertions.map((a) => a.expect)).toEqual([0, true]);
  });

  it('reports every problem with its path', () => {
    const issues = new Issues();
    readDrillConfig(
      new Reader(
        {
          scratchUrl: 'mysql://x',
          pick: 'random:0',
          keep: 'maybe',
          leftoverAfter: '1m',
          assertions: [
            { name: 'a', sql: 's', expect: 1 },
            { name: 'a', sql: 's', expect: [1] },
          ],
        },
        'drill',
        issues,
      ),
    );
    expect(issues.list).toEqual([
      'drill.scratchUrl: must be a postgres:// URL (an admin database on the scratch server, e.g. …/postgres)',
      "drill.pick: 'random:0' is not latest, random, random:N or a backup id",
      'drill.assertions[1].expect: must be a number, true/false, a string or null',
      "drill.assertions[1].name: duplicate assertion name 'a'",
      'drill.leftoverAfter: must be at least 10m (longer than any drill takes)',
      'drill.keep: must be true or false',
    ]);
  });

  it('parses picks', () => {
    expect(parsePick('latest')).toEqual({ kind: 'latest' });
    expect(parsePick('random')).toEqual({ kind: 'random', among: 7 });
    expect(parsePick('random:30')).toEqual({ kind: 'random', among: 30 });
    expect(parsePick('20261128T020000Z-7f3a')).toEqual({ kind: 'id', id: '20261128T020000Z-7f3a' });
    expect(parsePick('20261128T02')).toEqual({ kind: 'id', id: '20261128T02' });
    for (const bad of ['', 'randomly', 'random:x', 'random:0', 'newest', "1'; drop"])
      expect(parsePick(bad)).toBeUndefined();
  });
});

describe('scratch database names and markers', () => {
  it('are valid identifiers of at most 63 bytes, even for long target names', () => {
    expect(scratchDatabaseName('invoices', '20261128T020000Z-7f3a')).toBe('fg_drill_invoices_20261128t020000z_7f3a');
    const long = scratchDatabaseName('a'.repeat(63), '20261128T020000Z-7f3a');
    expect(Buffer.byteLength(long)).toBe(63);
    expect(long).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(scratchDatabaseName('east-1', '20261128T020000Z-7f3a')).toBe('fg_drill_east_1_20261128t020000z_7f3a');
  });

  const marker = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      tool: 'fapiao-guard drill',
      drillId: '20261128T020000Z-7f3a',
      target: 'invoices',
      backupId: 'b',
      createdAt: '2026-11-28T02:00:00.000Z',
      host: 'h1',
      pid: 42,
      repository: 'file:///srv/repo',
      kept: false,
      ...over,
    });
  const name = 'fg_drill_invoices_20261128t020000z_7f3a';

  it('recognise only our own marker on the database it names', () => {
    expect(isOurs(name, parseMarker(marker()))).toBe(true);
    expect(isOurs('fg_drill_other_20261128t020000z_7f3a', parseMarker(marker()))).toBe(false);
    expect(parseMarker('created by fapiao-guard demo')).toBeUndefined();
    expect(parseMarker(null)).toBeUndefined();
    expect(parseMarker(marker({ tool: 'something else' }))).toBeUndefined();
  });

  it('leftovers: older than the bound, or from a dead process on this host; never kept or foreign ones', () => {
    const now = new Date('2026-11-28T03:00:00Z');
    const run = (
      comment: string | null,
      options: { bound?: number; host?: string; alive?: boolean; repository?: string } = {},
    ) =>
      leftoversOf([{ name, comment }], {
        now,
        olderThanSeconds: options.bound ?? 7200,
        host: options.host ?? 'h1',
        isAlive: () => options.alive ?? true,
        repository: options.repository ?? 'file:///srv/repo',
      }).map((l) => l.reason);
    // another installation's drills (another repository, or a marker that names none) on a shared server
    expect(run(marker(), { bound: 0, alive: false, repository: 'file:///home/x/repo' })).toEqual([]);
    expect(run(marker({ repository: undefined }), { bound: 0, alive: false })).toEqual([]);
    expect(run(marker(), { bound: 600 })).toEqual(['older than the bound']);
    expect(run(marker())).toEqual([]);
    expect(run(marker(), { alive: false })).toEqual(['its process is gone']);
    expect(run(marker(), { alive: false, host: 'h2' })).toEqual([]);
    expect(run(marker({ kept: true }), { bound: 0, alive: false })).toEqual([]);
    expect(run(null, { bound: 0 })).toEqual([]);
    expect(run('not json', { bound: 0 })).toEqual([]);
  });
});

describe('assertions, objectives and verdict', () => {
  it('compare what PostgreSQL returns with what the config expects', () => {
    expect(assertionHolds(0, '0')).toBe(true);
    expect(assertionHolds(0, '1')).toBe(false);
    expect(assertionHolds(1.5, '1.50')).toBe(true);
    expect(assertionHolds(true, true)).toBe(true);
    expect(assertionHolds(true, 't')).toBe(true);
    expect(assertionHolds(true, false)).toBe(false);
    expect(assertionHolds('ok', 'ok')).toBe(true);
    expect(assertionHolds(null, null)).toBe(true);
    expect(assertionHolds(0, null)).toBe(false);
    expect(assertionHolds(0, '')).toBe(false);
    expect(displayValue(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
  });

  it('objectives become checks; the cause names the first failure in one line', () => {
    const [rto, rpo] = objectiveChecks(3.25, 1, { id: 'b1', ageSeconds: 100_000 }, 93_600);
    expect(rto).toEqual({ name: 'rto: whole drill', ok: false, expected: '≤ 1.0s', actual: '3.3s' });
    expect(rpo).toEqual({ name: 'rpo: age of the newest backup', ok: false, expected: '≤ 1d2h', actual: '1d3h (b1)' });
    expect(verdictOf([rto!, rpo!])).toBe('fail');
    expect(causeOf([rto!, rpo!])).toBe('rto: whole drill: expected ≤ 1.0s, got 3.3s (and 1 more failed check)');
    expect(
      causeOf([{ name: 'restore dump.age', ok: false, expected: 'x', actual: 'bad', problem: 'checksum mismatch' }]),
    ).toBe('restore dump.age: checksum mismatch');
    expect(causeOf([{ name: 'checksum t', ok: false, expected: 'a'.repeat(64), actual: null }])).toBe(
      `checksum t: expected ${'a'.repeat(16)}…, got nothing`,
    );
    expect(verdictOf([])).toBe('fail'); // a drill that checked nothing proved nothing
  });
});

describe('HTML report', () => {
  const report: DrillReport = {
    drillId: '20261128T020000Z-7f3a',
    backupId: '20261128T010000Z-0001',
    target: 'invoices',
    verdict: 'fail',
    checks: [
      { name: 'assert <script>alert(1)</script>', ok: false, expected: '"0"', actual: "it's & <b>bold</b>" },
      { name: 'rows public.发票', ok: true, expected: 10, actual: 10 },
    ],
    seconds: { download: 1, restore: 2, checks: 0.5, total: 3 },
    tablesCheckedDuringRestore: 1,
    rpoSeconds: 3600,
    cause: 'assert <script>: expected 0, got <img src=x onerror=alert(1)>',
    startedAt: '2026-11-28T02:00:00.000Z',
    finishedAt: '2026-11-28T02:00:03.000Z',
    backupFinishedAt: '2026-11-28T01:00:00.000Z',
    pick: 'latest',
    objectives: { rtoSeconds: 900, rpoSeconds: 93600 },
    newestBackup: { id: '20261128T010000Z-0001', ageSeconds: 3600 },
    scratch: { database: 'fg_drill_invoices_x', server: 'postgres://u:***@h/postgres', kept: false },
    jobs: 1,
    tool: { name: 'fapiao-guard', version: '0.1.0' },
  };

  it('escapes every piece of text and puts the verdict first', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderDrillHtml(
      report,
      [{ drillId: 'd<1>', startedAt: '2026-11-27T02:00:00.000Z', status: 'pass', rtoSeconds: 2 }],
      (iso) => `T<${iso}>`,
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>bold');
    expect(html).toContain('assert &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('it&#39;s &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('rows public.发票');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html.indexOf('FAIL')).toBeLessThan(html.indexOf('<h2>Checks'));
    expect(html.indexOf('<h2>Checks')).toBeLessThan(html.indexOf('<h2>Timings'));
    expect(html).toContain('<td>checks, after the restore (1 table measured during it)</td><td class="v">500ms</td>');
    expect(html.indexOf('<h2>Timings')).toBeLessThan(html.indexOf('<h2>RTO over the last drills'));
  });

  it('draws one bar per drill with the objective line', () => {
    const svg = trendSvg(
      [
        { drillId: 'a', startedAt: '2026-11-26T02:00:00.000Z', status: 'pass', rtoSeconds: 60 },
        { drillId: 'b', startedAt: '2026-11-27T02:00:00.000Z', status: 'fail', rtoSeconds: 1200 },
        { drillId: 'c', startedAt: '2026-11-28T02:00:00.000Z', status: 'pass', rtoSeconds: null },
      ],
      900,
      'b',
      (iso) => iso,
    );
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('fill="#b3261e" stroke="#1d2327"'); // the current, failed drill stands out
    expect(svg).toContain('objective 15m0s');
    expect(trendSvg([], 900, 'x', (i) => i)).toBe('<p>No earlier drills with a measured RTO yet.</p>');
  });
});
