// Export files as auditors meet them (issue 12, item 2), read through the file source and compared
// with an in-memory local side: identical line-item lines are a duplicate_line with both file:line
// origins (not an amount_mismatch of twice the amount); an Excel-damaged .xlsx row (number and date
// kept as numbers) is linked to its local invoice exactly as a CSV row is; red-letter invoices are
// paired with the blue invoices they offset, by reference or by seller, amount and date; a foreign
// GBK CSV with its own headers is compared on every field it has.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, failing } from '../../src/reconcile/engine/classify.js';
import { csvCell } from '../../src/reconcile/sources/csv.js';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { EXPORT_COLUMNS } from '../../src/reconcile/sources/export-columns.js';
import { openFileSource } from '../../src/reconcile/sources/file-source.js';
import { MemorySource } from '../../src/reconcile/sources/memory-source.js';
import { pairRedLetters } from '../../src/reconcile/engine/red-letter.js';
import { linkRejectedRows } from '../../src/reconcile/engine/rejected-rows.js';
import { invalidInputFinding } from '../../src/reconcile/report/report.js';
import { encodeGb18030 } from '../../src/reconcile/sources/text-decode.js';
import { DEFAULT_FAIL_ON, type Finding, type Invoice } from '../../src/reconcile/model/types.js';
import { type XlsxValue, writeXlsx } from '../../src/demo/xlsx-writer.js';
import { TEST_NOW } from './helpers.js';

const TZ = 'Asia/Shanghai';
const window = { from: '2026-11-01', to: '2026-11-30', timezone: TZ };
const SELLER = '91310110666007217T';
const BUYER = '91110000600037341L';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fg-audfld-lines-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Cells = Partial<Record<(typeof EXPORT_COLUMNS)[number] | string, XlsxValue>>;

function line(number: string, cells: Cells): Cells {
  return {
    数电发票号码: number,
    销方识别号: SELLER,
    购方识别号: BUYER,
    开票日期: '2026-11-20 10:00:00',
    税率: '13%',
    发票状态: '正常',
    ...cells,
  };
}

function table(rows: Cells[], columns: readonly string[] = EXPORT_COLUMNS): XlsxValue[][] {
  return [[...columns], ...rows.map((r, i) => columns.map((c) => (c === '序号' ? String(i + 1) : (r[c] ?? ''))))];
}

async function open(name: string, bytes: Uint8Array | string) {
  await writeFile(path.join(dir, name), bytes);
  return openFileSource({ path: name, baseDir: dir, timezone: TZ, now: TEST_NOW });
}

const csv = (rows: XlsxValue[][]): string =>
  rows.map((r) => r.map((v) => csvCell(String(v ?? ''))).join(',')).join('\r\n');

async function compare(upstream: MemorySource, local: MemorySource): Promise<Finding[]> {
  const result = await compareSources(upstream, local, { window, partition: false });
  return classify(result.diffs, { now: TEST_NOW, syncLagSeconds: 0, fields: result.fields });
}

const A = '26312000000000000001';
const B = '26312000000000000002';
const lines: Cells[] = [
  line(A, { 货物或应税劳务名称: '*纸制品*复印纸', 金额: '100.00', 税额: '13.00', 价税合计: '113.00' }),
  line(A, { 货物或应税劳务名称: '*办公用品*签字笔', 金额: '20.00', 税额: '2.60', 价税合计: '22.60' }),
  line(B, {
    货物或应税劳务名称: '*纸制品*复印纸',
    开票日期: '2026-11-21 09:30:00',
    金额: '50.00',
    税额: '6.50',
    价税合计: '56.50',
  }),
];

describe('line-item exports', () => {
  it('an identical line is a duplicate_line naming both lines, not an amount_mismatch of twice the amount', async () => {
    const local = await open('local-lines.xlsx', writeXlsx([{ name: '信息汇总表', rows: table(lines) }]));
    // the export repeats A's second line (same cells, its own 序号)
    const upstream = await open(
      'lines.xlsx',
      writeXlsx([{ name: '信息汇总表', rows: table([lines[0]!, lines[1]!, lines[1]!, lines[2]!]) }]),
    );
    expect(upstream.fields).toEqual(['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId', 'issueTime']);
    const findings = await compare(upstream, local);
    expect(findings.map((f) => [f.kind, f.key])).toEqual([['duplicate_line', A]]);
    expect(findings[0]!.evidence).toEqual({
      reason: 'the export repeats a line of this invoice cell for cell; counted once the total is 13560 fen',
      origins: [['lines.xlsx:3', 'lines.xlsx:4']],
      upstreamFen: 15820,
      upstreamOnceFen: 13560,
      localFen: 13560,
    });
    expect(failing(findings, DEFAULT_FAIL_ON)).toHaveLength(1);
  });

  it('two identical lines the local side counts twice are two real lines: no finding', async () => {
    const twice = table([lines[0]!, lines[1]!, lines[1]!, lines[2]!]);
    const local = await open('local-twice.xlsx', writeXlsx([{ name: '信息汇总表', rows: twice }]));
    const upstream = await open('twice.xlsx', writeXlsx([{ name: '信息汇总表', rows: twice }]));
    expect(await compare(upstream, local)).toEqual([]);
  });

  it('lines at different rates: the invoice rate is mixed, and a local single rate differs', async () => {
    const local = await open('local-rate.xlsx', writeXlsx([{ name: '信息汇总表', rows: table(lines) }]));
    const upstream = await open(
      'rate.xlsx',
      writeXlsx([{ name: '信息汇总表', rows: table([lines[0]!, { ...lines[1]!, 税率: '6%' }, lines[2]!]) }]),
    );
    expect(upstream.rows().find((r) => r.key === A)!.rateBp).toBe(-1);
    const findings = await compare(upstream, local);
    expect(findings.map((f) => [f.kind, f.key, f.evidence.upstreamRate, f.evidence.localRate])).toEqual([
      ['tax_mismatch', A, 'mixed', '13%'],
    ]);
  });
});

