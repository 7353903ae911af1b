// JSON and CSV renderings of a report, each carrying a sha256 of its own content: the JSON in a
// top-level `sha256` field (of the text rendered without it), CSV and HTML on their last line.
import { createHash } from 'node:crypto';
import { csvCell } from '../sources/csv.js';
import { type BackupLookupInfo, shownCause } from '../engine/backup-lookup.js';
import type { ReconcileReport, ReportFinding } from './report.js';
import { ackCsvCells } from '../findings/acknowledgement-text.js';
import { type MessageId, type ReportLanguage, SENTENCES, causeName, kindName, msg, statusName } from './report-i18n.js';
import { ackText, evidenceItems, languageOf, lookupSentence, yuan, yuanPlain, zoned } from './report-text.js';

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

const CSV_COLUMNS: MessageId[] = [
  'kind',
  'cause',
  'key',
  'day',
  'upstream',
  'local',
  'status',
  'status',
  'issuedAt',
  'issuedAt',
  'seller',
  'origin',
  'firstSeen',
  'evidence',
  'findingId',
  'ackState',
  'ackBy',
  'ackAt',
  'ackReason',
];
/** which side a column is of (the names say it: 上游状态, local status) */
const CSV_SIDE = [0, 0, 0, 0, 1, 2, 1, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];

function csvHeader(lang: ReportLanguage): string[] {
  const side = (i: number, name: string): string => {
    const which = CSV_SIDE[i] === 1 ? msg(lang, 'upstream') : CSV_SIDE[i] === 2 ? msg(lang, 'local') : '';
    if (!which) return name;
    if (i === 4 || i === 5) return `${which}${lang === 'en' ? ' ' : ''}${msg(lang, 'totalYuan')}`;
    return `${which}${lang === 'en' ? ' ' : ''}${name}`;
  };
  // the ids last: the same in every language, for filters and scripts
  return [...CSV_COLUMNS.map((id, i) => side(i, msg(lang, id))), 'kind_id', 'cause_id'];
}

function evidenceText(
  f: ReportFinding,
  lang: ReportLanguage,
  tz: string,
  lookup: BackupLookupInfo | undefined,
): string {
  return evidenceItems(lang, f.evidence, tz, yuanPlain, lookup)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

export function renderCsv(report: ReconcileReport): string {
  const r = report.run;
  const s = report.summary;
  const lang = languageOf(report);
  const tz = r.window.timezone;
  const total = report.findings.length;
  const failing = s.roles?.failing ?? s.failing;
  const up = s.rows?.upstream;
  const lines = [
    `# fapiao-guard reconcile run ${r.id}`,
    `# window ${r.window.from}..${r.window.to} (${r.window.timezone}); upstream ${r.upstream.kind} ${r.upstream.location}; local ${r.local.location}`,
    `# parameters syncLag=${r.parameters.syncLagSeconds}s failOn=${r.parameters.failOn.join('|')} listLimit=${r.parameters.listLimit}${r.parameters.partition ? ` partition=${r.parameters.partition}` : ''}${r.parameters.hashMethod ? ` hashMethod=${r.parameters.hashMethod}` : ''} now=${zoned(r.parameters.now, tz)}`,
    ...(r.parameters.backupLookup
      ? [`# ${msg(lang, 'backupLookup')}: ${lookupSentence(lang, r.parameters.backupLookup).replace(/[\r\n]+/g, ' ')}`]
      : []),
    // totals here, counts in the rows sentence below (accepted rows are not distinct invoices)
    `# ${msg(lang, 'totalYuan')}: ${msg(lang, 'upstream')} ${yuan(s.upstream.totalFen)}; ${msg(lang, 'local')} ${yuan(s.local.totalFen)}; ${msg(lang, 'failing')} ${failing}${s.acknowledged ? `; ${msg(lang, 'acknowledged')} ${s.acknowledged}` : ''}`,
    ...(up ? [`# ${SENTENCES.rowsAddUp[lang](up.read, up.rejected, up.accepted, up.duplicateRows, up.distinct)}`] : []),
    `# ${SENTENCES.findingsAddUp[lang](total, failing, total - failing)}`,
    csvHeader(lang).map(csvCell).join(','),
  ];
  for (const f of report.findings) {
    const a = f.acknowledgement ?? f.reopened;
    const ack = ackCsvCells(f);
    const cells = [
      kindName(lang, f.kind),
      causeName(lang, shownCause(f)),
      excelText(f.key),
      f.day ?? '',
      f.upstream ? yuanPlain(f.upstream.totalFen) : '',
      f.local ? yuanPlain(f.local.totalFen) : '',
      statusName(lang, f.upstream?.status),
      statusName(lang, f.local?.status),
      zoned(f.upstream?.issuedAt, tz),
      zoned(f.local?.issuedAt, tz),
      excelText(f.upstream?.sellerTaxId ?? f.local?.sellerTaxId),
      guard(String(f.evidence.origin ?? f.upstream?.origin ?? f.local?.origin ?? '')),
      zoned(f.firstSeen, tz),
      guard(evidenceText(f, lang, tz, r.parameters.backupLookup)),
      guard(ack[0] ?? ''),
      ack[1] === 'reopened' ? msg(lang, 'reopened') : ack[1] === 'acknowledged' ? msg(lang, 'acknowledged') : '',
      guard(ack[2] ?? ''),
      zoned(a?.at, tz),
      guard(f.acknowledgement ? f.acknowledgement.reason : f.reopened ? ackText(lang, f, tz) : ''),
      f.kind,
      shownCause(f) ?? '',
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  // UTF-8 with a BOM: without it Excel on Chinese Windows reads the file as GBK and garbles it.
  return sealText(`\ufeff${lines.join('\r\n')}\r\n`, '# ', '');
}
