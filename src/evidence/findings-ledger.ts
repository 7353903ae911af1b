// The findings ledger of an evidence pack as CSV (pure): one row per finding, its acknowledgement
// in force, and every acknowledgement ever made in one cell, so nothing accepted is lost from view.
import { csvCell } from '../reconcile/sources/csv.js';
import type { StoredFinding } from '../reconcile/findings/findings-store.js';
import { excelText, guard } from '../reconcile/report/report-render.js';

const HEADER = [
  'finding_id',
  'scope',
  'kind',
  'cause',
  'key',
  'day',
  'first_seen',
  'last_seen',
  'times_seen',
  'resolved_at',
  'ack_state',
  'ack_by',
  'ack_at',
  'ack_reason',
  'ack_history',
];

export function findingsCsv(findings: readonly StoredFinding[]): string {
  const lines = [HEADER.join(',')];
  for (const f of findings) {
    const ack = f.acknowledgement;
    const history = (f.acknowledgements ?? [])
      .map((a) => `${a.at} ${a.by}: ${a.reason}${a.endedAt ? ` [ended ${a.endedAt}: ${a.endReason ?? ''}]` : ''}`)
      .join(' | ');
    const cells = [
      f.id,
      guard(f.scope),
      f.kind,
      f.cause ?? '',
      excelText(f.key || String(f.details.evidence.origin ?? '')),
      f.day ?? '',
      f.firstSeen,
      f.lastSeen,
      String(f.timesSeen),
      f.resolvedAt ?? '',
      ack ? 'acknowledged' : (f.acknowledgements ?? []).length > 0 ? 'reopened' : '',
      guard(ack?.by ?? ''),
      ack?.at ?? '',
      guard(ack?.reason ?? ''),
      guard(history),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  // UTF-8 with a BOM, as the reconcile CSV: Excel on Chinese Windows reads it right
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
