// The reports' message catalogue (zh-CN and en): kind, cause, status and evidence names keyed by the
// ids the JSON carries, and the labels of the HTML, CSV and terminal renderings. A new finding kind
// or cause is one entry here (tsc and test/reconcile/report-i18n.test.ts insist on both languages).
import type { CanonicalStatus, FindingCause, FindingKind } from '../model/types.js';
import { REPORT_LANGUAGES, type ReportLanguage, defaultLanguage } from '../../core/report-language.js';

export { REPORT_LANGUAGES, type ReportLanguage, defaultLanguage };
export type Text = Record<ReportLanguage, string>;

export const KIND_NAMES: Record<FindingKind, Text> = {
  missing: { 'zh-CN': '本地缺失（仅上游有）', en: 'missing locally (upstream only)' },
  extra: { 'zh-CN': '本地多出（上游没有）', en: 'extra locally (not upstream)' },
  amount_mismatch: { 'zh-CN': '价税合计不一致', en: 'total differs' },
  status_mismatch: { 'zh-CN': '发票状态不一致', en: 'status differs' },
  date_mismatch: { 'zh-CN': '开票日期不一致', en: 'issue day differs' },
  duplicate: { 'zh-CN': '发票号码重复', en: 'duplicate key' },
  invalid_input: { 'zh-CN': '上游数据行无效', en: 'invalid upstream row' },
  tax_mismatch: { 'zh-CN': '金额、税额或税率不一致', en: 'amount, tax or rate differs' },
  party_mismatch: { 'zh-CN': '销方或购方识别号不一致', en: 'seller or buyer tax ID differs' },
  time_mismatch: { 'zh-CN': '开票时间不一致（同日）', en: 'issue time differs (same day)' },
  duplicate_line: { 'zh-CN': '导出文件中明细行重复', en: 'identical line repeated in the export' },
  red_letter: { 'zh-CN': '红字发票已匹配对应蓝字发票', en: 'red-letter invoice paired with the invoice it offsets' },
  red_letter_unpaired: {
    'zh-CN': '红字发票未找到对应蓝字发票',
    en: 'red-letter invoice without the invoice it offsets',
  },
};

/** A finding's cause, or not_looked_up: what reports show for a missing invoice the backups were not searched for. */
export type ShownCause = FindingCause | 'not_looked_up';

export const CAUSE_NAMES: Record<ShownCause, { name: Text; meaning: Text }> = {
  pending_sync: {
    name: { 'zh-CN': '待同步', en: 'pending sync' },
    meaning: {
      'zh-CN': '在同步延迟内开具，本地尚未到期，不计为失败',
      en: 'issued within the sync lag: not due locally yet, not failing',
    },
  },
  probable_typo: {
    name: { 'zh-CN': '疑似录入错误', en: 'probable typo' },
    meaning: {
      'zh-CN': '与另一方的一张发票只差一个字符，金额和日期相同',
      en: 'one typing error away from an invoice on the other side, same amount and day',
    },
  },
  in_backup: {
    name: { 'zh-CN': '备份中仍有', en: 'still in a backup' },
    meaning: {
      'zh-CN': '该发票曾进入本地数据库，在证据所列备份之后丢失：请从该备份恢复',
      en: 'it reached the local database and was lost after the backup named in the evidence: restore it from there',
    },
  },
  not_looked_up: {
    name: { 'zh-CN': '未查备份', en: 'not looked up' },
    meaning: {
      'zh-CN': '未在备份中查找（原因见证据）：无法判断它是否曾到达本地',
      en: 'the backups were not searched (why: see the evidence): whether it ever arrived locally is unknown',
    },
  },
};

export const STATUS_NAMES: Record<CanonicalStatus, Text> = {
  valid: { 'zh-CN': '正常', en: 'valid' },
  voided: { 'zh-CN': '已作废', en: 'voided' },
  red_flushed: { 'zh-CN': '已红冲-全额', en: 'red-flushed (full)' },
  partially_red_flushed: { 'zh-CN': '已红冲-部分', en: 'red-flushed (partial)' },
  out_of_control: { 'zh-CN': '失控', en: 'out of control' },
  abnormal: { 'zh-CN': '异常', en: 'abnormal' },
};

/**
 * Names of evidence items. Items not listed render under their own key, so a new kind's evidence
 * shows without code; a key ending in `Fen` is shown in yuan, one ending in `At` in the zone.
 */
