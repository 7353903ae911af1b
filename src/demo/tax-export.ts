// A tax-platform export (全量发票查询, sheet 信息汇总表) made from a sample invoice database with
// planted problems, each listed with the finding it should produce: for the demo and the tests.
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { csvCell } from '../reconcile/sources/csv.js';
import { EXPORT_COLUMNS } from '../reconcile/sources/export-columns.js';
import { encodeGb18030 } from '../reconcile/sources/text-decode.js';
import { writeXlsx } from './xlsx-writer.js';
import { wallTimeOf } from '../core/zoned-time.js';

export interface PlantCounts {
  missing: number;
  pending: number;
  extra: number;
  amount: number;
  status: number;
  typo: number;
  duplicate: number;
  invalid: number;
}

export interface TaxExportOptions {
  /** database with the sample table public.invoices */
  sourceUrl: string;
  /** .xlsx or .csv */
  out: string;
  timezone: string;
  /** window of days to export (inclusive); default everything */
  from?: string;
  to?: string;
  plant?: Partial<PlantCounts>;
  /** CSV only */
  encoding?: 'utf-8-bom' | 'gb18030';
  now?: Date;
}

export interface PlantedProblem {
  /** the finding kind it should cause, with its cause where one applies */
  kind: string;
  cause?: string;
  key: string;
  detail: string;
}

const DEFAULT_PLANT: PlantCounts = {
  missing: 3,
  pending: 2,
  extra: 3,
  amount: 2,
  status: 2,
  typo: 2,
  duplicate: 1,
  invalid: 2,
};
const STATUS_ZH: Record<string, string> = { '0': '正常', '1': '失控', '2': '已作废', '3': '已红冲-全额', '4': '异常' };

type Row = Record<(typeof EXPORT_COLUMNS)[number], string>;

interface Local {
  code: string | null;
  number: string;
  wall: string;
  seller: string;
  seller_name: string;
  buyer: string | null;
  buyer_name: string;
  amount: string;
  tax_rate: string;
  tax: string;
  total: string;
  status: string;
  kind: string;
}

function toRow(r: Local, seq: number): Row {
  const digital = r.code === null && r.number.length === 20;
  return {
    序号: String(seq),
    发票代码: digital ? '' : (r.code ?? ''),
    发票号码: digital ? '' : r.number,
    数电发票号码: digital ? r.number : '',
    销方识别号: r.seller,
    销方名称: r.seller_name,
    购方识别号: r.buyer ?? '',
    购买方名称: r.buyer_name,
    开票日期: r.wall,
    税收分类编码: '3040201990000000000',
    特定业务类型: '',
    货物或应税劳务名称: '',
    规格型号: '',
    单位: '',
    数量: '',
    单价: '',
    金额: r.amount,
    税率: `${Math.round(Number(r.tax_rate) * 100)}%`,
    税额: r.tax,
    价税合计: r.total,
    发票来源: '电子发票服务平台',
    发票票种: digital ? '数电发票（普通发票）' : r.kind === 'special' ? '增值税专用发票' : '增值税普通发票',
    发票状态: STATUS_ZH[r.status] ?? r.status,
    是否正数发票: '是',
    发票风险等级: '正常',
    开票人: '张三',
    备注: '',
  };
}

const keyOf = (r: Row): string => r.数电发票号码 || `${r.发票代码}-${r.发票号码}`;
const plus = (yuan: string, fen: number): string => ((Math.round(Number(yuan) * 100) + fen) / 100).toFixed(2);

