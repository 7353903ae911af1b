// The language of reports for people (reports.language): zh-CN or en, zh-CN by default when the
// configured zone is mainland China's. Core so the configuration can read it; the message
// catalogue is src/reconcile/report/report-i18n.ts.

export const REPORT_LANGUAGES = ['zh-CN', 'en'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

/** IANA names of mainland China's zone (and its historical aliases). */
const CHINA_ZONES = new Set([
  'Asia/Shanghai',
  'Asia/Chongqing',
  'Asia/Chungking',
  'Asia/Harbin',
  'Asia/Urumqi',
  'Asia/Kashgar',
  'PRC',
]);

/** zh-CN when the configured zone is China's, en otherwise (reports.language overrides). */
export function defaultLanguage(timezone: string): ReportLanguage {
  return CHINA_ZONES.has(timezone) ? 'zh-CN' : 'en';
}
