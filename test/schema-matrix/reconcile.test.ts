// Reconciliation on every schema of the matrix (issue 8), through the CLI as a user runs it: the
// local table is the schema's own invoice table with its own mapping; the upstream is (a) the tax
// platform's export as CSV and as xlsx, (b) another schema of the matrix in its own database. Each
// upstream holds the local invoices with planted differences (a missing invoice, an extra one, an
// amount mismatch, a status mismatch, a typo'd number; a 金额/税额 split under the same total, a
// changed seller tax ID, an issue time moved by seconds), and the findings must be exactly those
// that the fields both sides read can show: a schema without a buyer column or with a date for
// the issue time says so in the report's fields, and its planted change goes unseen.
// Needs `npm run build` (the CLI runs from dist/).
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { csvCell } from '../../src/reconcile/sources/csv.js';
import { EXPORT_COLUMNS } from '../../src/reconcile/sources/export-columns.js';
import { writeXlsx } from '../../src/demo/xlsx-writer.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase } from '../helpers/pg.js';
import { type ComparedFields, describeFields } from '../../src/reconcile/compared-fields.js';
import { FIELD_NAMES } from '../../src/reconcile/report/report-i18n.js';
import { type ReconcileFixture, reconcileFixture } from '../reconcile/helpers.js';
import { type MatrixSchema, SCHEMA_MATRIX } from './schemas.js';

const ROWS = 240;
const SELLER = '91310110666007217T';
const WINDOW = ['--from', '2026-10-01', '--to', '2026-11-30'];
/** a postgres upstream for each schema: another schema of the matrix that can hold its keys (code-number, or 20-digit 数电 numbers) */
const UPSTREAM_OF: Record<string, string> = {
  pinyin: 'fenenum',
  naivets: 'generated',
  fenenum: 'partitioned',
  partitioned: 'quoted',
  quoted: 'pinyin',
  generated: 'naivets',
};
const STATUS_ZH: Record<string, string> = { valid: '正常', voided: '已作废', red_flushed: '已红冲-全额' };

interface Canon {
  code: string | null;
  number: string;
  key: string;
  /** wall clock in Asia/Shanghai, as the export writes it */
  wall: string;
  /** ISO instant */
  instant: string;
  totalFen: number;
  status: string;
  amountFen: number | null;
  taxFen: number | null;
  seller: string | null;
  buyer: string | null;
}

interface Expected {
  kind: string;
  key: string;
  cause?: string;
}

const schemaById = (id: string): MatrixSchema => SCHEMA_MATRIX.find((s) => s.id === id)!;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The local invoices through the schema's hand-written oracle (independent of src/). */
async function canonicalRows(url: string, schema: MatrixSchema): Promise<Canon[]> {
  const rows = await withClient(url, (c) =>
    c.query<{
      key: string;
      wall: string;
      instant: string;
      total_fen: string;
      status: string;
      amount_fen: string | null;
      tax_fen: string | null;
      seller: string | null;
      buyer: string | null;
    }>(
      `select key, to_char(issued_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') as wall,
              to_char(issued_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as instant, total_fen::text, status,
              amount_fen::text, tax_fen::text, seller, buyer
       from (${schema.canonicalSql}) c order by key`,
    ),
  );
  return rows.rows.map((r) => {
    const dash = r.key.indexOf('-');
    return {
      code: dash === -1 ? null : r.key.slice(0, dash),
      number: dash === -1 ? r.key : r.key.slice(dash + 1),
      key: r.key,
      wall: r.wall,
      instant: r.instant,
      totalFen: Number(r.total_fen),
      status: r.status,
      amountFen: r.amount_fen === null ? null : Number(r.amount_fen),
      taxFen: r.tax_fen === null ? null : Number(r.tax_fen),
      seller: r.seller,
      buyer: r.buyer,
    };
  });
}

/** A planted change of a field besides the total: seen only where both sides read the field. */
interface FieldPlant extends Expected {
  field: 'amount' | 'sellerTaxId' | 'issueTime';
}