export async function generateTaxExport(
  options: TaxExportOptions,
): Promise<{ file: string; rows: number; planted: PlantedProblem[] }> {
  const plant = { ...DEFAULT_PLANT, ...options.plant };
  const now = options.now ?? new Date();
  const client = new pg.Client({ connectionString: options.sourceUrl });
  await client.connect();
  let locals: Local[];
  try {
    locals = (
      await client.query<Local>(
        `select invoice_code as code, invoice_number as number, to_char(issued_at at time zone $1, 'YYYY-MM-DD HH24:MI:SS') as wall,
                seller_tax_id as seller, seller_name, buyer_tax_id as buyer, buyer_name, amount::text, tax_rate::text, tax_amount::text as tax,
                total_amount::text as total, status::text, kind
         from public.invoices
         where ($2::date is null or issued_at >= ($2::date::timestamp at time zone $1)) and ($3::date is null or issued_at < (($3::date + 1)::timestamp at time zone $1))
         order by issued_at, id`,
        [options.timezone, options.from ?? null, options.to ?? null],
      )
    ).rows;
  } finally {
    await client.end();
  }
  const rows = locals.map((r, i) => toRow(r, i + 1));
  const planted: PlantedProblem[] = [];
  // Disjoint victims spread over the window, never among the newest rows (those are pending sync).
  const usable = rows.slice(0, Math.max(0, rows.length - 50));
  let cursor = 7;
  const pick = (predicate: (r: Row) => boolean = () => true): Row | undefined => {
    for (let tries = 0; tries < usable.length; tries++) {
      cursor = (cursor + 97) % Math.max(1, usable.length);
      const r = usable[cursor];
      if (r && !(r as { _used?: boolean })._used && predicate(r)) {
        (r as { _used?: boolean })._used = true;
        return r;
      }
    }
    return undefined;
  };
  const dropped = new Set<Row>();
  for (let i = 0; i < plant.extra; i++) {
    const r = pick();
    if (r) {
      dropped.add(r);
      planted.push({ kind: 'extra', key: keyOf(r), detail: 'left out of the export' });
    }
  }
  for (let i = 0; i < plant.amount; i++) {
    const r = pick();
    if (!r) continue;
    r.价税合计 = plus(r.价税合计, 100);
    r.金额 = plus(r.金额, 100);
    planted.push({ kind: 'amount_mismatch', key: keyOf(r), detail: 'total raised by 1.00 upstream' });
  }
  for (let i = 0; i < plant.status; i++) {
    const r = pick((x) => x.发票状态 === '正常');
    if (r) {
      r.发票状态 = '已作废';
      planted.push({ kind: 'status_mismatch', key: keyOf(r), detail: 'voided upstream, valid locally' });
    }
  }
  for (let i = 0; i < plant.typo; i++) {
    const r = pick((x) => x.发票号码.length === 8 && x.发票号码[6] !== x.发票号码[7]);
    if (!r) continue;
    const local = keyOf(r);
    const n = r.发票号码;
    r.发票号码 = `${n.slice(0, 6)}${n[7]}${n[6]}`;
    planted.push({
      kind: 'missing',
      cause: 'probable_typo',
      key: keyOf(r),
      detail: `digits swapped; the local table has ${local}`,
    });
    planted.push({
      kind: 'extra',
      cause: 'probable_typo',
      key: local,
      detail: `typed differently upstream (${keyOf(r)})`,
    });
  }
  const extraRows: Row[] = [];
  for (let i = 0; i < plant.duplicate; i++) {
    const r = pick();
    if (r) {
      extraRows.push({ ...r });
      planted.push({ kind: 'duplicate', key: keyOf(r), detail: 'exported twice' });
    }
  }
  const template = usable[0] ?? rows[0];
  const fabricate = (i: number, wall: string, tag: string): Row => {
    const yy = wall.slice(2, 4);
    return {
      ...template!,
      发票代码: '',
      发票号码: '',
      数电发票号码: `${yy}449${String(i).padStart(15, '0')}`,
      开票日期: wall,
      价税合计: '1130.00',
      金额: '1000.00',
      税额: '130.00',
      发票状态: '正常',
      备注: tag,
    };
  };
  for (let i = 0; i < plant.missing; i++) {
    const base = usable[Math.floor(((i + 1) * usable.length) / (plant.missing + 1))] ?? template;
    if (!base) continue;
    const r = fabricate(i + 1, base.开票日期, 'planted: missing');
    extraRows.push(r);
    planted.push({ kind: 'missing', key: keyOf(r), detail: 'in the export only' });
  }
  for (let i = 0; i < plant.pending; i++) {
    const w = wallTimeOf(new Date(now.getTime() - (10 + i) * 60_000), options.timezone);
    const wall = `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')} ${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}:${String(w.second).padStart(2, '0')}`;
    const r = fabricate(500 + i, wall, 'planted: pending');
    extraRows.push(r);
    planted.push({ kind: 'missing', cause: 'pending_sync', key: keyOf(r), detail: 'issued minutes ago' });
  }
  for (let i = 0; i < plant.invalid; i++) {
    const r = pick((x) => x.数电发票号码 !== '');
    if (!r) continue;
    planted.push({ kind: 'invalid_input', key: keyOf(r), detail: 'Excel turned the 20-digit number into 2.41E+19' });
    planted.push({ kind: 'extra', key: keyOf(r), detail: 'its upstream row is unreadable' });
    r.数电发票号码 = `${r.数电发票号码.slice(0, 1)}.${r.数电发票号码.slice(1, 3)}E+19`;
  }
  const out = [...rows.filter((r) => !dropped.has(r)), ...extraRows].map((r, i) => ({ ...r, 序号: String(i + 1) }));
  const table = [[...EXPORT_COLUMNS], ...out.map((r) => EXPORT_COLUMNS.map((c) => r[c]))];
  if (options.out.toLowerCase().endsWith('.csv')) {
    const text = table.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
    await writeFile(options.out, options.encoding === 'gb18030' ? encodeGb18030(text) : `\ufeff${text}`);
  } else {
    await writeFile(options.out, writeXlsx([{ name: '信息汇总表', rows: table }]));
  }
  return { file: options.out, rows: out.length, planted };
}
