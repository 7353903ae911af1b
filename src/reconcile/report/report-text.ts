// Values as the HTML, CSV and terminal reports print them, in the report's language: yuan with two
// decimals, instants in the configured zone with their offset, evidence items by name, the backup
// lookup in words. Pure; the JSON keeps fen and UTC instants.
import { formatTime } from '../../core/format.js';
import type { BackupLookupInfo } from '../engine/backup-lookup.js';
import type { ReconcileReport } from './report.js';
import {
  type ReportLanguage,
  FIELD_NAMES,
  LOOKUP_SKIPS,
  SENTENCES,
  evidenceName,
  reasonText,
  statusName,
} from './report-i18n.js';
import { type ComparedFields, describeFields } from '../compared-fields.js';
import type { AckFields } from '../findings/acknowledgement-text.js';
import { formatFen } from '../model/validators.js';

export function languageOf(report: ReconcileReport): ReportLanguage {
  return report.run.language ?? 'en';
}

/** Yuan with two decimals and thousands separators: `-1,234.50`. */
export function yuan(fen: number | bigint | string): string {
  const [int, dec] = formatFen(BigInt(fen)).split('.') as [string, string];
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

/** Yuan with two decimals, no separators: a number Excel reads in any locale. */
export function yuanPlain(fen: number | bigint | string): string {
  return formatFen(BigInt(fen));
}

/** An ISO instant in the zone with its offset (`2026-11-20 10:15:00 +08:00`); anything else as given. */
export function zoned(value: string | undefined, timeZone: string): string {
  if (!value) return '';
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)) ? formatTime(value, timeZone) : value;
}

const INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/** ISO instants inside a text (a duplicate's `2026-11-03 2026-11-03T02:15:00.000Z`) in the zone. */
function zonedWithin(text: string, timeZone: string): string {
  return text.replace(INSTANT, (iso) => zoned(iso, timeZone));
}

/**
 * One evidence item's value as text: `…Fen` integers in yuan, `…At` instants in the zone, statuses
 * by name, lists joined. Generic, so a new kind's evidence needs at most a name in the catalogue.
 */
export function evidenceValue(
  lang: ReportLanguage,
  key: string,
  value: unknown,
  timeZone: string,
  money = yuan,
  lookup?: BackupLookupInfo,
): string {
  // the lookup's reason, recorded in English on each finding: say it as the run's summary does
  if (key === 'notLookedUp' && typeof value === 'string')
    return lookup?.skipped === value ? skipWhy(lang, lookup) : reasonText(lang, value);
  if (/Fen$/.test(key) && (typeof value === 'number' || (typeof value === 'string' && /^-?\d+$/.test(value))))
    return money(value);
  if (/Status$/.test(key) && typeof value === 'string') return statusName(lang, value);
  if (key === 'reason' && typeof value === 'string') return reasonText(lang, value);
  if (typeof value === 'string') return /At$/.test(key) ? zoned(value, timeZone) : zonedWithin(value, timeZone);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.map((v) => zonedWithin(String(v), timeZone)).join(', ');
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Evidence items as `[name, value]`, the raw row (`row`) left out (the HTML shows it apart). */
export function evidenceItems(
  lang: ReportLanguage,
  evidence: Record<string, unknown>,
  timeZone: string,
  money = yuan,
  lookup?: BackupLookupInfo,
): Array<[string, string]> {
  return Object.entries(evidence)
    .filter(([k]) => k !== 'row')
    .map(([k, v]) => [evidenceName(lang, k), evidenceValue(lang, k, v, timeZone, money, lookup)]);
}

/** The backup lookup in one sentence: what was searched, or what was not and why. */
export function lookupSentence(lang: ReportLanguage, l: BackupLookupInfo): string {
  if (l.skipped) return SENTENCES.lookupSkipped[lang](skipWhy(lang, l));
  const done = SENTENCES.lookupDone[lang](l.found, l.searched.length, l.target ?? '', l.limit, l.searched.join(', '));
  return l.problems?.length ? `${done} ${SENTENCES.lookupPartial[lang](l.problems.join('; '))}` : done;
}

/** Did the lookup leave missing invoices unsettled (worth a warning next to the verdict)? */
export function lookupIncomplete(l: BackupLookupInfo | undefined): boolean {
  return Boolean(l && ((l.skipped && l.skippedCode !== 'nothing_to_look_up') || l.problems?.length));
}

function skipWhy(lang: ReportLanguage, l: BackupLookupInfo): string {
  const named = l.skippedCode ? LOOKUP_SKIPS[l.skippedCode]?.[lang] : undefined;
  if (lang === 'en' || !named) return l.skipped ?? '';
  // the English detail names the file, target or repository problem behind the translated reason
  return ['disabled', 'nothing_to_look_up', 'no_identity'].includes(l.skippedCode!)
    ? named
    : `${named}（${l.skipped}）`;
}

/** An acknowledgement (or its end) in one line, in the language; '' when there is none. */
export function ackText(lang: ReportLanguage, f: AckFields, timeZone: string): string {
  if (f.acknowledgement)
    return SENTENCES.acknowledgedBy[lang](
      f.acknowledgement.by,
      zoned(f.acknowledgement.at, timeZone),
      f.acknowledgement.reason,
    );
  if (f.reopened)
    return SENTENCES.reopenedSince[lang](
      zoned(f.reopened.reopenedAt, timeZone),
      f.reopened.by,
      f.reopened.changes.join('; '),
    );
  return '';
}

/** Which fields the run compared and which not, in the language (en: compared-fields.ts's own line). */
export function fieldsSentence(lang: ReportLanguage, f: ComparedFields): string {
  if (lang === 'en') return describeFields(f);
  const names = (ids: readonly string[]): string =>
    ids.length ? ids.map((id) => FIELD_NAMES[id]?.[lang] ?? id).join('、') : '无';
  const left = [
    ...(f.notMapped.local.length > 0 ? [`本地映射未包含：${names(f.notMapped.local)}`] : []),
    ...(f.notMapped.upstream && f.notMapped.upstream.length > 0
      ? [`上游映射未包含：${names(f.notMapped.upstream)}`]
      : []),
  ];
  const red =
    f.redLetters === undefined
      ? ''
      : f.redLetters === 'paired'
        ? '；红字发票已配对'
        : '；红字发票未配对（上游不是文件导出）';
  return `比对字段：${names(f.compared)}；未比对（仅作证据）：${names(f.notCompared)}${left.length > 0 ? `（${left.join('；')}）` : ''}${red}`;
}
