// The auditors' HTML report: one self-contained file (no scripts, no external assets) in the
// report's language: the verdict and what was not checked first, a summary whose numbers add up,
// per day (SVG chart and table) and per seller, then every finding with its evidence.
import { maxOf } from '../../core/arrays.js';
import { type BackupLookupInfo, shownCause } from '../engine/backup-lookup.js';
import { FINDING_ROLES, type FindingRole, type ReconcileReport, type ReportFinding } from './report.js';
import { sealText } from './report-render.js';
import { formatSeconds } from '../../core/config/duration.js';
import { ackState } from '../findings/acknowledgement-text.js';
import {
  type ReportLanguage,
  type MessageId,
  SENTENCES,
  causeMeaning,
  causeName,
  kindName,
  msg,
  statusName,
} from './report-i18n.js';
import {
  ackText,
  evidenceItems,
  fieldsSentence,
  languageOf,
  lookupIncomplete,
  lookupSentence,
  yuan,
  zoned,
} from './report-text.js';

export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const ROLE_TEXT: Record<FindingRole, MessageId> = {
  failing: 'failing',
  acknowledged: 'acknowledged',
  pending_sync: 'informational',
  not_in_fail_on: 'notInFailOn',
};

function chart(report: ReconcileReport, lang: ReportLanguage): string {
  const days = report.days;
  if (days.length === 0) return `<p>${esc(msg(lang, 'noInvoices'))}</p>`;
  const max = Math.max(1, maxOf(days.map((d) => Math.max(d.upstream.count, d.local.count))) ?? 0);
  const w = 14;
  const gap = 6;
  const h = 160;
  const width = days.length * (2 * w + gap) + 40;
  const up = msg(lang, 'upstream');
  const lo = msg(lang, 'local');
  const bars = days
    .map((d, i) => {
      const x = 40 + i * (2 * w + gap);
      const uh = Math.round((d.upstream.count / max) * h);
      const lh = Math.round((d.local.count / max) * h);
      const label = `${d.day}: ${up} ${d.upstream.count} (${yuan(d.upstream.totalFen)}), ${lo} ${d.local.count} (${yuan(d.local.totalFen)}), ${msg(lang, 'findings')} ${d.findings}`;
      const mark = d.equal ? '' : `<text x="${x + w}" y="${h + 12}" class="diff" text-anchor="middle">●</text>`;
      const axis = i % 7 === 0 ? `<text x="${x}" y="${h + 26}" class="axis">${esc(d.day.slice(5))}</text>` : '';
      return `<g><title>${esc(label)}</title><rect x="${x}" y="${h - uh}" width="${w}" height="${uh}" class="up"/><rect x="${x + w}" y="${h - lh}" width="${w}" height="${lh}" class="lo"/>${mark}${axis}</g>`;
    })
    .join('');
  return `<svg role="img" aria-label="${esc(msg(lang, 'perDay'))}" width="${width}" height="${h + 34}" viewBox="0 0 ${width} ${h + 34}">
<text x="0" y="10" class="axis">${max}</text><text x="0" y="${h}" class="axis">0</text>${bars}</svg>
<p class="legend"><span class="sw up"></span> ${esc(up)} <span class="sw lo"></span> ${esc(lo)} <span class="diff">●</span> ${esc(msg(lang, 'chartLegendDiff'))}</p>`;
}

const num = (v: unknown): string => `<td class="num">${esc(v)}</td>`;
const th = (lang: ReportLanguage, id: MessageId, cls = ''): string =>
  `<th${cls ? ` class="${cls}"` : ''}>${esc(msg(lang, id))}</th>`;

function dayTable(report: ReconcileReport, lang: ReportLanguage): string {
  if (report.days.length === 0) return '';
  const rows = report.days.map(
    (d) =>
      `<tr${d.equal ? '' : ' class="differs"'}><td class="day">${esc(d.day)}</td>${num(d.upstream.count)}${num(yuan(d.upstream.totalFen))}${num(d.local.count)}${num(yuan(d.local.totalFen))}<td>${esc(msg(lang, d.equal ? 'equal' : 'differs'))}</td>${num(d.findings)}</tr>`,
  );
  const head = `<tr>${th(lang, 'day')}<th class="num">${esc(msg(lang, 'upstream'))} ${esc(msg(lang, 'invoices'))}</th><th class="num">${esc(msg(lang, 'upstream'))} ${esc(msg(lang, 'totalYuan'))}</th><th class="num">${esc(msg(lang, 'local'))} ${esc(msg(lang, 'invoices'))}</th><th class="num">${esc(msg(lang, 'local'))} ${esc(msg(lang, 'totalYuan'))}</th>${th(lang, 'status')}${th(lang, 'findings', 'num')}</tr>`;
  return `<table class="days">${head}${rows.join('')}</table>`;
}