describe('Excel-damaged rows', () => {
  const damaged = {
    数电发票号码: 2.64e19,
    销方识别号: SELLER,
    开票日期: 46331.00313657407,
    价税合计: 11588.28,
    金额: 10255.12,
    税额: 1333.16,
  };
  // the invoice behind the damaged row, as the local table has it: 46331.00313657407 is 2026-11-05 00:04:31 in the export's zone
  const invoice: Invoice = {
    key: '26442000000000018411',
    number: '26442000000000018411',
    day: '2026-11-05',
    hour: 0,
    issuedAt: '2026-11-04T16:04:31.000Z',
    totalFen: 1158828,
    amountFen: 1025512,
    taxFen: 133316,
    status: 'valid',
    sellerTaxId: SELLER,
  };

  async function linked(upstream: MemorySource): Promise<Finding[]> {
    const local = new MemorySource({ kind: 'memory', location: 'local' }, [invoice]);
    const findings: Finding[] = [
      ...(await compare(upstream, local)),
      ...upstream.problems().errors.map(invalidInputFinding),
    ];
    linkRejectedRows(findings, TZ);
    return findings;
  }

  it('an .xlsx row with its number and date kept as numbers is linked to its local invoice', async () => {
    const upstream = await open('damaged.xlsx', writeXlsx([{ name: '信息汇总表', rows: table([damaged]) }]));
    expect(upstream.problems().errors[0]!.raw!.issuedAt).toBe('46331.00313657407');
    const extra = (await linked(upstream)).find((f) => f.kind === 'extra')!;
    expect(extra.evidence.upstreamRowRejected).toBe(
      "damaged.xlsx:2: number '26400000000000000000' was stored as a number by Excel, which keeps only 15 significant digits (re-export it as text)",
    );
    expect(extra.evidence.reason).toMatch(/^upstream has this invoice, but its row was rejected as damaged/);
  });

  it('the same row in a CSV (number in scientific notation, date as text) is linked the same way', async () => {
    const upstream = await open(
      'damaged.csv',
      `\ufeff${csv(table([{ ...damaged, 数电发票号码: '2.64E+19', 开票日期: '2026-11-05 00:04:31', 价税合计: '11588.28' }]))}\r\n`,
    );
    const extra = (await linked(upstream)).find((f) => f.kind === 'extra')!;
    expect(extra.evidence.upstreamRowRejected).toMatch(/^damaged\.csv:2: /);
  });
});