export const EVIDENCE_NAMES: Record<string, Text> = {
  reason: { 'zh-CN': '说明', en: 'reason' },
  upstreamFen: { 'zh-CN': '上游金额（元）', en: 'upstream (yuan)' },
  localFen: { 'zh-CN': '本地金额（元）', en: 'local (yuan)' },
  differenceFen: { 'zh-CN': '差额 本地−上游（元）', en: 'difference local − upstream (yuan)' },
  upstreamStatus: { 'zh-CN': '上游状态', en: 'upstream status' },
  localStatus: { 'zh-CN': '本地状态', en: 'local status' },
  upstreamDay: { 'zh-CN': '上游开票日', en: 'upstream day' },
  localDay: { 'zh-CN': '本地开票日', en: 'local day' },
  upstreamIssuedAt: { 'zh-CN': '上游开票时间', en: 'upstream issued at' },
  localIssuedAt: { 'zh-CN': '本地开票时间', en: 'local issued at' },
  upstreamPartition: { 'zh-CN': '上游分区', en: 'upstream partition' },
  localPartition: { 'zh-CN': '本地分区', en: 'local partition' },
  side: { 'zh-CN': '所在方', en: 'side' },
  rows: { 'zh-CN': '行数', en: 'rows' },
  where: { 'zh-CN': '位置', en: 'where' },
  origin: { 'zh-CN': '来源', en: 'origin' },
  severity: { 'zh-CN': '级别', en: 'severity' },
  row: { 'zh-CN': '原始行', en: 'row as read' },
  syncLagSeconds: { 'zh-CN': '同步延迟（秒）', en: 'sync lag (s)' },
  pairedWith: { 'zh-CN': '疑似对应', en: 'paired with' },
  upstreamRowRejected: { 'zh-CN': '上游被拒行', en: 'upstream row rejected' },
  inBackup: { 'zh-CN': '所在备份', en: 'in backup' },
  backupFinishedAt: { 'zh-CN': '备份完成时间', en: 'backup finished at' },
  notInLaterBackup: { 'zh-CN': '下一备份已无', en: 'not in the next backup' },
  notLookedUp: { 'zh-CN': '未查备份原因', en: 'not looked up because' },
};

/**
 * The engine's evidence reasons are English sentences (the JSON keeps them); these are the ones the
 * zh-CN renderings translate, matched whole. Others (input validation) show as written.
 */
export const REASONS: ReadonlyArray<{ en: RegExp; 'zh-CN': (m: RegExpMatchArray) => string }> = [
  { en: /^upstream has the invoice, the local table does not$/, 'zh-CN': () => '上游有此发票，本地表没有' },
  { en: /^the local table has the invoice, upstream does not$/, 'zh-CN': () => '本地表有此发票，上游没有' },
  {
    en: /^the local table has '(.+)', one typing error away, with the same amount and day$/,
    'zh-CN': (m) => `本地表有 '${m[1]}'，只差一个字符，金额和日期相同`,
  },
  {
    en: /^upstream has '(.+)', one typing error away, with the same amount and day$/,
    'zh-CN': (m) => `上游有 '${m[1]}'，只差一个字符，金额和日期相同`,
  },
  {
    en: /^the local table had the invoice in backup (\S+?)(?: but not in the next one, (\S+))?: it was lost after that backup; restore it from there$/,
    'zh-CN': (m) =>
      `本地表在备份 ${m[1]} 中有此发票${m[2] ? `，下一个备份 ${m[2]} 中已没有` : ''}：它在该备份之后丢失，请从该备份恢复`,
  },
  {
    en: /^upstream has this invoice, but its row was rejected as damaged \(same seller, issue time and total\): fix the export; the invoice is probably not missing upstream$/,
    'zh-CN': () =>
      '上游有此发票，但其数据行因损坏被拒（销方、开票时间和价税合计相同）：请修正导出文件；该发票很可能并未在上游缺失',
  },
  { en: /^backups that could not be read: (.+)$/, 'zh-CN': (m) => `以下备份无法读取：${m[1]}` },
];

export function reasonText(lang: ReportLanguage, reason: string): string {
  if (lang === 'en') return reason;
  for (const r of REASONS) {
    const m = r.en.exec(reason);
    if (m) return r[lang](m);
  }
  return reason;
}

