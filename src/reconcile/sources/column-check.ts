// Does a reconcile column mapping fit the columns a table or query really has? Pure: the mapping
// and the catalog (names and types, read by pg-catalog.ts) in, one verdict per mapped field out,
// saying how the column will be read or why it cannot be and what to do. PgSource.open refuses a
// side with the first problem; `doctor` can print every line.
import type { PgColumns } from '../model/types.js';

/** One column as the catalog describes it. */
export interface CatalogColumn {
  name: string;
  /** format_type(): `numeric(14,2)`, `timestamp without time zone`, `invoice_state` */
  type: string;
  /** the base type's name, domains resolved: int8, numeric, money, timestamptz, text, … */
  base: string;
  /** the base type is an enum: its labels */
  enumLabels?: string[];
  /** numeric's declared scale (undefined when unconstrained or not numeric) */
  scale?: number;
}

export type TimeKind = 'timestamptz' | 'timestamp' | 'date' | 'text';
/** yuan: numeric yuan; yuan-int: an integer of whole yuan; fen: an integer (or numeric) of fen; money: PostgreSQL money (yuan) */
export type AmountKind = 'yuan' | 'yuan-int' | 'fen' | 'money';

export interface MappingToCheck {
  columns: PgColumns;
  statusMap: Readonly<Record<string, string>>;
  amountUnit?: 'yuan' | 'fen';
}

export interface ColumnCheck {
  field: keyof PgColumns;
  column: string;
  ok: boolean;
  /** the column's type, when the column exists */
  type?: string;
  /** ok: how it will be read */
  readAs?: string;
  /** not ok: what is wrong and what to do, one line */
  problem?: string;
}

/** How the SQL builders read the side (pg-sql.ts PgShape). */
export interface ColumnPlan {
  timeKind: TimeKind;
  amounts: { total: AmountKind; amount?: AmountKind; tax?: AmountKind };
  statusInteger: boolean;
  /** the total holds at most 2 decimals by type, so no per-row rounding is needed */
  totalScale2: boolean;
}

const TEXT = new Set(['text', 'varchar', 'bpchar', 'name', 'citext']);
const INTEGER = new Set(['int2', 'int4', 'int8']);
const FLOAT = new Set(['float4', 'float8']);

type Verdict = { readAs: string; problem?: undefined } | { problem: string; readAs?: undefined };

function keyColumn(c: CatalogColumn, what: string): Verdict {
  if (TEXT.has(c.base)) return { readAs: `${what}, as text (spaces at either end ignored)` };
  if (INTEGER.has(c.base) || c.base === 'numeric')
    return {
      problem: `holds numbers, which lose leading zeros: store it as text, or map a query with lpad(${c.name}::text, N, '0')`,
    };
  return { problem: `is not a text type: cast it to text in reconcile.*.query` };
}

function timeColumn(c: CatalogColumn, timezone: string): Verdict & { kind?: TimeKind } {
  if (c.base === 'timestamptz') return { readAs: `instant; its day and hour in ${timezone}`, kind: 'timestamptz' };
  if (c.base === 'timestamp')
    return { readAs: `wall-clock time in ${timezone} (the configured timezone)`, kind: 'timestamp' };
  if (c.base === 'date')
    return { readAs: `calendar day in ${timezone} (no time of day: hour 0, listed by hour and key)`, kind: 'date' };
  if (TEXT.has(c.base))
    return { readAs: `ISO text: with an offset an instant, without one wall-clock time in ${timezone}`, kind: 'text' };
  return { problem: 'is not timestamptz, timestamp, date or ISO text: cast it in reconcile.*.query' };
}

function amountColumn(
  c: CatalogColumn,
  unit: 'yuan' | 'fen' | undefined,
  unitKey: string,
): Verdict & { kind?: AmountKind } {
  if (c.base === 'numeric')
    return unit === 'fen'
      ? { readAs: 'fen (amountUnit: fen)', kind: 'fen' }
      : { readAs: 'yuan, rounded half away from zero to the fen', kind: 'yuan' };
  if (INTEGER.has(c.base)) {
    if (unit === 'fen') return { readAs: 'integer fen (amountUnit: fen)', kind: 'fen' };
    if (unit === 'yuan') return { readAs: 'whole yuan (amountUnit: yuan)', kind: 'yuan-int' };
    return { problem: `is an integer: say what it holds with ${unitKey}: fen (or yuan)` };
  }
  if (c.base === 'money')
    return unit === 'fen'
      ? { problem: `is money, which holds yuan: remove ${unitKey}: fen` }
      : { readAs: 'money, in yuan', kind: 'money' };
  if (FLOAT.has(c.base))
    return {
      problem: `is floating point, which cannot hold every fen exactly: change it to numeric(14,2), or map a query with round(${c.name}::numeric, 2)`,
    };
  return { problem: 'is not numeric, an integer or money: cast it in reconcile.*.query' };
}