/** The detail fields a side reads (the report's `fields.compared` beyond key, day, total and status). */
type Fields = ReadonlySet<string>;

/** The upstream's invoices: the local ones with one difference of each kind planted, and the findings they must produce. */
function plant(local: readonly Canon[]): { upstream: Canon[]; expected: Expected[]; fieldPlants: FieldPlant[] } {
  const rows = local.map((r) => ({ ...r }));
  const used = new Set<number>();
  const pick = (from: number, ok: (r: Canon) => boolean): Canon => {
    for (let i = from; i < rows.length; i++) {
      if (!used.has(i) && ok(rows[i]!)) {
        used.add(i);
        return rows[i]!;
      }
    }
    throw new Error('no victim');
  };
  const extra = pick(10, () => true);
  const amount = pick(40, () => true);
  const status = pick(70, (r) => r.status === 'valid');
  const keys = new Set(local.map((r) => r.key));
  const swapped = (r: Canon): string => {
    const n = `${r.number.slice(0, -2)}${r.number.at(-1)}${r.number.at(-2)}`;
    return r.code === null ? n : `${r.code}-${n}`;
  };
  // a typo that makes another existing invoice's key would be no typo finding at all
  const typo = pick(100, (r) => r.number.at(-1) !== r.number.at(-2) && !keys.has(swapped(r)));
  const typoLocalKey = typo.key;
  amount.totalFen += 100;
  if (amount.amountFen !== null) amount.amountFen += 100;
  status.status = 'voided';
  // the fields besides the total (issue 12): a split under the same total, a seller, seconds of the issue time
  const split = pick(130, (r) => r.amountFen !== null && r.taxFen !== null && r.taxFen > 1000);
  split.amountFen! += 1000;
  split.taxFen! -= 1000;
  const seller = pick(160, () => true);
  seller.seller = '91512081MA62K0260E';
  const time = pick(190, (r) => Number(r.wall.slice(-2)) < 50);
  time.wall = `${time.wall.slice(0, -2)}${String(Number(time.wall.slice(-2)) + 7).padStart(2, '0')}`;
  time.instant = new Date(Date.parse(time.instant) + 7000).toISOString().replace('.000Z', 'Z');
  typo.number = `${typo.number.slice(0, -2)}${typo.number.at(-1)}${typo.number.at(-2)}`;
  typo.key = typo.code === null ? typo.number : `${typo.code}-${typo.number}`;
  const digital = local[0]!.code === null;
  const fabricated: Canon = digital
    ? {
        code: null,
        number: '26319999999999999999',
        key: '26319999999999999999',
        wall: '2026-11-15 10:00:00',
        instant: '2026-11-15T02:00:00Z',
        totalFen: 113000,
        status: 'valid',
        amountFen: 100000,
        taxFen: 13000,
        seller: SELLER,
        buyer: null,
      }
    : {
        code: '031000000006',
        number: '99999999',
        key: '031000000006-99999999',
        wall: '2026-11-15 10:00:00',
        instant: '2026-11-15T02:00:00Z',
        totalFen: 113000,
        status: 'valid',
        amountFen: 100000,
        taxFen: 13000,
        seller: SELLER,
        buyer: null,
      };
  return {
    upstream: [...rows.filter((r) => r !== extra), fabricated],
    expected: sortFindings([
      { kind: 'missing', key: fabricated.key },
      { kind: 'extra', key: extra.key },
      { kind: 'amount_mismatch', key: amount.key },
      { kind: 'status_mismatch', key: status.key },
      { kind: 'missing', key: typo.key, cause: 'probable_typo' },
      { kind: 'extra', key: typoLocalKey, cause: 'probable_typo' },
    ]),
    fieldPlants: [
      { kind: 'tax_mismatch', key: split.key, field: 'amount' },
      { kind: 'party_mismatch', key: seller.key, field: 'sellerTaxId' },
      { kind: 'time_mismatch', key: time.key, field: 'issueTime' },
    ],
  };
}