/** Invoice fields by their mapping names (ComparedFields, columns); one not listed shows as its id. */
export const FIELD_NAMES: Record<string, Text> = {
  key: { 'zh-CN': '发票号码（代码+号码）', en: 'key' },
  code: { 'zh-CN': '发票代码', en: 'code' },
  number: { 'zh-CN': '发票号码', en: 'number' },
  issueDay: { 'zh-CN': '开票日', en: 'issueDay' },
  issuedAt: { 'zh-CN': '开票时间', en: 'issuedAt' },
  total: { 'zh-CN': '价税合计', en: 'total' },
  status: { 'zh-CN': '发票状态', en: 'status' },
  amount: { 'zh-CN': '金额', en: 'amount' },
  tax: { 'zh-CN': '税额', en: 'tax' },
  taxRate: { 'zh-CN': '税率', en: 'taxRate' },
  rate: { 'zh-CN': '税率', en: 'rate' },
  issueTime: { 'zh-CN': '开票时间', en: 'issueTime' },
  sellerTaxId: { 'zh-CN': '销方识别号', en: 'sellerTaxId' },
  buyerTaxId: { 'zh-CN': '购方识别号', en: 'buyerTaxId' },
};

/** Why the backup lookup did not run (BackupLookupInfo.skippedCode); the English detail follows. */
export const LOOKUP_SKIPS: Record<string, Text> = {
  disabled: { 'zh-CN': '已关闭（reconcile.backupLookup: 0）', en: 'disabled (reconcile.backupLookup: 0)' },
  not_a_target: {
    'zh-CN': '本地一侧不是某个已配置备份目标的表（例如以 query 给出），备份中没有它的发票号码索引',
    en: 'the local side is not the table of a configured target (given as a query, say), so no backup carries a key index of it',
  },
  nothing_to_look_up: { 'zh-CN': '没有需要查找的缺失发票', en: 'no missing invoices to look up' },
  no_identity: {
    'zh-CN': '未配置 encryption.identityFile：发票号码索引是加密的',
    en: 'no encryption.identityFile configured: the key indexes are encrypted',
  },
  identity_unreadable: { 'zh-CN': '私钥文件无法读取', en: 'the identity file cannot be read' },
  repository_unreadable: { 'zh-CN': '备份仓库无法列出', en: 'the repository cannot be listed' },
  no_key_index: { 'zh-CN': '尚无带发票号码索引的备份', en: 'no backup has an invoice key index yet' },
};

