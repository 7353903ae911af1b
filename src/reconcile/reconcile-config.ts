// The `reconcile:` configuration section: schema → normalised ReconcileConfig, every problem
// reported with its path (the Reader collects them). A column mapping means what it says: the
// columns it names and no others; the sample invoice table's defaults apply only when a side gives
// no `columns` at all.
import { parseDuration } from '../core/config/duration.js';
import type { Reader } from '../core/config/reader.js';
import { parseColumnName, parseTableName } from '../core/pg/identifier.js';
import { type InputLimits, readInputLimits } from './sources/input-limits.js';
import type { PgColumns } from './sources/pg-sql.js';
import { isCanonicalStatus } from './model/invoice-status.js';
import type { Encoding } from './sources/text-decode.js';
import { CANONICAL_STATUSES, DEFAULT_FAIL_ON, FINDING_KINDS, type FindingKind } from './model/types.js';
import { ROW_FIELDS, type RowField } from './sources/upstream-row.js';
import { isDay } from '../core/zoned-time.js';
import { DEFAULT_REPORT_DIR } from '../core/config/report-dir.js';

export interface PgSideConfig {
  type: 'postgres';
  /** a target name (its url), or an explicit url */
  target?: string;
  url?: string;
  table?: string;
  query?: string;
  columns: PgColumns;
  statusMap: Record<string, string>;
  /** what integer amount columns hold; absent: numeric and money are yuan, an integer column is refused */
  amountUnit?: AmountUnit;
}

export type AmountUnit = 'yuan' | 'fen';

export interface FileSideConfig {
  type: 'file';
  path: string;
  encoding: Encoding;
  sheet: string;
  lineItems: 'auto' | boolean;
  columns: Partial<Record<RowField, string>>;
  statusMap?: Record<string, string>;
}

export interface HttpSideConfig {
  type: 'http';
  url: string;
  token?: string;
  timeoutMs: number;
  retries: number;
  maxRetryWaitMs: number;
  pageSize: number;
  statusMap?: Record<string, string>;
}

export type UpstreamConfig = PgSideConfig | FileSideConfig | HttpSideConfig;

export interface ReconcileConfig {
  window: { days: number } | { from: string; to: string };
  syncLagSeconds: number;
  partition?: 'sellerTaxId' | 'buyerTaxId';
  listLimit: number;
  reportDir: string;
  local: PgSideConfig;
  upstream: UpstreamConfig;
  failOn: FindingKind[];
  /** newest backups of the local target whose key index is searched for missing invoices (0: off) */
  backupLookup: number;
  /** input-limits.ts; absent: the defaults */
  limits?: InputLimits;
}

export const DEFAULT_LOCAL_COLUMNS: PgColumns = {
  code: 'invoice_code',
  number: 'invoice_number',
  issuedAt: 'issued_at',
  total: 'total_amount',
  status: 'status',
  sellerTaxId: 'seller_tax_id',
  buyerTaxId: 'buyer_tax_id',
  amount: 'amount',
  tax: 'tax_amount',
  rate: 'tax_rate',
};
/** The tax platform's numeric codes (docs/INVOICES.md), and the canonical words as themselves. */
export const DEFAULT_STATUS_MAP: Record<string, string> = {
  '0': 'valid',
  '1': 'out_of_control',
  '2': 'voided',
  '3': 'red_flushed',
  '4': 'abnormal',
  ...Object.fromEntries(CANONICAL_STATUSES.map((s) => [s, s])),
};
export const PG_COLUMN_KEYS = [
  'code',
  'number',
  'issuedAt',
  'total',
  'status',
  'sellerTaxId',
  'buyerTaxId',
  'amount',
  'tax',
  'rate',
] as const;
export const REQUIRED_PG_COLUMNS = ['number', 'issuedAt', 'total', 'status'] as const;

function duration(r: Reader, key: string, fallback: string): number {
  const text = r.string(key, { fallback })!;
  const s = parseDuration(text);
  if (s === undefined) r.issues.add(`${r.path}.${key}`, `'${text}' is not a duration like 90s, 15m, 2h`);
  return s ?? parseDuration(fallback)!;
}

