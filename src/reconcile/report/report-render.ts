// JSON and CSV renderings of a report, each carrying a sha256 of its own content: the JSON in a
// top-level `sha256` field (of the text rendered without it), CSV and HTML on their last line.
import { createHash } from 'node:crypto';
import { csvCell } from '../sources/csv.js';
import { type ReconcileReport, type ReportFinding, lookupText } from './report.js';
import { formatFen } from '../model/validators.js';
import { ACK_CSV_HEADER, ackCsvCells } from '../findings/acknowledgement-text.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function renderJson(report: ReconcileReport): string {
  const { sha256: _ignored, ...body } = report;
  const digest = sha256(JSON.stringify(body, null, 2));
  return `${JSON.stringify({ ...body, sha256: digest }, null, 2)}\n`;
}

/** The last line of CSV and HTML reports: `<prefix>sha256 <hex> of the bytes above<suffix>`. */
export function sealText(text: string, prefix: string, suffix: string): string {
  return `${text}${prefix}sha256 ${sha256(text)} of the bytes above${suffix}\n`;
}

/** Does a rendered report match its own sha256? (JSON field, or the seal line of CSV/HTML) */
export function verifyReport(text: string): boolean {
  if (text.trimStart().startsWith('{')) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const claimed = parsed.sha256;
    delete parsed.sha256;
    return typeof claimed === 'string' && claimed === sha256(JSON.stringify(parsed, null, 2));
  }
  const body = text.replace(/\n$/, '');
  const cut = body.lastIndexOf('\n') + 1;
  const m = /sha256 ([0-9a-f]{64}) of the bytes above/.exec(body.slice(cut));
  return m !== null && m[1] === sha256(text.slice(0, cut));
}

/**
 * Keys, codes, numbers and tax IDs as `="…"`: the one form Excel opens as text, keeping 20 digits
 * and leading zeros (a leading tab also works but leaves an invisible character in every lookup).
 * Only plain digit/letter/dash values take this form, so it cannot carry a formula.
 */
export function excelText(value: string | undefined): string {
  if (!value) return '';
  return /^[0-9A-Za-z-]+$/.test(value) ? `="${value}"` : guard(value);
}

/** Free text that starts like a formula is prefixed with `'` (CSV injection). */
export function guard(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const CSV_HEADER = ['kind', 'cause', 'key', 'day', 'upstream_total', 'local_total', 'upstream_status', 'local_status', 'upstream_issued_at', 'local_issued_at', 'seller_tax_id', 'origin', 'first_seen', 'evidence', ...ACK_CSV_HEADER];

function evidenceText(f: ReportFinding): string {
  return Object.entries(f.evidence)
    .filter(([k]) => k !== 'row')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

export function renderCsv(report: ReconcileReport): string {
  const r = report.run;
  const lines = [
    `# fapiao-guard reconcile run ${r.id}`,
    `# window ${r.window.from}..${r.window.to} (${r.window.timezone}); upstream ${r.upstream.kind} ${r.upstream.location}; local ${r.local.location}`,
    `# parameters syncLag=${r.parameters.syncLagSeconds}s failOn=${r.parameters.failOn.join('|')} listLimit=${r.parameters.listLimit}${r.parameters.partition ? ` partition=${r.parameters.partition}` : ''}${r.parameters.hashMethod ? ` hashMethod=${r.parameters.hashMethod}` : ''} now=${r.parameters.now}`,
    ...(r.parameters.backupLookup ? [`# backup lookup ${lookupText(r.parameters.backupLookup).replace(/[\r\n]+/g, ' ')}`] : []),
    `# summary upstream ${report.summary.upstream.count} invoices ${report.summary.upstream.total}; local ${report.summary.local.count} invoices ${report.summary.local.total}; failing findings ${report.summary.failing}${report.summary.acknowledged ? `; acknowledged ${report.summary.acknowledged}` : ''}`,
    CSV_HEADER.join(','),
  ];
  for (const f of report.findings) {
    const cells = [
      f.kind,
      f.cause ?? '',
      excelText(f.key),
      f.day ?? '',
      f.upstream ? formatFen(f.upstream.totalFen) : '',
      f.local ? formatFen(f.local.totalFen) : '',
      f.upstream?.status ?? '',
      f.local?.status ?? '',
      f.upstream?.issuedAt ?? '',
      f.local?.issuedAt ?? '',
      excelText(f.upstream?.sellerTaxId ?? f.local?.sellerTaxId),
      guard(String(f.evidence.origin ?? f.upstream?.origin ?? f.local?.origin ?? '')),
      f.firstSeen ?? '',
      guard(evidenceText(f)),
      ...ackCsvCells(f).map(guard),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  // UTF-8 with a BOM: without it Excel on Chinese Windows reads the file as GBK and garbles it.
  return sealText(`\ufeff${lines.join('\r\n')}\r\n`, '# ', '');
}