/** The planted findings both sides can show: those of fields both read. */
function expectedFor(planted: ReturnType<typeof plant>, compared: Fields): Expected[] {
  return sortFindings([
    ...planted.expected,
    ...planted.fieldPlants.filter((p) => compared.has(p.field)).map(({ kind, key }) => ({ kind, key })),
  ]);
}

/** The detail fields a schema's mapping reads. */
function fieldsOf(schema: MatrixSchema, columns: Record<string, string> = schema.invoices.columns): Set<string> {
  const out = new Set(['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId'].filter((k) => columns[k] !== undefined));
  if (!schema.invoices.dateOnly) out.add('issueTime');
  return out;
}

const both = (a: Fields, b: Fields): Set<string> => new Set([...a].filter((f) => b.has(f)));
/** What the export (exportTable) provides: every detail field. */
const EXPORT_FIELDS: Fields = new Set(['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId', 'issueTime']);
const DETAIL_ORDER = ['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId', 'issueTime'];

function sortFindings(list: Expected[]): Expected[] {
  return [...list].sort((a, b) => `${a.kind} ${a.key}`.localeCompare(`${b.kind} ${b.key}`));
}

const yuan = (fen: number): string => (fen / 100).toFixed(2);

/** The rows as the tax platform exports them (sheet 信息汇总表, its column order). */
function exportTable(rows: readonly Canon[]): string[][] {
  const out = rows.map((r, i) => {
    const tax = r.taxFen ?? Math.round((r.totalFen * 13) / 113);
    const cells: Partial<Record<(typeof EXPORT_COLUMNS)[number], string>> = {
      序号: String(i + 1),
      发票代码: r.code ?? '',
      发票号码: r.code === null ? '' : r.number,
      数电发票号码: r.code === null ? r.number : '',
      销方识别号: r.seller ?? SELLER,
      销方名称: '上海某某信息技术有限公司',
      购方识别号: r.buyer ?? '',
      开票日期: r.wall,
      金额: yuan(r.amountFen ?? r.totalFen - tax),
      税率: '13%',
      税额: yuan(tax),
      价税合计: yuan(r.totalFen),
      发票状态: STATUS_ZH[r.status]!,
      是否正数发票: '是',
    };
    return EXPORT_COLUMNS.map((c) => cells[c] ?? '');
  });
  return [[...EXPORT_COLUMNS], ...out];
}

type Findings = Array<{ kind: string; key: string; cause?: string }>;

async function reconcile(
  fx: ReconcileFixture,
): Promise<{ findings: Expected[]; report: { run: Record<string, unknown>; findings: Findings } }> {
  const res = await runCli(['reconcile', '--json', ...WINDOW, '--config', fx.configFile], {
    env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' },
  });
  if (res.code !== 1) throw new Error(`exit ${res.code}: ${res.stderr}`);
  const report = JSON.parse(res.stdout) as { run: Record<string, unknown>; findings: Findings };
  return {
    findings: sortFindings(
      report.findings.map((f) => ({ kind: f.kind, key: f.key, ...(f.cause ? { cause: f.cause } : {}) })),
    ),
    report,
  };
}

let state: TestDatabase;
const created: TestDatabase[] = [];
const fixtures: ReconcileFixture[] = [];

beforeAll(async () => {
  state = await createDatabase('smr_state');
});

afterAll(async () => {
  for (const f of fixtures) await f.cleanup();
  await Promise.all([state?.drop(), ...created.map((d) => d.drop())]);
});

