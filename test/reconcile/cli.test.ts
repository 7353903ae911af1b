// `reconcile` and `findings` as people and cron run them (needs `npm run build`): exit codes
// 0/1/2/3, the --json report shape, the Excel-safe CSV and the self-checking reports.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sampleDataStatements } from '../../src/demo/sample-data.js';
import { verifyReport } from '../../src/reconcile/report/report-render.js';
import { generateTaxExport } from '../../src/demo/tax-export.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { refusedPort } from '../helpers/refused-port.js';
import { type TestDatabase, createDatabase } from '../helpers/pg.js';
import { type ReconcileFixture, reconcileFixture } from './helpers.js';

let local: TestDatabase;
let state: TestDatabase;
let fx: ReconcileFixture;
const cfg = (f: ReconcileFixture = fx) => ['--config', f.configFile];
const quiet = { env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' } };

beforeAll(async () => {
  [local, state] = await Promise.all([createDatabase('rec_cli'), createDatabase('rec_cli_state')]);
  const client = new pg.Client({ connectionString: local.url });
  await client.connect();
  // data up to yesterday, so "now" is the real clock and nothing is pending or in the future
  for (const sql of sampleDataStatements({
    invoices: 1500,
    days: 20,
    endAt: new Date(Date.now() - 86_400_000).toISOString(),
  }))
    await client.query(sql);
  await client.end();
  fx = await reconcileFixture({
    localUrl: local.url,
    stateUrl: state.url,
    reconcile: { upstream: { type: 'file', path: 'exports/*.csv' }, window: { days: 25 } },
  });
  await mkdir(path.join(fx.dir, 'exports'));
});

afterAll(async () => {
  await Promise.all([local?.drop(), state?.drop()]);
  await fx?.cleanup();
});

describe('fapiao-guard reconcile', () => {
  it('exit 0 when the export matches the table', async () => {
    await generateTaxExport({
      sourceUrl: local.url,
      out: path.join(fx.dir, 'exports', 'a.csv'),
      timezone: 'Asia/Shanghai',
      plant: { missing: 0, pending: 0, extra: 0, amount: 0, status: 0, typo: 0, duplicate: 0, invalid: 0 },
    });
    const res = await runCli(['reconcile', ...cfg()], quiet);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // Asia/Shanghai: the terminal speaks zh-CN (reports.language defaults from the zone)
    expect(res.stdout).toMatch(/^对账期间 \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} \(Asia\/Shanghai\)\n/);
    expect(res.stdout).toContain('共 0 项差异 = 0 项需处理 + 0 项仅供参考。');
    expect(res.stdout).toMatch(/上游读取 (\d+) 行 = \1 行有效 \+ 0 行被拒；有效行 = \1 张不同发票 \+ 0 行重复。/);
    expect(res.stdout).toMatch(/reports: .*reconcile-\d{8}T\d{6}Z-[0-9a-f]{4}\.html/);
  });

  it('exit 1 with the JSON report on stdout when planted problems are found; findings --open lists them', async () => {
    const { planted } = await generateTaxExport({
      sourceUrl: local.url,
      out: path.join(fx.dir, 'exports', 'a.csv'),
      timezone: 'Asia/Shanghai',
      plant: { pending: 0 },
    });
    const res = await runCli(['reconcile', '--json', ...cfg()], quiet);
    expect(res.code).toBe(1);
    expect(errorLine(res)).toMatch(
      /^fapiao-guard: 1[0-9] reconciliation finding\(s\) of kinds in reconcile\.failOn for \S+ \(hint: see '.*\.html'\)$/,
    );
    const report = JSON.parse(res.stdout);
    expect(Object.keys(report)).toEqual(['format', 'run', 'summary', 'days', 'findings', 'warnings', 'sha256']);
    expect(Object.keys(report.run)).toEqual(
      expect.arrayContaining(['id', 'window', 'upstream', 'local', 'parameters']),
    );
    expect(verifyReport(res.stdout)).toBe(true);
    expect(report.findings.filter((f: { kind: string }) => f.kind !== 'invalid_input')).toHaveLength(
      planted.filter((p) => p.kind !== 'invalid_input').length,
    );
    for (const f of report.findings)
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['kind', 'key', 'evidence', 'firstSeen']));

    const reportDir = path.join(fx.dir, 'reports');
    const csv = await readFile(path.join(reportDir, `reconcile-${report.run.id}.csv`), 'utf8');
    expect(csv.startsWith('\ufeff# fapiao-guard reconcile run ')).toBe(true);
    const typo = planted.find((p) => p.cause === 'probable_typo')!;
    expect(csv).toContain(`"=""${typo.key}"""`); // Excel keeps every digit
    expect(verifyReport(csv)).toBe(true);
    const html = await readFile(path.join(reportDir, `reconcile-${report.run.id}.html`), 'utf8');
    expect(html).toContain('<svg role="img"');
    expect(html).toContain(report.sha256);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3)/);
    expect(verifyReport(html)).toBe(true);
    expect(html).toContain('<html lang="zh-CN">');
    expect(verifyReport(html.replace('摘要', '摘耍'))).toBe(false);

    const open = await runCli(['findings', '--open', '--json', ...cfg()], quiet);
    expect(open.code).toBe(0);
    // --target may name the reconciled table's target, nothing else
    expect((await runCli(['findings', '--open', '--json', '--target', 'invoices', ...cfg()], quiet)).stdout).toBe(
      open.stdout,
    );
    const other = await runCli(['findings', '--target', 'archive', ...cfg()], quiet);
    expect(other.code).toBe(2);
    expect(errorLine(other)).toBe(
      "fapiao-guard: reconcile compares the table of target 'invoices' (reconcile.local); --target 'archive' names another",
    );
    expect(JSON.parse(open.stdout)).toHaveLength(report.findings.length);
    const table = await runCli(['findings', '--open', ...cfg()], quiet);
    expect(table.stdout.split('\n')[0]).toMatch(/^scope: postgres:\/\/\S+ public\.invoices <- file:exports\/\*\.csv$/);
    expect(table.stdout.split('\n')[1]).toMatch(/^id\s+kind\s+cause\s+key\s+day\s+first seen\s+last seen\s+state$/);
  });

  it('exit 2 for configuration problems and a file that is not an export; exit 3 when the upstream cannot be reached', async () => {
    await writeFile(path.join(fx.dir, 'exports', 'a.csv'), '\ufeffhello,world\n1,2\n');
    const wrong = await runCli(['reconcile', ...cfg()], quiet);
    expect(wrong.code).toBe(2);
    expect(errorLine(wrong)).toBe(
      "fapiao-guard: upstream file 'exports/a.csv' is not a tax platform export: no header row with 发票号码 or 数电发票号码, 开票日期 and 价税合计 in its first 20 rows (hint: check the file, or map its headers in reconcile.upstream.columns)",
    );

    const bad = await reconcileFixture({
      localUrl: local.url,
      stateUrl: state.url,
      reconcile: { upstream: { type: 'ftp' }, failOn: ['missing', 'lost'], syncLag: 'soon' },
    }).catch((e: Error) => e);
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toContain('reconcile.upstream.type: must be one of file, postgres, http');
    expect((bad as Error).message).toContain("reconcile.failOn[1]: 'lost' is not one of");
    expect((bad as Error).message).toContain("reconcile.syncLag: 'soon' is not a duration");

    const usage = await runCli(['reconcile', '--from', '2026-13-01', ...cfg()], quiet);
    expect(usage.code).toBe(2);
    expect(errorLine(usage)).toBe("fapiao-guard: --from '2026-13-01' is not a date like 2026-11-01");

    const refused = await refusedPort();
    const down = await reconcileFixture({
      localUrl: local.url,
      stateUrl: state.url,
      reconcile: {
        upstream: {
          type: 'http',
          url: `http://${refused.host}/api`,
          token: 'tok',
          retries: 1,
          maxRetryWait: '10ms',
          timeout: '1s',
        },
      },
    });
    try {
      const res = await runCli(['reconcile', ...cfg(down)], quiet);
      expect(res.code).toBe(3);
      expect(errorLine(res)).toMatch(
        /^fapiao-guard: upstream 'http:\/\/127\.0\.0\.1:\d+\/api\/buckets\?from=\S+' failed 2 times: .*ECONNREFUSED/,
      );
      expect(res.stderr).not.toContain('tok"');
    } finally {
      await refused.release();
      await down.cleanup();
    }
  });
});
