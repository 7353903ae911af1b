// What `reconcile` prints for people: rows and totals per side, findings split into failing and
// informational (the numbers add up), what the backup lookup did not check, then the first findings.
// Pure: a report in, text out, in the report's language.
import { formatTable } from '../../core/format.js';
import type { ReconcileReport, ReportFinding } from './report.js';
import { shownCause } from '../engine/backup-lookup.js';
import { SENTENCES, causeName, kindName, msg, statusName } from './report-i18n.js';
import { fieldsSentence, languageOf, lookupIncomplete, lookupSentence, yuan } from './report-text.js';

const SHOWN = 50;

export function renderReconcileText(
  report: ReconcileReport,
  files: { html: string; csv: string; json: string },
): string {
  const lang = languageOf(report);
  const s = report.summary;
  const r = report.run;
  const out: string[] = [`${msg(lang, 'window')} ${r.window.from}..${r.window.to} (${r.window.timezone})`];
  if (r.fields) out.push(fieldsSentence(lang, r.fields));
  const c = s.rows;
  out.push(
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
        [
          `${msg(lang, 'upstream')} (${r.upstream.kind})`,
          String(c?.upstream.read ?? s.upstream.count),
          String(c?.upstream.rejected ?? ''),
          String(c?.upstream.duplicateRows ?? ''),
          String(c?.upstream.distinct ?? ''),
          yuan(s.upstream.totalFen),
        ],
        [
          msg(lang, 'local'),
          String(c?.local.read ?? s.local.count),
          String(c?.local.rejected ?? ''),
          String(c?.local.duplicateRows ?? ''),
          String(c?.local.distinct ?? ''),
          yuan(s.local.totalFen),
        ],
      ],
    ),
  );
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
  const total = report.findings.length;
  const failing = s.roles?.failing ?? s.failing;
  out.push('', SENTENCES.findingsAddUp[lang](total, failing, total - failing));
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
  if (report.findings.length > 0) {
    out.push('');
    out.push(
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
    );
    if (report.findings.length > SHOWN) out.push(`… ${report.findings.length - SHOWN} more in the reports`);
  }
  out.push('', `reports: ${files.html}`, `         ${files.csv}`, `         ${files.json}`);
  return `${out.join('\n')}\n`;
}

function sideCell(v: ReportFinding['upstream'], lang: ReturnType<typeof languageOf>): string {
  return v ? `${yuan(v.totalFen)} ${statusName(lang, v.status)}` : '-';
}

function ackShort(f: ReportFinding, lang: ReturnType<typeof languageOf>): string {
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