describe.each(SCHEMA_MATRIX.map((s) => [s.id, s] as const))('reconcile on schema %s', (id, schema) => {
  let local: TestDatabase;
  let localRows: Canon[];
  let planted: ReturnType<typeof plant>;
  const localSide = (columns: Record<string, string> = schema.invoices.columns) => ({
    table: schema.invoices.table,
    columns,
    ...(schema.invoices.statusMap ? { statusMap: schema.invoices.statusMap } : {}),
    ...(schema.invoices.amountUnit ? { amountUnit: schema.invoices.amountUnit } : {}),
  });
  const fixture = async (reconcile: Record<string, unknown>): Promise<ReconcileFixture> => {
    const fx = await reconcileFixture({
      localUrl: local.url,
      stateUrl: state.url,
      reconcile: { backupLookup: 0, ...reconcile },
    });
    fixtures.push(fx);
    return fx;
  };

  beforeAll(async () => {
    local = await createDatabase(`smr_${id}`);
    created.push(local);
    await withClient(local.url, async (c) => {
      for (const sql of schema.setup(ROWS)) await c.query(sql);
    });
    localRows = await canonicalRows(local.url, schema);
    planted = plant(localRows);
  });

  it('against the tax platform export as CSV (UTF-8 with BOM), with the full mapping', async () => {
    const fx = await fixture({ local: localSide(), upstream: { type: 'file', path: 'exports/*.csv' } });
    await mkdir(path.join(fx.dir, 'exports'));
    const text = exportTable(planted.upstream)
      .map((cells) => cells.map(csvCell).join(','))
      .join('\r\n');
    await writeFile(path.join(fx.dir, 'exports', '全量发票查询导出结果.csv'), `\ufeff${text}\r\n`);
    const { findings, report } = await reconcile(fx);
    const compared = both(fieldsOf(schema), EXPORT_FIELDS);
    expect(findings).toEqual(expectedFor(planted, compared));
    expect(report.run.fields).toMatchObject({
      compared: ['key', 'issueDay', 'total', 'status', ...DETAIL_ORDER.filter((f) => compared.has(f))],
    });
    expect((report.run.fields as { notCompared: string[] }).notCompared).toEqual(
      DETAIL_ORDER.filter((f) => !compared.has(f)),
    );
  });

  it('against the export as xlsx, with a mapping of the required columns only (optional ones absent, not guessed)', async () => {
    const required = Object.fromEntries(
      Object.entries(schema.invoices.columns).filter(([k]) =>
        ['code', 'number', 'issuedAt', 'total', 'status'].includes(k),
      ),
    );
    const fx = await fixture({ local: localSide(required), upstream: { type: 'file', path: 'exports/*.xlsx' } });
    await mkdir(path.join(fx.dir, 'exports'));
    await writeFile(
      path.join(fx.dir, 'exports', 'export.xlsx'),
      writeXlsx([{ name: '信息汇总表', rows: exportTable(planted.upstream) }]),
    );
    const { findings, report } = await reconcile(fx);
    // only the issue time is read besides the required columns (unless it is a date)
    const compared = both(fieldsOf(schema, required), EXPORT_FIELDS);
    expect(findings).toEqual(expectedFor(planted, compared));
    const all = ['code', 'number', 'issuedAt', 'total', 'status', 'sellerTaxId', 'buyerTaxId', 'amount', 'tax', 'rate'];
    const notCompared = [
      'amount',
      'tax',
      'rate',
      'sellerTaxId',
      'buyerTaxId',
      ...(compared.has('issueTime') ? [] : ['issueTime']),
    ];
    expect(report.run.fields).toEqual({
      compared: ['key', 'issueDay', 'total', 'status', ...(compared.has('issueTime') ? ['issueTime'] : [])],
      notCompared,
      notMapped: { local: all.filter((k) => required[k] === undefined) },
      redLetters: 'paired',
    });
    // the terminal and the HTML report say it too (in zh-CN: the fixture's zone is Asia/Shanghai)
    const zh = (ids: string[]): string => ids.map((k) => FIELD_NAMES[k]!['zh-CN']).join('、');
    const left = zh(all.filter((k) => required[k] === undefined));
    const shown = ['key', 'issueDay', 'total', 'status', ...(compared.has('issueTime') ? ['issueTime'] : [])];
    const line = `比对字段：${zh(shown)}；未比对（仅作证据）：${zh(notCompared)}（本地映射未包含：${left}）；红字发票已配对`;
    const text = await runCli(['reconcile', ...WINDOW, '--config', fx.configFile], {
      env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' },
    });
    expect(text.stdout.split('\n')[1]).toBe(line);
    const html = (await readdir(path.join(fx.dir, 'reports'))).find((f) => f.endsWith('.html'))!;
    expect(await readFile(path.join(fx.dir, 'reports', html), 'utf8')).toContain(
      `<tr><th>比对字段</th><td>${line}</td></tr>`,
    );
    expect(describeFields(report.run.fields as ComparedFields)).toBe(
      `compared: ${shown.join(', ')}; not compared: ${notCompared.join(', ')} (local mapping leaves out ${all.filter((k) => required[k] === undefined).join(', ')}); red-letter invoices paired`,
    );
  });

  it(`against a postgres upstream of another schema (${UPSTREAM_OF[id]})`, async () => {
    const other = schemaById(UPSTREAM_OF[id]!);
    const upstream = await createDatabase(`smr_${id}_up`);
    created.push(upstream);
    await withClient(upstream.url, async (c) => {
      for (const sql of other.setup(0)) await c.query(sql);
      await c.query(
        `create temporary table canon (code text, number text, issued_at timestamptz, total_fen bigint, status text, amount_fen bigint, tax_fen bigint, seller text, buyer text)`,
      );
      await c.query(
        `insert into canon select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])`,
        [
          planted.upstream.map((r) => r.code),
          planted.upstream.map((r) => r.number),
          planted.upstream.map((r) => r.instant),
          planted.upstream.map((r) => r.totalFen),
          planted.upstream.map((r) => r.status),
          planted.upstream.map((r) => r.amountFen),
          planted.upstream.map((r) => r.taxFen),
          planted.upstream.map((r) => r.seller),
          planted.upstream.map((r) => r.buyer),
        ],
      );
      await c.query(other.load);
    });
    const fx = await fixture({
      local: localSide(),
      upstream: { type: 'postgres', url: upstream.url, ...{ ...localSideOf(other) } },
    });
    const { findings, report } = await reconcile(fx);
    const compared = both(fieldsOf(schema), fieldsOf(other));
    expect(findings).toEqual(expectedFor(planted, compared));
    expect(report.run.fields).toMatchObject({
      compared: ['key', 'issueDay', 'total', 'status', ...DETAIL_ORDER.filter((f) => compared.has(f))],
      redLetters: 'not checked: the upstream is not a file export',
    });
  });
});

