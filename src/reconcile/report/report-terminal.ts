// What `reconcile` prints for people: rows and totals per side, findings split into failing and
// informational (the numbers add up), what the backup lookup did not check, then the first findings.
// Pure: a report in, text out, in the report's language.
import { pushAll } from '../../core/arrays.js';
import { formatTable } from '../../core/format.js';
import type { ReconcileReport, ReportFinding } from './report.js';
import { shownCause } from '../engine/backup-lookup.js';
import { SENTENCES, causeName, kindName, msg, statusName } from './report-i18n.js';
import { fieldsSentence, languageOf, lookupIncomplete, lookupSentence, yuan } from './report-text.js';

const SHOWN = 50;

type Lang = ReturnType<typeof languageOf>;

export function renderReconcileText(
  report: ReconcileReport,
  files: { html: string; csv: string; json: string },
): string {
  const lang = languageOf(report);
  const r = report.run;
  const out: string[] = [`${msg(lang, 'window')} ${r.window.from}..${r.window.to} (${r.window.timezone})`];
  if (r.fields) out.push(fieldsSentence(lang, r.fields));
  pushAll(out, sidesLines(report, lang));
  pushAll(out, findingsSummaryLines(report, lang));
  pushAll(out, findingsTableLines(report, lang));
  out.push('', `reports: ${files.html}`, `         ${files.csv}`, `         ${files.json}`);
  return `${out.join('\n')}\n`;
}

/** Rows and totals per side, and (when counted) how the upstream's rows add up. */
function sidesLines(report: ReconcileReport, lang: Lang): string[] {
  const s = report.summary;
  const c = s.rows;
  const side = (name: string, counts: NonNullable<typeof c>['local'] | undefined, count: number, fen: string) => [
    name,
    String(counts?.read ?? count),
    String(counts?.rejected ?? ''),
    String(counts?.duplicateRows ?? ''),
    String(counts?.distinct ?? ''),
    yuan(fen),
  ];
  const out = [
    formatTable(
      [
        msg(lang, 'side'),
        msg(lang, 'rowsRead'),
        msg(lang, 'rejected'),
        msg(lang, 'duplicateRows'),
        msg(lang, 'distinct'),
        msg(lang, 'totalYuan'),
      ],
      [
        side(
          `${msg(lang, 'upstream')} (${report.run.upstream.kind})`,
          c?.upstream,
          s.upstream.count,
          s.upstream.totalFen,
        ),
        side(msg(lang, 'local'), c?.local, s.local.count, s.local.totalFen),
      ],
    ),
  ];
  if (c)
    out.push(
      SENTENCES.rowsAddUp[lang](
        c.upstream.read,
        c.upstream.rejected,
        c.upstream.accepted,
        c.upstream.duplicateRows,
        c.upstream.distinct,
      ),
    );
  return out;
}

/** Findings split into failing and informational (the numbers add up); what the backup lookup did not check. */
function findingsSummaryLines(report: ReconcileReport, lang: Lang): string[] {
  const s = report.summary;
  const r = report.run;
  const total = report.findings.length;
  const failing = s.roles?.failing ?? s.failing;
  const out = ['', SENTENCES.findingsAddUp[lang](total, failing, total - failing)];
  const byKind = (counts: Partial<Record<string, number>>): string =>
    Object.entries(counts)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([k, n]) => `${kindName(lang, k)} ${n}`)
      .join(', ');
  if (total > 0) out.push(`  ${msg(lang, 'all')}: ${byKind(s.findings)}`);
  if (failing > 0 && s.failingByKind) out.push(`  ${msg(lang, 'failing')}: ${byKind(s.failingByKind)}`);
  if (s.roles) {
    const info = [
      s.roles.acknowledged ? `${msg(lang, 'acknowledged')} ${s.roles.acknowledged}` : '',
      s.roles.pending_sync ? `${causeName(lang, 'pending_sync')} ${s.roles.pending_sync}` : '',
      s.roles.not_in_fail_on
        ? `${msg(lang, 'notInFailOn')} ${s.roles.not_in_fail_on} (failOn: ${r.parameters.failOn.join(', ')})`
        : '',
    ].filter(Boolean);
    if (info.length) out.push(`  ${msg(lang, 'informational')}: ${info.join(', ')}`);
  }
  if (s.inBackup) out.push(SENTENCES.inBackup[lang](s.inBackup));
  if (lookupIncomplete(r.parameters.backupLookup))
    out.push(`${msg(lang, 'backupLookup')}: ${lookupSentence(lang, r.parameters.backupLookup!)}`);
  return out;
}

/** The first SHOWN findings, one row each. */
function findingsTableLines(report: ReconcileReport, lang: Lang): string[] {
  if (report.findings.length === 0) return [];
  const out = [
    '',
    formatTable(
      [
        msg(lang, 'findingId'),
        msg(lang, 'kind'),
        msg(lang, 'cause'),
        msg(lang, 'key'),
        msg(lang, 'day'),
        msg(lang, 'upstream'),
        msg(lang, 'local'),
        msg(lang, 'ackState'),
      ],
      report.findings
        .slice(0, SHOWN)
        .map((f) => [
          f.id ?? '',
          kindName(lang, f.kind),
          causeName(lang, shownCause(f)),
          keyOrOrigin(f),
          f.day ?? '',
          f.kind === 'invalid_input' ? clip(String(f.evidence.reason ?? '')) : sideCell(f.upstream, lang),
          sideCell(f.local, lang),
          ackShort(f, lang),
        ]),
    ),
  ];
  if (report.findings.length > SHOWN) out.push(`… ${report.findings.length - SHOWN} more in the reports`);
  return out;
}

function sideCell(v: ReportFinding['upstream'], lang: Lang): string {
  return v ? `${yuan(v.totalFen)} ${statusName(lang, v.status)}` : '-';
}

function ackShort(f: ReportFinding, lang: Lang): string {
  if (f.acknowledgement) return clip(`${f.acknowledgement.by}: ${f.acknowledgement.reason}`, 40);
  return f.reopened ? `${msg(lang, 'reopened').toUpperCase()}` : '';
}

/** A damaged upstream row has no trustworthy key: show where it is (file:line) instead. */
export function keyOrOrigin(f: { key: string; evidence: Record<string, unknown> }): string {
  return f.key || String(f.evidence.origin ?? '');
}

export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
