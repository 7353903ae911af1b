// What a run compares, and what it does not (pure, from the configuration and the fields both
// sources read): recorded in every report so an auditor sees which fields a clean result vouches for.
import { PG_COLUMN_KEYS, type ReconcileConfig, type PgSideConfig } from './reconcile-config.js';
import { DETAIL_FIELDS, type DetailField } from './model/types.js';

export interface ComparedFields {
  /** compared for every invoice: its key (code + number), issue day, total and status, the partition field when set, and the detail fields both sides read */
  compared: string[];
  /** detail fields (金额 amount, 税额 tax, 税率 rate, seller/buyer tax IDs, issue time) one side does not read: never compared */
  notCompared: string[];
  /** optional columns a postgres side's mapping leaves out: not read at all; for a file or http upstream, the detail fields it does not provide */
  notMapped: { local: string[]; upstream?: string[] };
  /** red-letter invoices paired with the blue invoices they offset, or why not */
  redLetters?: 'paired' | 'not checked: the upstream is not a file export';
}

export interface RunFields {
  /** the detail fields the run compared (the engine's result) */
  compared: readonly DetailField[];
  /** what the upstream source reads */
  upstream: readonly DetailField[];
  /** red-letter pairing ran (a file upstream) */
  redLetters: boolean;
}

function unmapped(side: PgSideConfig): string[] {
  return PG_COLUMN_KEYS.filter((k) => side.columns[k] === undefined);
}

export function comparedFields(rc: ReconcileConfig, run: RunFields): ComparedFields {
  const compared = ['key', 'issueDay', 'total', 'status', ...(rc.partition ? [rc.partition] : []), ...run.compared];
  const upstreamLacks = DETAIL_FIELDS.filter((f) => !run.upstream.includes(f));
  const upstream =
    rc.upstream.type === 'postgres'
      ? { upstream: unmapped(rc.upstream) }
      : upstreamLacks.length > 0
        ? { upstream: upstreamLacks }
        : {};
  return {
    compared,
    notCompared: DETAIL_FIELDS.filter((f) => !compared.includes(f)),
    notMapped: { local: unmapped(rc.local), ...upstream },
    redLetters: run.redLetters ? 'paired' : 'not checked: the upstream is not a file export',
  };
}

/** One line for the terminal and the HTML report. */
export function describeFields(f: ComparedFields): string {
  const left = [
    ...(f.notMapped.local.length > 0 ? [`local mapping leaves out ${f.notMapped.local.join(', ')}`] : []),
    ...(f.notMapped.upstream && f.notMapped.upstream.length > 0
      ? [`upstream lacks ${f.notMapped.upstream.join(', ')}`]
      : []),
  ];
  const red = f.redLetters ? `; red-letter invoices ${f.redLetters}` : '';
  return `compared: ${f.compared.join(', ')}; not compared: ${f.notCompared.length > 0 ? f.notCompared.join(', ') : 'none'}${left.length > 0 ? ` (${left.join('; ')})` : ''}${red}`;
}
