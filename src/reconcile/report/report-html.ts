// The auditors' HTML report: one self-contained file (no scripts, no external assets), summary
// first, a per-day SVG chart of upstream vs local, then every finding with its evidence.
import { maxOf } from '../../core/arrays.js';
import { STATUS_LABELS_ZH, isCanonicalStatus } from '../model/invoice-status.js';
import { describeFields } from '../compared-fields.js';
import { type ReconcileReport, type ReportFinding, lookupText } from './report.js';
import { sealText } from './report-render.js';
import { formatFen } from '../model/validators.js';
import { formatSeconds } from '../../core/config/duration.js';
import { formatTime } from '../../core/format.js';
import { ackLine, ackState } from '../findings/acknowledgement-text.js';

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const KIND_TEXT: Record<string, string> = {
  missing: 'missing locally (upstream only)',
  extra: 'extra locally (not upstream)',
  amount_mismatch: 'amount differs',
  status_mismatch: 'status differs',
  date_mismatch: 'issue day differs',
  duplicate: 'duplicate key',
  invalid_input: 'invalid upstream row',
};

/** What each cause means, next to its name (the name is what the JSON, CSV and state DB carry). */
const CAUSE_TEXT: Record<string, string> = {
  pending_sync: 'issued within the sync lag: not due locally yet',
  probable_typo: 'one typing error away from an invoice on the other side',
  in_backup: 'it reached the local database and was lost after the backup named in the evidence: restore it from there',
};

function status(s: string | undefined): string {
  if (!s) return '';
  return isCanonicalStatus(s) ? `${s} (${STATUS_LABELS_ZH[s]})` : s;
}

function chart(report: ReconcileReport): string {
  const days = report.days;
  if (days.length === 0) return '<p>No invoices on either side in this window.</p>';
  const max = Math.max(1, maxOf(days.map((d) => Math.max(d.upstream.count, d.local.count))) ?? 0);
  const w = 14;
  const gap = 6;
  const h = 160;
  const width = days.length * (2 * w + gap) + 40;
  const bars = days
    .map((d, i) => {
      const x = 40 + i * (2 * w + gap);
      const uh = Math.round((d.upstream.count / max) * h);
      const lh = Math.round((d.local.count / max) * h);
      const label = `${d.day}: upstream ${d.upstream.count} (${formatFen(BigInt(d.upstream.totalFen))}), local ${d.local.count} (${formatFen(BigInt(d.local.totalFen))}), findings ${d.findings}`;
      const mark = d.equal ? '' : `<text x="${x + w}" y="${h + 12}" class="diff" text-anchor="middle">●</text>`;
      return `<g><title>${esc(label)}</title><rect x="${x}" y="${h - uh}" width="${w}" height="${uh}" class="up"/><rect x="${x + w}" y="${h - lh}" width="${w}" height="${lh}" class="lo"/>${mark}${i % 7 === 0 ? `<text x="${x}" y="${h + 26}" class="axis">${esc(d.day.slice(5))}</text>` : ''}</g>`;
    })
    .join('');
  return `<svg role="img" aria-label="invoices per day, upstream vs local" width="${width}" height="${h + 34}" viewBox="0 0 ${width} ${h + 34}">
<text x="0" y="10" class="axis">${max}</text><text x="0" y="${h}" class="axis">0</text>${bars}</svg>
<p class="legend"><span class="sw up"></span> upstream <span class="sw lo"></span> local <span class="diff">●</span> day with differences (hover a bar for numbers)</p>`;
}

/** Evidence items that are instants, shown in the report's zone. */
const ZONED_EVIDENCE = new Set(['backupFinishedAt']);