function statusMap(r: Reader, key: string): Record<string, string> | undefined {
  if (!r.has(key)) return undefined;
  const m = r.object(key);
  const out: Record<string, string> = {};
  for (const raw of Object.keys(m.isObject() ? (m.value as object) : {})) {
    const v = m.string(raw);
    if (v !== undefined && !isCanonicalStatus(v))
      m.issues.add(
        `${m.path}.${raw}`,
        `'${v}' is not a status (valid, voided, red_flushed, partially_red_flushed, out_of_control, abnormal)`,
      );
    else if (v !== undefined) out[raw] = v;
  }
  return out;
}

function pgSide(r: Reader, local: boolean): PgSideConfig {
  r.only(['type', 'target', 'url', 'table', 'query', 'columns', 'statusMap', 'amountUnit']);
  const target = r.string('target');
  const url = r.string('url', { pattern: /^postgres(ql)?:\/\//, patternHint: 'must be a postgres:// URL' });
  const table = r.string('table');
  if (table !== undefined) {
    const parsed = parseTableName(table);
    if (!parsed.ok) r.issues.add(`${r.path}.table`, `'${table}' ${parsed.error}`);
  }
  const query = r.string('query');
  if (table && query) r.issues.add(r.path, 'give table or query, not both');
  if (!local && !table && !query) r.issues.add(`${r.path}.table`, 'required (or query)');
  if (!local && !target && !url) r.issues.add(`${r.path}.url`, 'required (or target)');
  const amountUnit = r.has('amountUnit') ? r.oneOf('amountUnit', ['yuan', 'fen'] as const, 'yuan') : undefined;
  // no mapping at all: the sample table's column names; a mapping: exactly its columns
  const mapped = r.has('columns');
  const c = r.object('columns');
  c.only(PG_COLUMN_KEYS);
  const columns: Record<string, string> = mapped ? {} : { ...DEFAULT_LOCAL_COLUMNS };
  for (const k of PG_COLUMN_KEYS) {
    const v = c.string(k);
    if (v === undefined) continue;
    const name = parseColumnName(v);
    if (name.ok) columns[k] = name.value;
    else c.issues.add(`${c.path}.${k}`, `'${v}' ${name.error}`);
  }
  if (mapped)
    for (const k of REQUIRED_PG_COLUMNS)
      if (!c.has(k)) c.issues.add(`${c.path}.${k}`, 'required (a mapping names every column it uses)');
  return {
    type: 'postgres',
    ...(target ? { target } : {}),
    ...(url ? { url } : {}),
    ...(query ? { query } : { table: table ?? 'public.invoices' }),
    columns: columns as unknown as PgColumns,
    statusMap: statusMap(r, 'statusMap') ?? { ...DEFAULT_STATUS_MAP },
    ...(amountUnit ? { amountUnit } : {}),
  };
}

function upstreamSide(r: Reader): UpstreamConfig {
  const type = r.oneOf('type', ['file', 'postgres', 'http'] as const, 'file');
  if (type === 'postgres') return pgSide(r, false);
  const map = statusMap(r, 'statusMap');
  if (type === 'http') {
    r.only(['type', 'url', 'token', 'timeout', 'retries', 'maxRetryWait', 'pageSize', 'statusMap']);
    const token = r.string('token');
    const url =
      r.string('url', { required: true, pattern: /^https?:\/\//, patternHint: 'must be an http:// or https:// URL' }) ??
      '';
    // user:password@ is sent as an Authorization: Basic header (http-client.ts); with a token too, one would be ignored
    if (token && /^https?:\/\/[^/?#]*@/.test(url))
      r.issues.add(
        r.path ? `${r.path}.url` : 'url',
        'has user:password@ and a token is set too: keep one (the token is sent as a bearer token)',
      );
    return {
      type,
      url,
      ...(token ? { token } : {}),
      timeoutMs: duration(r, 'timeout', '30s') * 1000,
      retries: r.number('retries', { fallback: 3, min: 0, max: 10, integer: true })!,
      maxRetryWaitMs: duration(r, 'maxRetryWait', '60s') * 1000,
      pageSize: r.number('pageSize', { fallback: 1000, min: 1, max: 100_000, integer: true })!,
      ...(map ? { statusMap: map } : {}),
    };
  }
  r.only(['type', 'path', 'encoding', 'sheet', 'lineItems', 'columns', 'statusMap']);
  const c = r.object('columns');
  c.only(ROW_FIELDS);
  const columns: Partial<Record<RowField, string>> = {};
  for (const k of ROW_FIELDS) {
    const v = c.string(k);
    if (v !== undefined) columns[k] = v;
  }
  const lineItems = r.has('lineItems') && r.string('lineItems') !== 'auto' ? r.boolean('lineItems', false) : 'auto';
  return {
    type,
    path: r.string('path', { required: true }) ?? '',
    encoding: r.oneOf('encoding', ['auto', 'utf-8', 'gb18030', 'gbk', 'utf-16le'] as const, 'auto'),
    sheet: r.string('sheet', { fallback: '信息汇总表' })!,
    lineItems,
    columns,
    ...(map ? { statusMap: map } : {}),
  };
}

/** The section, or undefined when the configuration has none. */
export function readReconcileConfig(r: Reader): ReconcileConfig | undefined {
  if (!r.isObject() || Object.keys(r.value as object).length === 0) return undefined;
  r.only([
    'window',
    'syncLag',
    'partition',
    'listLimit',
    'reportDir',
    'local',
    'upstream',
    'failOn',
    'backupLookup',
    'limits',
  ]);
  const w = r.object('window');
  w.only(['days', 'from', 'to']);
  let window: ReconcileConfig['window'] = { days: 35 };
  if (w.has('from') || w.has('to')) {
    const from = w.string('from', { required: true }) ?? '';
    const to = w.string('to', { required: true }) ?? '';
    for (const [k, v] of [
      ['from', from],
      ['to', to],
    ] as const)
      if (v && !isDay(v)) w.issues.add(`${w.path}.${k}`, `'${v}' is not a date like 2026-11-01`);
    if (isDay(from) && isDay(to) && from > to) w.issues.add(w.path, 'from is after to');
    if (w.has('days')) w.issues.add(w.path, 'give days, or from and to, not both');
    window = { from, to };
  } else window = { days: w.number('days', { fallback: 35, min: 1, max: 3660, integer: true })! };
  const failOn = r.has('failOn') ? r.strings('failOn') : [...DEFAULT_FAIL_ON];
  failOn.forEach((k, i) => {
    if (!(FINDING_KINDS as readonly string[]).includes(k))
      r.issues.add(`${r.path}.failOn[${i}]`, `'${k}' is not one of ${FINDING_KINDS.join(', ')}`);
  });
  const partition = r.has('partition')
    ? r.oneOf('partition', ['sellerTaxId', 'buyerTaxId'] as const, 'sellerTaxId')
    : undefined;
  const local = pgSide(r.object('local'), true);
  const upstream = upstreamSide(r.object('upstream'));
  if (partition && !local.columns[partition])
    r.issues.add(`${r.path}.local.columns.${partition}`, `required when partition is ${partition}`);
  return {
    window,
    syncLagSeconds: duration(r, 'syncLag', '2h'),
    ...(partition ? { partition } : {}),
    listLimit: r.number('listLimit', { fallback: 2000, min: 10, max: 1_000_000, integer: true })!,
    reportDir: r.string('reportDir', { fallback: DEFAULT_REPORT_DIR })!,
    local,
    upstream,
    failOn: failOn.filter((k): k is FindingKind => (FINDING_KINDS as readonly string[]).includes(k)),
    backupLookup: r.number('backupLookup', { fallback: 7, min: 0, max: 366, integer: true })!,
    limits: readInputLimits(r.object('limits')),
  };
}

/**
 * The backup target whose table is the local side (`local.target`, or the only target when the
 * side names neither target nor url), when the side is a table: that target's backups then carry
 * the table's key index, and reconcile searches them. Undefined for a url or a query.
 */
export function localTableTarget(
  rc: ReconcileConfig,
  targetNames: readonly string[],
): { target: string; table: string } | undefined {
  const side = rc.local;
  if (side.query || !side.table || side.url) return undefined;
  const target = side.target ?? (targetNames.length === 1 ? targetNames[0] : undefined);
  return target !== undefined && targetNames.includes(target) ? { target, table: side.table } : undefined;
}
