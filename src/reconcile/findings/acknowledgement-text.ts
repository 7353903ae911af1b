// How an acknowledgement reads in every report that lists findings (terminal, CSV, HTML; the JSON
// carries the objects themselves): one vocabulary, so an auditor sees the same words everywhere.
import { formatTime } from '../../core/format.js';
import type { Acknowledgement, Reopened } from './findings-store.js';

export interface AckFields {
  id?: string;
  acknowledgement?: Acknowledgement;
  reopened?: Reopened;
}

/** `acknowledged` | `reopened` | '' */
export function ackState(f: AckFields): string {
  return f.acknowledgement ? 'acknowledged' : f.reopened ? 'reopened' : '';
}

/** One line: `acknowledged by li.wei 2026-11-20 10:15 +08:00: 红冲 pending at the tax office`. */
export function ackLine(f: AckFields, timeZone: string): string {
  if (f.acknowledgement)
    return `acknowledged by ${f.acknowledgement.by} ${formatTime(f.acknowledgement.at, timeZone)}: ${f.acknowledgement.reason}`;
  if (f.reopened)
    return `reopened ${formatTime(f.reopened.reopenedAt, timeZone)}: changed since acknowledged by ${f.reopened.by} (${f.reopened.changes.join('; ')})`;
  return '';
}

/** The CSV columns appended after the report's own (header, then cells per finding). */
export const ACK_CSV_HEADER = ['finding_id', 'ack_state', 'ack_by', 'ack_at', 'ack_reason'];

export function ackCsvCells(f: AckFields): string[] {
  const a = f.acknowledgement ?? f.reopened;
  return [
    f.id ?? '',
    ackState(f),
    a?.by ?? '',
    a?.at ?? '',
    f.acknowledgement
      ? f.acknowledgement.reason
      : f.reopened
        ? `(reopened: ${f.reopened.changes.join('; ')}) ${f.reopened.reason}`
        : '',
  ];
}