function rateColumn(c: CatalogColumn): Verdict {
  if (c.base === 'numeric' || INTEGER.has(c.base))
    return { readAs: 'tax rate: a value under 0.2 is a fraction (0.13), from 0.2 on a percentage (13)' };
  if (FLOAT.has(c.base))
    return {
      problem: `is floating point: change it to numeric(5,4), or map a query with round(${c.name}::numeric, 4)`,
    };
  if (TEXT.has(c.base)) return { problem: `is text: map a query with replace(${c.name}, '%', '')::numeric (13% → 13)` };
  return { problem: 'is not numeric or an integer: cast it in reconcile.*.query' };
}

function statusColumn(
  c: CatalogColumn,
  map: Readonly<Record<string, string>>,
  mapKey: string,
): Verdict & { integer?: boolean } {
  if (c.enumLabels) {
    const unmapped = c.enumLabels.filter((l) => map[l] === undefined);
    if (unmapped.length > 0)
      return {
        problem: `is an enum whose labels ${unmapped.map((l) => `'${l}'`).join(', ')} have no entry in ${mapKey}: add them (valid, voided, red_flushed, …)`,
      };
    return { readAs: `enum, through ${mapKey}` };
  }
  if (INTEGER.has(c.base)) return { readAs: `integer code, through ${mapKey}`, integer: true };
  if (TEXT.has(c.base) || c.base === 'bool')
    return { readAs: `${c.base === 'bool' ? 'true/false' : 'text'}, through ${mapKey}` };
  return { problem: `is not text, an integer, boolean or an enum: cast it in reconcile.*.query` };
}

/**
 * Check every mapped column of a side against the catalog. `where` is the side's config path
 * (`reconcile.local`), `timezone` the configured zone. The plan is present when every check passed.
 */
export function checkReconcileMapping(
  mapping: MappingToCheck,
  catalog: readonly CatalogColumn[],
  options: { where: string; timezone: string },
): { checks: ColumnCheck[]; plan?: ColumnPlan } {
  const byName = new Map(catalog.map((c) => [c.name, c]));
  const checks: ColumnCheck[] = [];
  const plan: Omit<Partial<ColumnPlan>, 'amounts'> & { amounts: Partial<ColumnPlan['amounts']> } = {
    amounts: {},
    statusInteger: false,
    totalScale2: false,
  };
  const unitKey = `${options.where}.amountUnit`;
  for (const [field, column] of Object.entries(mapping.columns) as Array<[keyof PgColumns, string | undefined]>) {
    if (column === undefined) continue;
    const c = byName.get(column);
    if (!c) {
      const known = catalog.map((k) => k.name);
      checks.push({
        field,
        column,
        ok: false,
        problem: `has no column '${column}' (it has ${known.length > 12 ? `${known.slice(0, 12).join(', ')}, …` : known.join(', ')})`,
      });
      continue;
    }
    let v: Verdict;
    if (field === 'issuedAt') {
      const t = timeColumn(c, options.timezone);
      if (t.kind) plan.timeKind = t.kind;
      v = t;
    } else if (field === 'total' || field === 'amount' || field === 'tax') {
      const a = amountColumn(c, mapping.amountUnit, unitKey);
      if (a.kind) plan.amounts[field] = a.kind;
      if (field === 'total')
        plan.totalScale2 =
          a.kind === 'money' || a.kind === 'yuan-int' || (a.kind === 'yuan' && c.scale !== undefined && c.scale <= 2);
      v = a;
    } else if (field === 'status') {
      const s = statusColumn(c, mapping.statusMap, `${options.where}.statusMap`);
      plan.statusInteger = s.integer === true;
      v = s;
    } else if (field === 'rate') v = rateColumn(c);
    else
      v = keyColumn(
        c,
        field === 'code' || field === 'number' ? `part of the invoice key` : 'compared with upstream (party_mismatch)',
      );
    checks.push(
      v.problem !== undefined
        ? { field, column, ok: false, type: c.type, problem: v.problem }
        : { field, column, ok: true, type: c.type, readAs: v.readAs },
    );
  }
  if (checks.some((c) => !c.ok) || !plan.timeKind || !plan.amounts.total) return { checks };
  return {
    checks,
    plan: { ...plan, timeKind: plan.timeKind, amounts: { ...plan.amounts, total: plan.amounts.total } } as ColumnPlan,
  };
}

/** The first problem as one line: `reconcile.local.columns.total: column 'x' of <what> (bigint) is an integer: …`. */
export function describeProblem(check: ColumnCheck, where: string, what: string): string {
  if (check.type === undefined) return `${where}.columns.${check.field}: ${what} ${check.problem}`;
  return `${where}.columns.${check.field}: column '${check.column}' of ${what} (${check.type}) ${check.problem}`;
}