function sellerTable(report: ReconcileReport, lang: ReportLanguage): string {
  const sellers = report.summary.sellers ?? [];
  if (sellers.length === 0) return `<p>${esc(msg(lang, 'none'))}</p>`;
  const kinds = (s: (typeof sellers)[number]): string =>
    Object.entries(s.byKind)
      .map(([k, n]) => `${kindName(lang, k)} ${n}`)
      .join('<br>');
  const head = `<tr>${th(lang, 'seller')}${th(lang, 'findings', 'num')}${th(lang, 'failing', 'num')}${th(lang, 'kind')}<th class="num">${esc(msg(lang, 'upstream'))} ${esc(msg(lang, 'totalYuan'))}</th><th class="num">${esc(msg(lang, 'local'))} ${esc(msg(lang, 'totalYuan'))}</th></tr>`;
  const rows = sellers.map(
    (s) =>
      `<tr><td class="key">${esc(s.sellerTaxId)}</td>${num(s.findings)}${num(s.failing)}<td>${kinds(s).split('<br>').map(esc).join('<br>')}</td>${num(yuan(s.upstreamFen))}${num(yuan(s.localFen))}</tr>`,
  );
  return `<table>${head}${rows.join('')}</table><p><small>${esc(msg(lang, 'perSellerNote'))}</small></p>`;
}

function summary(report: ReconcileReport, lang: ReportLanguage): string {
  const s = report.summary;
  const r = report.run;
  const rows = s.rows;
  const sides = [
    [`${msg(lang, 'upstream')} (${r.upstream.kind})`, rows?.upstream, s.upstream],
    [msg(lang, 'local'), rows?.local, s.local],
  ] as const;
  const rowsTable = `<table class="rows"><tr>${th(lang, 'side')}${th(lang, 'rowsRead', 'num')}${th(lang, 'rejected', 'num')}${th(lang, 'accepted', 'num')}${th(lang, 'duplicateRows', 'num')}${th(lang, 'distinct', 'num')}${th(lang, 'totalYuan', 'num')}</tr>${sides
    .map(
      ([name, c, t]) =>
        `<tr><th>${esc(name)}</th>${num(c?.read ?? t.count)}${num(c?.rejected ?? '')}${num(c?.accepted ?? t.count)}${num(c?.duplicateRows ?? '')}${num(c?.distinct ?? '')}${num(yuan(t.totalFen))}</tr>`,
    )
    .join('')}</table>`;
  const up = rows?.upstream;
  const rowsSentence = up
    ? `<p>${esc(SENTENCES.rowsAddUp[lang](up.read, up.rejected, up.accepted, up.duplicateRows, up.distinct))}</p>`
    : '';
  // every finding by kind, split into failing and informational: the columns add up
  const roles = s.roles;
  const kinds = Object.entries(s.findings).filter(([, n]) => n > 0);
  const failingOf = (k: string): number => (s.failingByKind as Record<string, number> | undefined)?.[k] ?? 0;
  const kindRows = kinds.map(
    ([k, n]) =>
      `<tr><td>${esc(kindName(lang, k))} <small class="key">${esc(k)}</small></td>${num(n)}${num(failingOf(k))}${num(n - failingOf(k))}</tr>`,
  );
  const total = report.findings.length;
  const failing = roles?.failing ?? s.failing;
  const findingsTable = `<table class="kinds"><tr>${th(lang, 'kind')}${th(lang, 'all', 'num')}${th(lang, 'failing', 'num')}${th(lang, 'informational', 'num')}</tr>${kindRows.length ? kindRows.join('') : `<tr><td colspan="4">${esc(msg(lang, 'none'))}</td></tr>`}<tr class="total"><th>${esc(msg(lang, 'total'))}</th>${num(total)}${num(failing)}${num(total - failing)}</tr></table>`;
  const roleList = roles
    ? `<ul class="roles">${FINDING_ROLES.filter((x) => x !== 'failing' && roles[x] > 0)
        .map(
          (x) =>
            `<li>${esc(x === 'pending_sync' ? causeName(lang, 'pending_sync') : msg(lang, ROLE_TEXT[x]))}: ${esc(roles[x])}${x === 'not_in_fail_on' ? ` <small>(failOn: ${esc(r.parameters.failOn.join(', '))})</small>` : ''}</li>`,
        )
        .join('')}</ul>`
    : '';
  return `${rowsTable}${rowsSentence}${findingsTable}<p>${esc(SENTENCES.findingsAddUp[lang](total, failing, total - failing))}</p>${roleList}`;
}