const M = {
  title: { 'zh-CN': '发票对账报告', en: 'Invoice reconciliation' },
  summary: { 'zh-CN': '摘要', en: 'Summary' },
  perDay: { 'zh-CN': '按日', en: 'Per day' },
  perSeller: { 'zh-CN': '按销方（有差异的销方）', en: 'Per seller (sellers with findings)' },
  perSellerNote: {
    'zh-CN': '只列出有差异的销方；金额为各方差异发票的价税合计。',
    en: 'Only sellers with findings are listed; amounts are the totals of the invoices in those findings.',
  },
  findingsTitle: { 'zh-CN': '差异明细', en: 'Findings' },
  warnings: { 'zh-CN': '警告', en: 'Warnings' },
  examples: { 'zh-CN': '示例', en: 'examples' },
  runTitle: { 'zh-CN': '运行参数', en: 'Run' },
  upstream: { 'zh-CN': '上游', en: 'upstream' },
  local: { 'zh-CN': '本地', en: 'local' },
  side: { 'zh-CN': '一方', en: 'side' },
  rowsRead: { 'zh-CN': '读取行数', en: 'rows read' },
  rejected: { 'zh-CN': '被拒行', en: 'rejected rows' },
  accepted: { 'zh-CN': '有效行', en: 'rows accepted' },
  duplicateRows: { 'zh-CN': '重复行', en: 'duplicate rows' },
  distinct: { 'zh-CN': '不同发票', en: 'distinct invoices' },
  totalYuan: { 'zh-CN': '价税合计（元）', en: 'total (yuan)' },
  invoices: { 'zh-CN': '发票数', en: 'invoices' },
  findings: { 'zh-CN': '差异', en: 'findings' },
  failing: { 'zh-CN': '需处理', en: 'failing' },
  informational: { 'zh-CN': '仅供参考', en: 'informational' },
  acknowledged: { 'zh-CN': '已确认', en: 'acknowledged' },
  notInFailOn: { 'zh-CN': '不在 failOn 中的类型', en: 'kinds not in failOn' },
  warningRows: { 'zh-CN': '带警告的行', en: 'rows with a warning' },
  kind: { 'zh-CN': '类型', en: 'kind' },
  cause: { 'zh-CN': '原因', en: 'cause' },
  count: { 'zh-CN': '数量', en: 'count' },
  all: { 'zh-CN': '全部', en: 'all' },
  none: { 'zh-CN': '无', en: 'none' },
  total: { 'zh-CN': '合计', en: 'total' },
  key: { 'zh-CN': '发票号码', en: 'invoice key' },
  day: { 'zh-CN': '开票日', en: 'day' },
  evidence: { 'zh-CN': '证据', en: 'evidence' },
  origin: { 'zh-CN': '来源', en: 'origin' },
  status: { 'zh-CN': '状态', en: 'status' },
  issuedAt: { 'zh-CN': '开票时间', en: 'issued at' },
  seller: { 'zh-CN': '销方识别号', en: 'seller tax ID' },
  amountDiff: { 'zh-CN': '差额 本地−上游（元）', en: 'difference local − upstream (yuan)' },
  firstSeen: { 'zh-CN': '首次发现', en: 'first seen' },
  timesSeen: { 'zh-CN': '发现次数', en: 'times seen' },
  findingId: { 'zh-CN': '差异编号', en: 'finding id' },
  ackState: { 'zh-CN': '确认状态', en: 'ack state' },
  ackBy: { 'zh-CN': '确认人', en: 'ack by' },
  ackAt: { 'zh-CN': '确认时间', en: 'ack at' },
  ackReason: { 'zh-CN': '确认理由', en: 'ack reason' },
  reopened: { 'zh-CN': '已重新打开', en: 'reopened' },
  backupLookup: { 'zh-CN': '备份查找', en: 'backup lookup' },
  window: { 'zh-CN': '对账期间', en: 'window' },
  run: { 'zh-CN': '运行编号', en: 'run' },
  parameters: { 'zh-CN': '参数', en: 'parameters' },
  fields: { 'zh-CN': '比对字段', en: 'fields' },
  startedFinished: { 'zh-CN': '开始 / 结束', en: 'started / finished' },
  work: { 'zh-CN': '工作量', en: 'work' },
  tool: { 'zh-CN': '工具', en: 'tool' },
  jsonSha: { 'zh-CN': 'JSON 报告 sha256', en: 'JSON report sha256' },
  sealNote: {
    'zh-CN': '本文件最后一行是其前面全部字节的 sha256。',
    en: 'The last line of this file holds the sha256 of every byte before it.',
  },
  noInvoices: { 'zh-CN': '此期间两方都没有发票。', en: 'No invoices on either side in this window.' },
  chartLegendDiff: { 'zh-CN': '有差异的日期（悬停查看数字）', en: 'day with differences (hover a bar for numbers)' },
  upstreamShrank: { 'zh-CN': '上游数据减少，本次未将任何差异标为已解决。', en: 'Upstream shrank — nothing resolved.' },
  noHashes: { 'zh-CN': '（无哈希：逐日列出比对）', en: '(no hashes: every day was listed)' },
  equal: { 'zh-CN': '一致', en: 'equal' },
  differs: { 'zh-CN': '不一致', en: 'differs' },
  yes: { 'zh-CN': '是', en: 'yes' },
} as const satisfies Record<string, Text>;

export type MessageId = keyof typeof M;
export const MESSAGES: Readonly<Record<MessageId, Text>> = M;

