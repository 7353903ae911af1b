// What a run compares, and what it does not (pure, from the configuration): recorded in every
// report so an auditor sees which fields a clean result vouches for.
import { PG_COLUMN_KEYS, type ReconcileConfig, type PgSideConfig } from './reconcile-config.js';

export interface ComparedFields {
  /** compared for every invoice: its key (code + number), issue day, total and status, and the partition field when set */
  compared: string[];
  /** read where mapped and shown in findings as evidence, never compared */
  notCompared: string[];
  /** optional columns a postgres side's mapping leaves out: not read at all (a file or http side reads what it carries) */
  notMapped: { local: string[]; upstream?: string[] };
}

const EVIDENCE_ONLY = ['amount', 'tax', 'sellerTaxId', 'buyerTaxId'] as const;

function unmapped(side: PgSideConfig): string[] {
  return PG_COLUMN_KEYS.filter((k) => side.columns[k] === undefined);
}

export function comparedFields(rc: ReconcileConfig): ComparedFields {
  const compared = ['key', 'issueDay', 'total', 'status', ...(rc.partition ? [rc.partition] : [])];
  return {
    compared,
    notCompared: EVIDENCE_ONLY.filter((f) => !compared.includes(f)),
    notMapped: { local: unmapped(rc.local), ...(rc.upstream.type === 'postgres' ? { upstream: unmapped(rc.upstream) } : {}) },
  };
}

/** One line for the terminal and the HTML report. */
export function describeFields(f: ComparedFields): string {
  const left = [
    ...(f.notMapped.local.length > 0 ? [`local mapping leaves out ${f.notMapped.local.join(', ')}`] : []),
    ...(f.notMapped.upstream && f.notMapped.upstream.length > 0 ? [`upstream mapping leaves out ${f.notMapped.upstream.join(', ')}`] : []),
  ];
  return `compared: ${f.compared.join(', ')}; not compared: ${f.notCompared.join(', ')}${left.length > 0 ? ` (${left.join('; ')})` : ''}`;
}