function side(v: ReportFinding['upstream'], lang: ReportLanguage, tz: string): string {
  if (!v) return '—';
  return `<span class="amount">${esc(yuan(v.totalFen))}</span><br>${esc(statusName(lang, v.status))}<br><small><span class="time">${esc(zoned(v.issuedAt, tz))}</span>${v.sellerTaxId ? `<br>${esc(msg(lang, 'seller'))} ${esc(v.sellerTaxId)}` : ''}${v.origin ? `<br>${esc(v.origin)}` : ''}</small>`;
}

function findingRow(f: ReportFinding, lang: ReportLanguage, tz: string, lookup: BackupLookupInfo | undefined): string {
  const items = evidenceItems(lang, f.evidence, tz, yuan, lookup).map(
    ([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`,
  );
  const row =
    f.evidence.row && typeof f.evidence.row === 'object'
      ? `<li><b>${esc(msg(lang, 'evidence'))}</b>: <code>${esc(JSON.stringify(f.evidence.row))}</code></li>`
      : '';
  const shown = shownCause(f);
  const cause = shown
    ? `<br><i class="cause c-${esc(shown)}">${esc(causeName(lang, shown))}</i><br><small>${esc(causeMeaning(lang, shown))}</small>`
    : '';
  const seen = f.firstSeen
    ? `<small>${esc(SENTENCES.findingsFirstSeen[lang](zoned(f.firstSeen, tz), f.timesSeen ?? 1))}</small>`
    : '';
  const ack = ackState(f) ? `<p class="${ackState(f)}"><b>${esc(ackText(lang, f, tz))}</b></p>` : '';
  return `<tr class="k-${esc(f.kind)}${f.acknowledgement ? ' acknowledged' : ''}"><td>${f.id ? `<small class="key">${esc(f.id)}</small><br>` : ''}${esc(kindName(lang, f.kind))}${cause}</td><td class="key">${esc(f.key)}</td><td class="day">${esc(f.day ?? '')}</td><td class="side">${side(f.upstream, lang, tz)}</td><td class="side">${side(f.local, lang, tz)}</td><td><ul>${items.join('')}${row}</ul>${seen}${ack}</td></tr>`;
}

function verdict(report: ReconcileReport, lang: ReportLanguage): string {
  const s = report.summary;
  const r = report.run;
  const parts = [
    s.upstreamShrank
      ? `<p class="bad"><b>${esc(msg(lang, 'upstreamShrank'))}</b> ${esc(s.upstreamShrank.message)}.</p>`
      : '',
    `<p class="${s.ok ? 'ok' : 'bad'}"><b>${esc(s.ok ? SENTENCES.verdictOk[lang]() : SENTENCES.verdictFailing[lang](s.roles?.failing ?? s.failing))}</b>`,
    s.acknowledged ? ` ${esc(SENTENCES.acknowledged[lang](s.acknowledged))}` : '',
    s.pendingSync > 0
      ? ` ${esc(SENTENCES.pendingSync[lang](s.pendingSync, formatSeconds(r.parameters.syncLagSeconds)))}`
      : '',
    s.inBackup > 0 ? ` ${esc(SENTENCES.inBackup[lang](s.inBackup))}` : '',
    '</p>',
    lookupIncomplete(r.parameters.backupLookup)
      ? `<p class="warn"><b>${esc(msg(lang, 'backupLookup'))}:</b> ${esc(lookupSentence(lang, r.parameters.backupLookup!))}</p>`
      : '',
  ];
  return parts.join('');
}

function runTable(report: ReconcileReport, lang: ReportLanguage, jsonSha256: string | undefined): string {
  const s = report.summary;
  const r = report.run;
  const tz = r.window.timezone;
  const p = r.parameters;
  const row = (id: MessageId, html: string): string => `<tr>${th(lang, id)}<td>${html}</td></tr>`;
  return `<table class="run">
${row('run', esc(r.id))}${row('window', `${esc(r.window.from)} .. ${esc(r.window.to)} (${esc(tz)})`)}
${row('upstream', `${esc(r.upstream.kind)} ${esc(r.upstream.location)}${r.upstream.files ? `<br>${r.upstream.files.map(esc).join('<br>')}` : ''}${r.upstream.hashes === false ? `<br>${esc(msg(lang, 'noHashes'))}` : ''}`)}
${row('local', esc(r.local.location))}
${row('parameters', `syncLag ${esc(formatSeconds(p.syncLagSeconds))} · failOn ${esc(p.failOn.join(', '))} · listLimit ${esc(p.listLimit)}${p.partition ? ` · partition ${esc(p.partition)}` : ''}${p.hashMethod ? ` · hash ${esc(p.hashMethod)}` : ''} · now ${esc(zoned(p.now, tz))}`)}
${p.backupLookup ? row('backupLookup', esc(lookupSentence(lang, p.backupLookup))) : ''}
${r.fields ? row('fields', esc(fieldsSentence(lang, r.fields))) : ''}
${row('startedFinished', `${esc(zoned(r.startedAt, tz))} / ${esc(zoned(r.finishedAt, tz))}`)}
${row('work', `${esc(SENTENCES.work[lang](s.work.buckets, s.work.differingBuckets, s.work.listedBuckets, s.work.rowsListed.upstream, s.work.rowsListed.local))}${s.work.strategy === 'slots' ? ` (${esc(s.work.differingSlots ?? 0)} differing minutes)` : ''}`)}
${row('tool', `fapiao-guard ${esc(r.toolVersion)}`)}
${jsonSha256 ? row('jsonSha', `<span class="key">${esc(jsonSha256)}</span>`) : ''}
</table>`;
}

const STYLE = `body{font:14px/1.5 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left;overflow-wrap:break-word}
th.num,td.num,.amount{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}table.findings{width:100%;min-width:980px;table-layout:fixed}.day{white-space:nowrap}
.key{font-family:ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}td.side{text-align:right}td.side small{display:inline-block;text-align:right}.time{white-space:nowrap}
svg{max-width:100%;height:auto}tr.total th,tr.total td{border-top:2px solid #888;font-weight:bold}tr.differs td{background:#fdf1ef}
.ok{color:#17692f}.bad{color:#b3261e}.warn{background:#fff4d6;border-left:4px solid #d08a00;padding:.4em .8em}.acknowledged{color:#555}
p.acknowledged,p.reopened{margin:.3em 0 0}p.reopened{color:#b3261e}ul{margin:0;padding-left:1.2em}.cause{font-style:normal;font-weight:bold}.c-not_looked_up{color:#9a6100}
svg .up,.sw.up{fill:#4a78b5;background:#4a78b5}svg .lo,.sw.lo{fill:#e39b36;background:#e39b36}.diff{fill:#b3261e;color:#b3261e;font-size:10px}
.axis{font-size:10px;fill:#666}.sw{display:inline-block;width:10px;height:10px}small{color:#555}code{font-size:12px;overflow-wrap:anywhere}`;

export function renderHtml(report: ReconcileReport, jsonSha256?: string): string {
  const lang = languageOf(report);
  const r = report.run;
  const tz = r.window.timezone;
  const warnings = report.warnings.length
    ? `<h2>${esc(msg(lang, 'warnings'))} (${esc(report.summary.warnings)})</h2><table><tr>${th(lang, 'warnings')}${th(lang, 'warningRows', 'num')}${th(lang, 'examples')}</tr>${report.warnings.map((w) => `<tr><td>${esc(w.reason)}</td>${num(w.count)}<td>${w.examples.map((e) => `${esc(e.origin)}: ${esc(e.reason)}`).join('<br>')}</td></tr>`).join('')}</table>`
    : '';
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(msg(lang, 'title'))} ${esc(r.window.from)}..${esc(r.window.to)} — fapiao-guard</title>
<style>
${STYLE}
</style></head><body>
<h1>${esc(msg(lang, 'title'))} ${esc(r.window.from)} – ${esc(r.window.to)}</h1>
${verdict(report, lang)}
<h2 id="summary">${esc(msg(lang, 'summary'))}</h2>
${summary(report, lang)}
<h2 id="per-day">${esc(msg(lang, 'perDay'))}</h2>
${chart(report, lang)}
${dayTable(report, lang)}
<h2 id="per-seller">${esc(msg(lang, 'perSeller'))}</h2>
${sellerTable(report, lang)}
<h2 id="findings">${esc(msg(lang, 'findingsTitle'))} (${esc(report.findings.length)})</h2>
<div class="scroll"><table class="findings"><colgroup><col style="width:14%"><col style="width:17%"><col style="width:9%"><col style="width:17%"><col style="width:17%"><col style="width:26%"></colgroup><tr>${th(lang, 'kind')}${th(lang, 'key')}${th(lang, 'day')}${th(lang, 'upstream', 'num')}${th(lang, 'local', 'num')}${th(lang, 'evidence')}</tr>
${report.findings.map((f) => findingRow(f, lang, tz, r.parameters.backupLookup)).join('\n')}</table></div>
${warnings}
<h2 id="run">${esc(msg(lang, 'runTitle'))}</h2>
${runTable(report, lang, jsonSha256)}
<p><small>${esc(msg(lang, 'sealNote'))}</small></p>
</body></html>
`;
  return sealText(html, '<!-- ', ' -->');
}
