// Canonical invoice statuses and the mappings into them: the tax platform's Chinese labels and
// numeric codes (docs/INVOICES.md), and a configured map for local tables (e.g. smallint 0/2/3).
import { CANONICAL_STATUSES, type CanonicalStatus } from './types.js';

/** Labels seen in exports and APIs, normalised (spaces and full-width punctuation removed). */
const LABELS: Record<string, CanonicalStatus> = {
  正常: 'valid',
  有效: 'valid',
  蓝字发票: 'valid',
  作废: 'voided',
  已作废: 'voided',
  红冲: 'red_flushed',
  已红冲: 'red_flushed',
  全额红冲: 'red_flushed',
  '已红冲-全额': 'red_flushed',
  已全额红冲: 'red_flushed',
  部分红冲: 'partially_red_flushed',
  '已红冲-部分': 'partially_red_flushed',
  已部分红冲: 'partially_red_flushed',
  失控: 'out_of_control',
  异常: 'abnormal',
  // numeric encodings: 0 正常, 1 失控, 2 作废, 3 红冲, 4 异常; some APIs 7 部分红冲, 8 全额红冲
  '0': 'valid',
  '1': 'out_of_control',
  '2': 'voided',
  '3': 'red_flushed',
  '4': 'abnormal',
  '7': 'partially_red_flushed',
  '8': 'red_flushed',
};

export function isCanonicalStatus(text: string): text is CanonicalStatus {
  return (CANONICAL_STATUSES as readonly string[]).includes(text);
}

/** An upstream status label or code → canonical, or undefined when unknown. */
export function parseStatus(text: string, map?: Readonly<Record<string, string>>): CanonicalStatus | undefined {
  const t = text.trim();
  const mapped = map?.[t];
  if (mapped !== undefined) return isCanonicalStatus(mapped) ? mapped : undefined;
  const lower = t.toLowerCase().replace(/[\s-]+/g, '_');
  if (isCanonicalStatus(lower)) return lower;
  const normal = t
    .replace(/\s+/g, '')
    .replace(/[－—–]/g, '-')
    .replace(/（/g, '(')
    .replace(/）/g, ')');
  return LABELS[normal];
}

/** A local raw status through the configured map; unmapped values stay visible as `unmapped:<raw>`. */
export function mapLocalStatus(raw: string | null, map: Readonly<Record<string, string>>): string {
  const text = raw ?? 'null';
  return map[text] ?? `unmapped:${text}`;
}

/**
 * The status map's strings reach SQL as bind parameters, never as quoted literals (a literal's
 * meaning depends on standard_conforming_strings). The SQL builders write a placeholder per map
 * entry; bindStatusParams numbers the ones a query uses after its own parameters.
 */
const STATUS_PARAM = /\$fg_status_(raw|canon)_(\d+)\b/g;
const param = (kind: 'raw' | 'canon', i: number): string => `$fg_status_${kind}_${i}::text`;

/** Replace the status placeholders in `sql` by bind parameters after `params`. */
export function bindStatusParams(
  sql: string,
  params: readonly unknown[],
  map: Readonly<Record<string, string>>,
): { sql: string; params: unknown[] } {
  const entries = Object.entries(map);
  const extra: unknown[] = [];
  const numbers = new Map<string, number>();
  const out = sql.replace(STATUS_PARAM, (token, kind: string, index: string) => {
    let n = numbers.get(token);
    if (n === undefined) {
      const entry = entries[Number(index)]!;
      extra.push(kind === 'raw' ? entry[0] : entry[1]);
      n = params.length + extra.length;
      numbers.set(token, n);
    }
    return `$${n}`;
  });
  return { sql: out, params: [...params, ...extra] };
}

/** SQL for mapLocalStatus over a column expression (placeholders: bindStatusParams). */
export function sqlStatusExpr(columnExpr: string, map: Readonly<Record<string, string>>): string {
  const text = `coalesce((${columnExpr})::text, 'null')`;
  const whens = Object.keys(map).map((_raw, i) => `when ${param('raw', i)} then ${param('canon', i)}`);
  return whens.length === 0
    ? `('unmapped:' || ${text})`
    : `(case ${text} ${whens.join(' ')} else 'unmapped:' || ${text} end)`;
}

/**
 * SQL for `hashtextextended(mapLocalStatus(raw), 0)` (the pg-hash method's status part). Mapped values
 * hash to constants the planner folds (bind parameters are constants in node-pg's unnamed
 * statements), and an integer column is compared as an integer, so a row costs one comparison
 * instead of a cast to text and a string match.
 */
export function sqlStatusHashExpr(
  columnExpr: string,
  map: Readonly<Record<string, string>>,
  integerColumn: boolean,
): string {
  const text = `coalesce((${columnExpr})::text, 'null')`;
  const hash = (lit: string): string => `hashtextextended(${lit}, 0)`;
  const unmapped = hash(`'unmapped:' || ${text}`);
  const entries = Object.keys(map);
  if (entries.length === 0) return unmapped;
  if (!integerColumn)
    return `(case ${text} ${entries.map((_raw, i) => `when ${param('raw', i)} then ${hash(param('canon', i))}`).join(' ')} else ${unmapped} end)`;
  // an integer's text is canonical ('0', '-3'): only such keys (and 'null') can ever match it;
  // the key is then a validated integer, safe as SQL text
  const whens = entries.flatMap((raw, i) =>
    raw === 'null'
      ? [`when ${columnExpr} is null then ${hash(param('canon', i))}`]
      : /^-?(0|[1-9][0-9]{0,17})$/.test(raw)
        ? [`when ${columnExpr} = ${raw} then ${hash(param('canon', i))}`]
        : [],
  );
  return whens.length === 0 ? unmapped : `(case ${whens.join(' ')} else ${unmapped} end)`;
}

export const STATUS_LABELS_ZH: Record<CanonicalStatus, string> = {
  valid: '正常',
  voided: '已作废',
  red_flushed: '已红冲-全额',
  partially_red_flushed: '已红冲-部分',
  out_of_control: '失控',
  abnormal: '异常',
};