describe('red-letter invoices', () => {
  const RED_COLUMNS = [...EXPORT_COLUMNS, '对应蓝字发票号码'];
  const blue = (n: string, total: string, wall: string, cells: Cells = {}): Cells =>
    line(n, { 开票日期: wall, 价税合计: total, 是否正数发票: '是', ...cells });
  const red = (n: string, total: string, wall: string, cells: Cells = {}): Cells =>
    line(n, { 开票日期: wall, 价税合计: total, 是否正数发票: '否', ...cells });
  const rows = [
    blue('26312000000000000101', '113.00', '2026-10-20 10:00:00'),
    blue('26312000000000000102', '226.00', '2026-11-02 10:00:00'),
    blue('26312000000000000103', '339.00', '2026-11-03 10:00:00', { 销方识别号: '91512081MA62K0260E' }),
    // offsets 101 (last month), named in 备注 as the platform writes it
    red('26312000000000000201', '-113.00', '2026-11-10 10:00:00', {
      备注: '被红冲蓝字数电发票号码：26312000000000000101 红字发票信息确认单编号：…',
    }),
    // no reference: same seller, opposite total, issued before → 102
    red('26312000000000000202', '-226.00', '2026-11-11 10:00:00'),
    // references an invoice only the local table has
    red('26312000000000000203', '-50.00', '2026-11-12 10:00:00', { 对应蓝字发票号码: '26312000000000000901' }),
    // references an invoice nobody has
    red('26312000000000000204', '-60.00', '2026-11-13 10:00:00', { 对应蓝字发票号码: '26312000000000000999' }),
    // no reference, and 339.00 was issued by another seller
    red('26312000000000000205', '-339.00', '2026-11-14 10:00:00'),
  ];

  it('pairs each with the invoice it offsets, and reports those whose original is missing', async () => {
    const upstream = await open('red.xlsx', writeXlsx([{ name: '信息汇总表', rows: table(rows, RED_COLUMNS) }]));
    const localOnly: Invoice = {
      key: '26312000000000000901',
      number: '26312000000000000901',
      day: '2026-09-30',
      hour: 9,
      issuedAt: '2026-09-30T01:00:00.000Z',
      totalFen: 8000,
      status: 'partially_red_flushed',
    };
    const local = new MemorySource({ kind: 'memory', location: 'local' }, [localOnly]);
    const findings = await pairRedLetters({
      upstream: upstream.rows(),
      window,
      lookupLocal: (keys) => local.lookup(keys),
    });
    expect(
      findings.map((f) => [
        f.kind,
        f.key,
        f.evidence.originalKey ?? null,
        f.evidence.pairedBy ?? null,
        f.evidence.originalSide ?? null,
      ]),
    ).toEqual([
      ['red_letter', '26312000000000000201', '26312000000000000101', 'reference', 'upstream'],
      ['red_letter', '26312000000000000202', '26312000000000000102', 'seller_amount_date', 'upstream'],
      ['red_letter', '26312000000000000203', '26312000000000000901', 'reference', 'local'],
      ['red_letter_unpaired', '26312000000000000204', '26312000000000000999', null, null],
      ['red_letter_unpaired', '26312000000000000205', null, null, null],
    ]);
    expect(findings[0]!.evidence).toMatchObject({
      upstreamFen: -11300,
      originalFen: 11300,
      originalDay: '2026-10-20',
      originalOrigin: 'red.xlsx:2',
      partial: false,
    });
    expect(findings[2]!.evidence).toMatchObject({ partial: true, originalStatus: 'partially_red_flushed' });
    expect(findings[3]!.evidence.reason).toBe(
      'the blue invoice 26312000000000000999 it references is neither in the export nor in the local table',
    );
    expect(failing(findings, DEFAULT_FAIL_ON).map((f) => f.key)).toEqual([
      '26312000000000000204',
      '26312000000000000205',
    ]);
  });
});

describe('a foreign export with its own headers', () => {
  const columns = ['发票号码', '发票代码', '开票时间', '销售方纳税人识别号', '金额', '税额', '价税合计', '发票状态'];
  const base: Cells[] = [
    {
      发票号码: '00000001',
      发票代码: '031001900111',
      开票时间: '2026/11/3 9:05',
      销售方纳税人识别号: SELLER,
      金额: '100.00',
      税额: '13.00',
      价税合计: '113.00',
      发票状态: '正常',
    },
    {
      发票号码: '00000002',
      发票代码: '031001900111',
      开票时间: '2026/11/4 14:30',
      销售方纳税人识别号: SELLER,
      金额: '200.00',
      税额: '26.00',
      价税合计: '226.00',
      发票状态: '正常',
    },
  ];
  // the split of invoice 1 moved 10.00 from tax to amount; invoice 2's seller changed
  const changed: Cells[] = [
    { ...base[0]!, 金额: '110.00', 税额: '3.00' },
    { ...base[1]!, 销售方纳税人识别号: '91512081MA62K0260E' },
  ];

  it.each([
    ['GBK CSV', 'csv', (rows: Cells[]): Uint8Array => encodeGb18030(`${csv(table(rows, columns))}\r\n`), 'gb18030'],
    [
      'xlsx on a sheet of another name',
      'xlsx',
      (rows: Cells[]): Uint8Array => writeXlsx([{ name: 'Sheet1', rows: table(rows, columns) }]),
      'sheet Sheet1',
    ],
  ] as const)(
    '%s: compared on every field it has, its missing ones not compared',
    async (_label, ext, write, detail) => {
      const local = await open(`local-foreign.${ext}`, write(base));
      const upstream = await open(`foreign.${ext}`, write(changed));
      expect(upstream.info.files).toEqual([`foreign.${ext} (${detail})`]);
      expect(upstream.fields).toEqual(['amount', 'tax', 'sellerTaxId', 'issueTime']);
      const findings = await compare(upstream, local);
      expect(findings.map((f) => [f.kind, f.key, f.evidence.fields])).toEqual([
        ['tax_mismatch', '031001900111-00000001', ['amount', 'tax']],
        ['party_mismatch', '031001900111-00000002', ['sellerTaxId']],
      ]);
    },
  );
});
