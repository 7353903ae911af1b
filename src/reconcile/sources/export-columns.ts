// The tax platform export's columns (docs/INVOICES.md): Chinese headers recognised out of the box,
// overridable per field; finds the header row under any title rows.
import type { RowField } from './upstream-row.js';

export const EXPORT_HEADERS: Record<RowField, readonly string[]> = {
  seq: ['序号'],
  code: ['发票代码'],
  number: ['发票号码'],
  digitalNumber: ['数电发票号码', '数电票号码', '全电发票号码'],
  sellerTaxId: ['销方识别号', '销售方纳税人识别号', '销方纳税人识别号', '销售方识别号'],
  buyerTaxId: ['购方识别号', '购买方纳税人识别号', '购方纳税人识别号', '购买方识别号'],
  issuedAt: ['开票日期', '开票时间'],
  itemName: ['货物或应税劳务名称', '货物或应税劳务、服务名称', '项目名称'],
  amount: ['金额'],
  tax: ['税额'],
  rate: ['税率', '税率/征收率'],
  total: ['价税合计'],
  status: ['发票状态'],
  originalCode: ['原发票代码', '对应蓝字发票代码', '蓝字发票代码'],
  originalNumber: [
    '原发票号码',
    '对应蓝字发票号码',
    '对应蓝字数电发票号码',
    '被红冲蓝字数电发票号码',
    '蓝字发票号码',
    '原数电发票号码',
  ],
  remarks: ['备注'],
};

/** The full header list of the platform's export, in its order (for writers of test and demo files). */
export const EXPORT_COLUMNS = [
  '序号',
  '发票代码',
  '发票号码',
  '数电发票号码',
  '销方识别号',
  '销方名称',
  '购方识别号',
  '购买方名称',
  '开票日期',
  '税收分类编码',
  '特定业务类型',
  '货物或应税劳务名称',
  '规格型号',
  '单位',
  '数量',
  '单价',
  '金额',
  '税率',
  '税额',
  '价税合计',
  '发票来源',
  '发票票种',
  '发票状态',
  '是否正数发票',
  '发票风险等级',
  '开票人',
  '备注',
] as const;

export function normaliseHeader(text: string): string {
  return text
    .replace(/^\ufeff/, '')
    .replace(/[\s\u3000*]/g, '')
    .replace(/（/g, '(')
    .replace(/）/g, ')')
    .toLowerCase();
}

export type ColumnMap = Partial<Record<RowField, number>>;

/** Column index per field for one header row; configured names win over the built-in ones. */
export function mapHeader(cells: readonly string[], overrides: Partial<Record<RowField, string>> = {}): ColumnMap {
  const index = new Map<string, number>();
  cells.forEach((c, i) => {
    const n = normaliseHeader(c);
    if (n !== '' && !index.has(n)) index.set(n, i);
  });
  const out: ColumnMap = {};
  for (const field of Object.keys(EXPORT_HEADERS) as RowField[]) {
    const names = overrides[field] !== undefined ? [overrides[field]!] : EXPORT_HEADERS[field];
    for (const name of names) {
      const i = index.get(normaliseHeader(name));
      if (i !== undefined) {
        out[field] = i;
        break;
      }
    }
  }
  return out;
}

/** Enough to reconcile: a key column, the issue date, and a total (or amount and tax). */
export function isUsableHeader(map: ColumnMap): boolean {
  return (
    (map.number !== undefined || map.digitalNumber !== undefined) &&
    map.issuedAt !== undefined &&
    (map.total !== undefined || (map.amount !== undefined && map.tax !== undefined))
  );
}

/** The first of the leading rows that is a usable header, with its map. */
export function findHeader(
  rows: ReadonlyArray<readonly string[]>,
  overrides?: Partial<Record<RowField, string>>,
  scan = 20,
): { index: number; map: ColumnMap } | undefined {
  for (let i = 0; i < Math.min(rows.length, scan); i++) {
    const map = mapHeader(rows[i]!, overrides);
    if (isUsableHeader(map)) return { index: i, map };
  }
  return undefined;
}