function localSideOf(s: MatrixSchema): Record<string, unknown> {
  return {
    table: s.invoices.table,
    columns: s.invoices.columns,
    ...(s.invoices.statusMap ? { statusMap: s.invoices.statusMap } : {}),
    ...(s.invoices.amountUnit ? { amountUnit: s.invoices.amountUnit } : {}),
  };
}

describe('types refused up front, with one line naming the column, its type and what to do', () => {
  it('an integer-fen amount column without amountUnit', async () => {
    const schema = schemaById('fenenum');
    const db = await createDatabase('smr_refuse');
    created.push(db);
    await withClient(db.url, async (c) => {
      for (const sql of schema.setup(10)) await c.query(sql);
    });
    const fx = await reconcileFixture({
      localUrl: db.url,
      stateUrl: state.url,
      reconcile: {
        backupLookup: 0,
        local: { table: schema.invoices.table, columns: schema.invoices.columns, statusMap: schema.invoices.statusMap },
        upstream: { type: 'file', path: 'exports/*.csv' },
      },
    });
    fixtures.push(fx);
    const res = await runCli(['reconcile', ...WINDOW, '--config', fx.configFile], {
      env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' },
    });
    expect(res.code).toBe(2);
    expect(errorLine(res)).toBe(
      "fapiao-guard: reconcile.local.columns.total: column 'total_fen' of table public.einvoice (bigint) is an integer: say what it holds with reconcile.local.amountUnit: fen (or yuan)",
    );
    await rm(fx.dir, { recursive: true, force: true });
  });
});