function evidence(f: ReportFinding, timeZone: string): string {
  const text = (k: string, v: unknown): string => (typeof v === 'string' ? (ZONED_EVIDENCE.has(k) ? zoned(v, timeZone) : v) : JSON.stringify(v));
  const items = Object.entries(f.evidence).map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(text(k, v))}</li>`);
  return `<ul>${items.join('')}</ul>`;
}

/** An ISO instant in the report's time zone, as auditors read it; anything else as given. */
function zoned(value: string | undefined, timeZone: string): string {
  if (!value) return '';
  return Number.isNaN(Date.parse(value)) ? value : formatTime(value, timeZone);
}

function findingRow(f: ReportFinding, timeZone: string): string {
  const side = (v: ReportFinding['upstream']): string =>
    v ? `${esc(formatFen(v.totalFen))}<br>${esc(status(v.status))}<br><small>${esc(zoned(v.issuedAt, timeZone))}${v.origin ? `<br>${esc(v.origin)}` : ''}</small>` : '—';
  return `<tr class="k-${esc(f.kind)}${f.acknowledgement ? ' acknowledged' : ''}"><td>${f.id ? `<small class="key">${esc(f.id)}</small><br>` : ''}${esc(KIND_TEXT[f.kind] ?? f.kind)}${f.cause ? `<br><i>${esc(f.cause)}</i>${CAUSE_TEXT[f.cause] ? `<br><small>${esc(CAUSE_TEXT[f.cause])}</small>` : ''}` : ''}</td><td class="key">${esc(f.key)}</td><td class="day">${esc(f.day ?? '')}</td><td>${side(f.upstream)}</td><td>${side(f.local)}</td><td>${evidence(f, timeZone)}${f.firstSeen ? `<small>first seen ${esc(zoned(f.firstSeen, timeZone))}, seen ${esc(f.timesSeen)}×</small>` : ''}${ackState(f) ? `<p class="${ackState(f)}"><b>${esc(ackLine(f, timeZone))}</b></p>` : ''}</td></tr>`;
}

export function renderHtml(report: ReconcileReport, jsonSha256?: string): string {
  const s = report.summary;
  const r = report.run;
  const kinds = Object.entries(s.findings).filter(([, n]) => n > 0);
  const tz = r.window.timezone;
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Reconciliation ${esc(r.window.from)}..${esc(r.window.to)} — fapiao-guard</title>
<style>
body{font:14px/1.45 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left;overflow-wrap:break-word}
.scroll{overflow-x:auto}table.findings{width:100%;min-width:900px;table-layout:fixed}.day{white-space:nowrap}.key{overflow-wrap:anywhere}svg{max-width:100%;height:auto}
.ok{color:#17692f}.bad{color:#b3261e}.acknowledged{color:#555}p.acknowledged,p.reopened{margin:.3em 0 0}p.reopened{color:#b3261e}.key{font-family:ui-monospace,monospace}ul{margin:0;padding-left:1.2em}
svg .up,.sw.up{fill:#4a78b5;background:#4a78b5}svg .lo,.sw.lo{fill:#e39b36;background:#e39b36}.diff{fill:#b3261e;color:#b3261e;font-size:10px}
.axis{font-size:10px;fill:#666}.sw{display:inline-block;width:10px;height:10px}small{color:#555}
</style></head><body>
<h1>Invoice reconciliation ${esc(r.window.from)} – ${esc(r.window.to)}</h1>
${s.upstreamShrank ? `<p class="bad"><b>Upstream shrank — nothing resolved.</b> ${esc(s.upstreamShrank.message)}.</p>\n` : ''}<p class="${s.ok ? 'ok' : 'bad'}"><b>${s.ok ? 'No findings that fail the run.' : `${esc(s.failing)} finding(s) need attention.`}</b>${s.acknowledged ? ` ${esc(s.acknowledged)} acknowledged finding(s) do not fail the run; each says who accepted it and why.` : ''}
${s.pendingSync > 0 ? ` ${esc(s.pendingSync)} invoice(s) are pending sync (issued within ${esc(formatSeconds(r.parameters.syncLagSeconds))}, the sync lag).` : ''}${s.inBackup > 0 ? ` ${esc(s.inBackup)} missing invoice(s) are still in a backup: they reached the local database and were lost after it (cause in_backup; each finding names the backup to restore from).` : ''}</p>
<h2>Summary</h2>
<table><tr><th></th><th>invoices</th><th>total (价税合计)</th></tr>
<tr><th>upstream (${esc(r.upstream.kind)})</th><td>${esc(s.upstream.count)}</td><td>${esc(s.upstream.total)}</td></tr>
<tr><th>local</th><td>${esc(s.local.count)}</td><td>${esc(s.local.total)}</td></tr>
<tr><th>upstream rows rejected</th><td>${esc(s.upstream.rejectedRows)}</td><td></td></tr></table>
<table><tr><th>finding</th><th>count</th></tr>${kinds.length === 0 ? '<tr><td colspan="2">none</td></tr>' : kinds.map(([k, n]) => `<tr><td>${esc(KIND_TEXT[k] ?? k)}</td><td>${esc(n)}</td></tr>`).join('')}</table>
<h2>Per day</h2>
${chart(report)}
<h2>Findings (${esc(report.findings.length)})</h2>
<div class="scroll"><table class="findings"><colgroup><col style="width:14%"><col style="width:22%"><col style="width:10%"><col style="width:13%"><col style="width:12%"><col style="width:29%"></colgroup><tr><th>kind</th><th>key</th><th>day</th><th>upstream</th><th>local</th><th>evidence</th></tr>
${report.findings.map((f) => findingRow(f, tz)).join('\n')}</table></div>
${report.warnings.length > 0 ? `<h2>Warnings (${esc(s.warnings)})</h2><table><tr><th>warning</th><th>rows</th><th>examples</th></tr>${report.warnings.map((w) => `<tr><td>${esc(w.reason)}</td><td>${esc(w.count)}</td><td>${w.examples.map((e) => `${esc(e.origin)}: ${esc(e.reason)}`).join('<br>')}</td></tr>`).join('')}</table>` : ''}
<h2>Run</h2>
<table>
<tr><th>run</th><td>${esc(r.id)}</td></tr><tr><th>window</th><td>${esc(r.window.from)} .. ${esc(r.window.to)} (${esc(r.window.timezone)})</td></tr>
<tr><th>upstream</th><td>${esc(r.upstream.kind)} ${esc(r.upstream.location)}${r.upstream.files ? `<br>${r.upstream.files.map(esc).join('<br>')}` : ''}${r.upstream.hashes === false ? '<br>(no hashes: every day was listed)' : ''}</td></tr>
<tr><th>local</th><td>${esc(r.local.location)}</td></tr>
<tr><th>parameters</th><td>syncLag ${esc(formatSeconds(r.parameters.syncLagSeconds))} · failOn ${esc(r.parameters.failOn.join(', '))} · listLimit ${esc(r.parameters.listLimit)}${r.parameters.partition ? ` · partition ${esc(r.parameters.partition)}` : ''}${r.parameters.hashMethod ? ` · hash ${esc(r.parameters.hashMethod)}` : ''} · now ${esc(zoned(r.parameters.now, tz))}${r.parameters.backupLookup ? `<br>backup lookup: ${esc(lookupText(r.parameters.backupLookup))}` : ''}</td></tr>
${r.fields ? `<tr><th>fields</th><td>${esc(describeFields(r.fields))}</td></tr>` : ''}
<tr><th>started / finished</th><td>${esc(zoned(r.startedAt, tz))} / ${esc(zoned(r.finishedAt, tz))}</td></tr>
<tr><th>work</th><td>${esc(s.work.buckets)} day buckets, ${esc(s.work.differingBuckets)} differing${s.work.strategy === 'slots' ? ` (${esc(s.work.differingSlots ?? 0)} differing minutes)` : ''}, ${esc(s.work.listedBuckets)} listed, rows listed ${esc(s.work.rowsListed.upstream)} upstream / ${esc(s.work.rowsListed.local)} local</td></tr>
<tr><th>tool</th><td>fapiao-guard ${esc(r.toolVersion)}</td></tr>
${jsonSha256 ? `<tr><th>JSON report sha256</th><td class="key">${esc(jsonSha256)}</td></tr>` : ''}
</table>
<p><small>The last line of this file holds the sha256 of every byte before it.</small></p>
</body></html>
`;
  return sealText(html, '<!-- ', ' -->');
}