/** Sentences with numbers: one function per language, so word order and plurals stay natural. */
export const SENTENCES = {
  verdictOk: { 'zh-CN': () => '没有导致失败的差异。', en: () => 'No findings that fail the run.' },
  verdictFailing: {
    'zh-CN': (n: number) => `${n} 项差异需要处理。`,
    en: (n: number) => `${n} finding(s) need attention.`,
  },
  findingsAddUp: {
    'zh-CN': (total: number, failing: number, info: number) =>
      `共 ${total} 项差异 = ${failing} 项需处理 + ${info} 项仅供参考。`,
    en: (total: number, failing: number, info: number) =>
      `${total} finding(s) in all = ${failing} failing + ${info} informational.`,
  },
  rowsAddUp: {
    'zh-CN': (read: number, rejected: number, accepted: number, dup: number, distinct: number) =>
      `上游读取 ${read} 行 = ${accepted} 行有效 + ${rejected} 行被拒；有效行 = ${distinct} 张不同发票 + ${dup} 行重复。`,
    en: (read: number, rejected: number, accepted: number, dup: number, distinct: number) =>
      `upstream: ${read} rows read = ${accepted} accepted + ${rejected} rejected; accepted = ${distinct} distinct invoices + ${dup} duplicate rows.`,
  },
  pendingSync: {
    'zh-CN': (n: number, lag: string) => `${n} 张发票待同步（开具不足 ${lag}，即同步延迟内）。`,
    en: (n: number, lag: string) => `${n} invoice(s) are pending sync (issued within ${lag}, the sync lag).`,
  },
  inBackup: {
    'zh-CN': (n: number) => `${n} 张缺失发票仍在备份中：它们曾进入本地数据库，之后丢失（每项证据列出可恢复的备份）。`,
    en: (n: number) =>
      `${n} missing invoice(s) are still in a backup: they reached the local database and were lost after it (each finding names the backup to restore from).`,
  },
  acknowledged: {
    'zh-CN': (n: number) => `${n} 项已确认的差异不再导致失败；每项注明确认人和理由。`,
    en: (n: number) => `${n} acknowledged finding(s) do not fail the run; each says who accepted it and why.`,
  },
  lookupSkipped: {
    'zh-CN': (why: string) => `未在备份中查找缺失发票：${why}。缺失发票的原因标为“未查备份”，不表示它们从未到达本地。`,
    en: (why: string) =>
      `Missing invoices were not looked up in the backups: ${why}. Their cause reads "not looked up"; it does not mean they never arrived.`,
  },
  lookupPartial: {
    'zh-CN': (problems: string) => `备份查找不完整，以下备份无法读取：${problems}。未找到的缺失发票标为“未查备份”。`,
    en: (problems: string) =>
      `The backup lookup was partial; these backups could not be read: ${problems}. Missing invoices not found are marked "not looked up".`,
  },
  lookupDone: {
    'zh-CN': (found: number, searched: number, target: string, limit: number, ids: string) =>
      `在 '${target}' 的 ${searched} 个备份中找到 ${found} 张缺失发票（从新到旧，最多 ${limit} 个）：${ids}`,
    en: (found: number, searched: number, target: string, limit: number, ids: string) =>
      `${found} missing invoice(s) found in ${searched} backup(s) of '${target}' searched (newest first, at most ${limit}): ${ids}`,
  },
  acknowledgedBy: {
    'zh-CN': (by: string, at: string, reason: string) => `已由 ${by} 于 ${at} 确认：${reason}`,
    en: (by: string, at: string, reason: string) => `acknowledged by ${by} ${at}: ${reason}`,
  },
  reopenedSince: {
    'zh-CN': (at: string, by: string, changes: string) => `${at} 重新打开：${by} 确认后又有变化（${changes}）`,
    en: (at: string, by: string, changes: string) => `reopened ${at}: changed since acknowledged by ${by} (${changes})`,
  },
  work: {
    'zh-CN': (buckets: number, differing: number, listed: number, up: number, lo: number) =>
      `${buckets} 个日桶，${differing} 个不一致，列出 ${listed} 个；列出行数 上游 ${up} / 本地 ${lo}`,
    en: (buckets: number, differing: number, listed: number, up: number, lo: number) =>
      `${buckets} day buckets, ${differing} differing, ${listed} listed, rows listed ${up} upstream / ${lo} local`,
  },
  findingsFirstSeen: {
    'zh-CN': (at: string, n: number) => `首次发现 ${at}，共 ${n} 次`,
    en: (at: string, n: number) => `first seen ${at}, seen ${n}×`,
  },
} as const;

/** reports.language, else the zone's default (configs built in code may lack the section). */
export function reportLanguage(config: { timezone: string; reports?: { language?: ReportLanguage } }): ReportLanguage {
  return config.reports?.language ?? defaultLanguage(config.timezone);
}

export function msg(lang: ReportLanguage, id: MessageId): string {
  return MESSAGES[id][lang];
}

export function kindName(lang: ReportLanguage, kind: string): string {
  return (KIND_NAMES as Record<string, Text>)[kind]?.[lang] ?? kind;
}

export function causeName(lang: ReportLanguage, cause: string | undefined): string {
  if (!cause) return '';
  return (CAUSE_NAMES as Record<string, { name: Text }>)[cause]?.name[lang] ?? cause;
}

export function causeMeaning(lang: ReportLanguage, cause: string | undefined): string {
  if (!cause) return '';
  return (CAUSE_NAMES as Record<string, { meaning: Text }>)[cause]?.meaning[lang] ?? '';
}

/** A canonical status in the language; `unmapped:<raw>` and unknown values as given. */
export function statusName(lang: ReportLanguage, status: string | undefined): string {
  if (!status) return '';
  return (STATUS_NAMES as Record<string, Text>)[status]?.[lang] ?? status;
}

export function evidenceName(lang: ReportLanguage, key: string): string {
  return EVIDENCE_NAMES[key]?.[lang] ?? key;
}
