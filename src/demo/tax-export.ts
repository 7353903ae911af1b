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
  const rows = (await readLocalInvoices(options)).map((r, i) => toRow(r, i + 1));
  const planter = new Planter(rows);
  planter.leaveOut(plant.extra);
  planter.raiseTotals(plant.amount);
  planter.voidUpstream(plant.status);
  planter.swapDigits(plant.typo);
  planter.exportTwice(plant.duplicate);
  planter.addMissing(plant.missing);
  planter.addPending(plant.pending, now, options.timezone);
  planter.garbleNumbers(plant.invalid);
  const out = planter.exported();
  await writeExport(options, [[...EXPORT_COLUMNS], ...out.map((r) => EXPORT_COLUMNS.map((c) => r[c]))]);
  return { file: options.out, rows: out.length, planted: planter.planted };
}

/** The sample invoices in the window, oldest first, with their issue time as wall time in `timezone`. */
async function readLocalInvoices(options: TaxExportOptions): Promise<Local[]> {
  const client = new pg.Client({ connectionString: options.sourceUrl });
  await client.connect();
  try {
    return (
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
}

/** .csv (UTF-8 with BOM, or GB18030) or .xlsx (sheet 信息汇总表), by the file's extension. */
async function writeExport(options: TaxExportOptions, table: string[][]): Promise<void> {
  if (options.out.toLowerCase().endsWith('.csv')) {
    const text = table.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
    await writeFile(options.out, options.encoding === 'gb18030' ? encodeGb18030(text) : `\ufeff${text}`);
  } else {
    await writeFile(options.out, writeXlsx([{ name: '信息汇总表', rows: table }]));
  }
}

/**
 * Plants the problems into the exported rows, one kind per method, in the order the methods are
 * called (the victims depend on it). Victims are disjoint and spread over the window, never among
 * the newest rows (those are pending sync).
 */
class Planter {
  readonly planted: PlantedProblem[] = [];
  readonly #rows: Row[];
  readonly #usable: Row[];
  readonly #used = new Set<Row>();
  readonly #dropped = new Set<Row>();
  readonly #added: Row[] = [];
  #cursor = 7;

  constructor(rows: Row[]) {
    this.#rows = rows;
    this.#usable = rows.slice(0, Math.max(0, rows.length - 50));
  }

  /** The rows as exported: what was left out dropped, what was added appended, numbered again. */
  exported(): Row[] {
    const kept = this.#rows.filter((r) => !this.#dropped.has(r));
    return [...kept, ...this.#added].map((r, i) => ({ ...r, 序号: String(i + 1) }));
  }

  leaveOut(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick();
      if (r) {
        this.#dropped.add(r);
        this.planted.push({ kind: 'extra', key: keyOf(r), detail: 'left out of the export' });
      }
    }
  }

  raiseTotals(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick();
      if (!r) continue;
      r.价税合计 = plus(r.价税合计, 100);
      r.金额 = plus(r.金额, 100);
      this.planted.push({ kind: 'amount_mismatch', key: keyOf(r), detail: 'total raised by 1.00 upstream' });
    }
  }

  voidUpstream(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick((x) => x.发票状态 === '正常');
      if (r) {
        r.发票状态 = '已作废';
        this.planted.push({ kind: 'status_mismatch', key: keyOf(r), detail: 'voided upstream, valid locally' });
      }
    }
  }

  swapDigits(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick((x) => x.发票号码.length === 8 && x.发票号码[6] !== x.发票号码[7]);
      if (!r) continue;
      const local = keyOf(r);
      const n = r.发票号码;
      r.发票号码 = `${n.slice(0, 6)}${n[7]}${n[6]}`;
      this.planted.push({
        kind: 'missing',
        cause: 'probable_typo',
        key: keyOf(r),
        detail: `digits swapped; the local table has ${local}`,
      });
      this.planted.push({
        kind: 'extra',
        cause: 'probable_typo',
        key: local,
        detail: `typed differently upstream (${keyOf(r)})`,
      });
    }
  }

  exportTwice(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick();
      if (r) {
        this.#added.push({ ...r });
        this.planted.push({ kind: 'duplicate', key: keyOf(r), detail: 'exported twice' });
      }
    }
  }

  /** Invoices only the export has, spread over the window. */
  addMissing(count: number): void {
    const usable = this.#usable;
    for (let i = 0; i < count; i++) {
      const base = usable[Math.floor(((i + 1) * usable.length) / (count + 1))] ?? this.#template();
      if (!base) continue;
      const r = this.#fabricate(i + 1, base.开票日期, 'planted: missing');
      this.#added.push(r);
      this.planted.push({ kind: 'missing', key: keyOf(r), detail: 'in the export only' });
    }
  }

  /** Invoices issued minutes before `now`: missing locally because the sync has not caught up. */
  addPending(count: number, now: Date, timezone: string): void {
    for (let i = 0; i < count; i++) {
      const wall = wallText(new Date(now.getTime() - (10 + i) * 60_000), timezone);
      const r = this.#fabricate(500 + i, wall, 'planted: pending');
      this.#added.push(r);
      this.planted.push({ kind: 'missing', cause: 'pending_sync', key: keyOf(r), detail: 'issued minutes ago' });
    }
  }

  /** 20-digit numbers as Excel shows them once it has made a number of them. */
  garbleNumbers(count: number): void {
    for (let i = 0; i < count; i++) {
      const r = this.#pick((x) => x.数电发票号码 !== '');
      if (!r) continue;
      this.planted.push({
        kind: 'invalid_input',
        key: keyOf(r),
        detail: 'Excel turned the 20-digit number into 2.41E+19',
      });
      this.planted.push({ kind: 'extra', key: keyOf(r), detail: 'its upstream row is unreadable' });
      r.数电发票号码 = `${r.数电发票号码.slice(0, 1)}.${r.数电发票号码.slice(1, 3)}E+19`;
    }
  }

  /** The next unused usable row that satisfies `predicate`, stepping 97 rows at a time. */
  #pick(predicate: (r: Row) => boolean = () => true): Row | undefined {
    const usable = this.#usable;
    for (let tries = 0; tries < usable.length; tries++) {
      this.#cursor = (this.#cursor + 97) % Math.max(1, usable.length);
      const r = usable[this.#cursor];
      if (r && !this.#used.has(r) && predicate(r)) {
        this.#used.add(r);
        return r;
      }
    }
    return undefined;
  }

  #template(): Row | undefined {
    return this.#usable[0] ?? this.#rows[0];
  }

  #fabricate(i: number, wall: string, tag: string): Row {
    const yy = wall.slice(2, 4);
    return {
      ...this.#template()!,
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
  }
}

/** An instant as 'YYYY-MM-DD HH:MM:SS' wall time in `timezone`. */
function wallText(at: Date, timezone: string): string {
  const w = wallTimeOf(at, timezone);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
}
