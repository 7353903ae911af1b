// The file upstream on a real local table: tax-platform .xlsx, GB18030 CSV and BOM CSV exports
// with planted problems are reconciled exactly; bad files fail with one clear line; hostile CSV never crashes.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseCsv } from '../../src/reconcile/sources/csv.js';
import { EXPORT_COLUMNS } from '../../src/reconcile/sources/export-columns.js';
import { openFileSource } from '../../src/reconcile/sources/file-source.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { type PlantedProblem, generateTaxExport } from '../../src/demo/tax-export.js';
import { decodeText, encodeGb18030 } from '../../src/reconcile/sources/text-decode.js';
import { readSheet } from '../../src/reconcile/sources/xlsx-reader.js';
import { writeXlsx } from '../../src/demo/xlsx-writer.js';
import { type TestDatabase, createDatabase, createSampleDatabase, queryOne } from '../helpers/pg.js';
import { type ReconcileFixture, TEST_NOW, reconcileFixture } from './helpers.js';

const logger = silentLogger();
let local: TestDatabase;
let state: TestDatabase;
const fixtures: ReconcileFixture[] = [];

beforeAll(async () => {
  [local, state] = await Promise.all([createSampleDatabase('rec_file', 2000), createDatabase('rec_file_state')]);
});

afterAll(async () => {
  await Promise.all([local?.drop(), state?.drop()]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function fixture(upstream: Record<string, unknown>): Promise<ReconcileFixture> {
  const fx = await reconcileFixture({ localUrl: local.url, stateUrl: state.url, reconcile: { upstream } });
  fixtures.push(fx);
  return fx;
}

function expectPlanted(
  findings: Array<{ kind: string; key: string; cause?: string }>,
  planted: PlantedProblem[],
): void {
  const expected = planted.filter((p) => p.kind !== 'invalid_input').map((p) => [p.kind, p.key, p.cause ?? null]);
  expect(
    findings
      .filter((f) => f.kind !== 'invalid_input')
      .map((f) => [f.kind, f.key, f.cause ?? null])
      .sort(),
  ).toEqual(expected.sort());
  expect(findings.filter((f) => f.kind === 'invalid_input')).toHaveLength(
    planted.filter((p) => p.kind === 'invalid_input').length,
  );
}

describe.each([
  ['xlsx', 'export.xlsx', undefined],
  ['GB18030 CSV', 'export.csv', 'gb18030'],
  ['UTF-8 BOM CSV', 'export.csv', 'utf-8-bom'],
] as const)('file upstream: %s', (_label, name, encoding) => {
  it('finds every planted problem, with file and line for the unreadable rows', async () => {
    const fx = await fixture({ type: 'file', path: `./exports/${name}` });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(fx.dir, 'exports'));
    const out = path.join(fx.dir, 'exports', name);
    const { planted } = await generateTaxExport({
      sourceUrl: local.url,
      out,
      timezone: 'Asia/Shanghai',
      now: TEST_NOW,
      ...(encoding ? { encoding } : {}),
    });
    if (encoding === 'gb18030') expect(decodeText(await readFile(out)).encoding).toBe('gb18030');
    const { report, ok } = await runReconcile({ config: fx.config, logger, now: TEST_NOW, persist: false });
    // a file side is hashed in JS: the digests must use md5, and the run says so
    expect(report.run.parameters.hashMethod).toBe('md5');
    expect(report.summary.work).toMatchObject({ hashMethod: 'md5', strategy: 'drill-down' });
    expect(ok).toBe(false);
    expectPlanted(report.findings, planted);
    const invalid = report.findings.find((f) => f.kind === 'invalid_input')!;
    expect(invalid.evidence.origin).toMatch(new RegExp(`^exports/${name.replace('.', '\\.')}:\\d+$`));
    expect(invalid.evidence.reason).toMatch(/scientific notation/);
    expect(report.run.upstream.files![0]).toContain(
      encoding === 'gb18030' ? '(gb18030)' : encoding === 'utf-8-bom' ? '(utf-8-bom)' : '(sheet 信息汇总表)',
    );
    expect(report.summary.upstream.count).toBe(report.summary.local.count - 3 - 2 + 3 + 2 + 1); // −extra −unreadable +missing +pending +duplicate
  });
});

describe('file upstream edge cases', () => {
  it('aggregates a line-item export to invoices (and still sees a real duplicate)', async () => {
    const fx = await fixture({ type: 'file', path: 'lines.xlsx' });
    const inv = {
      发票代码: '',
      发票号码: '',
      数电发票号码: '26312000000000000001',
      销方识别号: '91310110666007217T',
      开票日期: '2026-11-20 10:00:00',
      发票状态: '正常',
    };
    const line = (item: string, total: string): string[] =>
      EXPORT_COLUMNS.map((c) =>
        c === '货物或应税劳务名称' ? item : c === '价税合计' ? total : ((inv as Record<string, string>)[c] ?? ''),
      );
    await writeFile(
      path.join(fx.dir, 'lines.xlsx'),
      writeXlsx([
        {
          name: '信息汇总表',
          rows: [[...EXPORT_COLUMNS], line('*纸制品*复印纸', '100.00'), line('*办公用品*签字笔', '13.50')],
        },
      ]),
    );
    const src = await openFileSource({ path: 'lines.xlsx', baseDir: fx.dir, timezone: 'Asia/Shanghai', now: TEST_NOW });
    expect(src.rows()).toEqual([
      expect.objectContaining({ key: '26312000000000000001', totalFen: 11350, origin: 'lines.xlsx:2' }),
    ]);
  });

  it('a run pairs a red-letter invoice with the local invoice it references, and reports what it compared', async () => {
    const fx = await fixture({ type: 'file', path: 'red.xlsx' });
    const blue = await queryOne<{ key: string; total: string; seller: string }>(
      local.url,
      `select coalesce(invoice_code || '-', '') || invoice_number as key, total_amount::text as total, seller_tax_id as seller from public.invoices where invoice_code is null order by id limit 1`,
    );
    // a day before the sample's invoices: the red-letter invoice is the window's only one
    const red = {
      数电发票号码: '26312000000000777777',
      销方识别号: blue.seller,
      开票日期: '2026-03-02 10:00:00',
      价税合计: `-${blue.total}`,
      发票状态: '正常',
      备注: `被红冲蓝字数电发票号码：${blue.key}`,
    };
    await writeFile(
      path.join(fx.dir, 'red.xlsx'),
      writeXlsx([
        {
          name: '信息汇总表',
          rows: [[...EXPORT_COLUMNS], EXPORT_COLUMNS.map((c) => (red as Record<string, string>)[c] ?? '')],
        },
      ]),
    );
    const { report } = await runReconcile({
      config: fx.config,
      logger,
      now: TEST_NOW,
      persist: false,
      from: '2026-03-02',
      to: '2026-03-02',
    });
    expect(report.findings.map((f) => [f.kind, f.key])).toEqual([
      ['missing', '26312000000000777777'],
      ['red_letter', '26312000000000777777'],
    ]);
    expect(report.findings[1]!.evidence).toMatchObject({
      originalKey: blue.key,
      pairedBy: 'reference',
      originalSide: 'local',
    });
    expect(report.run.fields).toMatchObject({ notCompared: [], redLetters: 'paired' });
  });

  it('a file that is not an export fails with one clear line', async () => {
    const fx = await fixture({ type: 'file', path: 'wrong.csv' });
    await writeFile(path.join(fx.dir, 'wrong.csv'), 'name,amount\nfoo,1\n');
    const err = await runReconcile({ config: fx.config, logger, now: TEST_NOW, persist: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      "upstream file 'wrong.csv' is not a tax platform export: no header row with 发票号码 or 数电发票号码, 开票日期 and 价税合计 in its first 20 rows",
    );
    const none = await fixture({ type: 'file', path: 'nothing/*.xlsx' });
    await expect(runReconcile({ config: none.config, logger, now: TEST_NOW, persist: false })).rejects.toThrow(
      "no upstream file matches 'nothing/*.xlsx'",
    );
  });

  it('reads numeric xlsx cells as numbers (Excel damage detected) and finds a header under a title row', async () => {
    const fx = await fixture({ type: 'file', path: 'n.xlsx' });
    const header = ['发票代码', '发票号码', '数电发票号码', '销方识别号', '开票日期', '价税合计'];
    await writeFile(
      path.join(fx.dir, 'n.xlsx'),
      writeXlsx([
        {
          name: '信息汇总表',
          rows: [
            ['全量发票查询导出结果（20261101-20261130）'],
            header,
            ['', '', 2.41e19, '91310110666007217T', '2026-11-20 10:00:00', 113],
            ['31001900111', '12345', '', '91310110666007217T', '2026-11-20 10:00:00', '113.00'],
          ],
        },
      ]),
    );
    const sheet = readSheet(await readFile(path.join(fx.dir, 'n.xlsx')), '信息汇总表');
    expect(sheet.rows[2]!.cells[2]).toEqual({ text: '24100000000000000000', numeric: true });
    const src = await openFileSource({ path: 'n.xlsx', baseDir: fx.dir, timezone: 'Asia/Shanghai', now: TEST_NOW });
    expect(src.rows()).toEqual([]);
    expect(src.problems().errors.map((e) => [e.origin, e.reason])).toEqual([
      [
        'n.xlsx:3',
        "number '24100000000000000000' was stored as a number by Excel, which keeps only 15 significant digits (re-export it as text)",
      ],
      ['n.xlsx:4', "code '31001900111' has 11 digits: a leading zero was probably lost (Excel), expected 12"],
    ]);
  });

  it('property: hostile CSV never crashes the reader or the validator', async () => {
    const header = '发票代码,发票号码,数电发票号码,销方识别号,开票日期,价税合计,发票状态\n';
    const dir = (await fixture({ type: 'file', path: 'h.csv' })).dir;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { maxLength: 8 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        async (lines, raw, gb) => {
          const text = header + lines.join('\n');
          parseCsv(text); // the parser itself
          // GB18030 header followed by arbitrary bytes (invalid UTF-8 too), or arbitrary UTF-8 text
          const bytes = gb ? Buffer.concat([encodeGb18030(header), Buffer.from(raw)]) : Buffer.from(text);
          await writeFile(path.join(dir, 'h.csv'), bytes);
          const src = await openFileSource({ path: 'h.csv', baseDir: dir, timezone: 'Asia/Shanghai', now: TEST_NOW });
          for (const r of src.rows()) expect(Number.isSafeInteger(r.totalFen)).toBe(true);
          for (const e of src.problems().errors) expect(e.origin).toMatch(/^h\.csv:\d+$/);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('encodes and decodes GB18030 and keeps UTF-8 BOM detection honest', () => {
    const text = '发票号码,开票日期（全角）\n正常,已作废';
    const gb = encodeGb18030(text);
    expect(decodeText(gb)).toEqual({ text, encoding: 'gb18030' });
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toEqual({
      text,
      encoding: 'utf-8-bom',
    });
    expect(decodeText(Buffer.from(text))).toEqual({ text, encoding: 'utf-8' });
  });
});
