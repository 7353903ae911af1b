// The HTML report an on-call engineer opens, on a laptop or a phone: verdict first, then every
// check, timings and the RTO trend as an inline SVG chart. One file, no external assets; every
// piece of text is escaped. Pure: report and history in, HTML out.
import { maxOf } from '../core/arrays.js';
import { formatSeconds } from '../core/config/duration.js';
import type { DrillReport } from './drill-report.js';

export interface TrendPoint {
  drillId: string;
  startedAt: string;
  status: string;
  rtoSeconds: number | null;
}

export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export function renderDrillHtml(
  report: DrillReport,
  trend: readonly TrendPoint[],
  formatTime: (iso: string) => string,
): string {
  const pass = report.verdict === 'pass';
  const failed = report.checks.filter((c) => !c.ok).length;
  const s = report.seconds;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${pass ? 'PASS' : 'FAIL'} · drill ${report.target} ${report.drillId}`)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
<div class="verdict ${pass ? 'pass' : 'fail'}">
<h1>${pass ? 'PASS' : 'FAIL'} · ${escapeHtml(report.target)}</h1>
<p>${pass ? `backup ${escapeHtml(report.backupId)} restored and proven in ${escapeHtml(formatSeconds(s.total))}` : escapeHtml(report.cause ?? `${failed} check(s) failed`)}</p>
</div>
${drillSection(report, formatTime)}
<section>
<h2>Checks (${report.checks.length - failed} of ${report.checks.length} ok)</h2>
<div class="scroll"><table>
<thead><tr><th>check</th><th>expected</th><th>actual</th><th>result</th></tr></thead>
<tbody>
${checkRows(report)}
</tbody>
</table></div>
</section>
<section>
<h2>Timings</h2>
<table><tbody>
${timingRows(report)}
</tbody></table>
</section>
<section>
<h2>RTO over the last drills</h2>
${trendSvg(trend, report.objectives.rtoSeconds, report.drillId, formatTime)}
</section>
<footer>${escapeHtml(`${report.tool.name} ${report.tool.version}`)}${report.reportObject ? ` · JSON: ${escapeHtml(report.reportObject)}` : ''}</footer>
</main>
</body>
</html>
`;
}

const STYLE = `body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:12px;color:#1d2327;background:#f6f7f7}
main{max-width:860px;margin:0 auto}
.verdict{padding:16px;border-radius:8px;color:#fff;margin-bottom:12px}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#b3261e}
.verdict h1{margin:0;font-size:28px}.verdict p{margin:6px 0 0;overflow-wrap:anywhere}
section{background:#fff;border-radius:8px;padding:12px;margin-bottom:12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:17px;margin:0 0 8px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
td,th{padding:6px 8px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
td.v{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere;word-break:break-all}
tr.bad td{background:#fdecea}tr.bad td.r{color:#b3261e;font-weight:700}tr.ok td.r{color:#1a7f37}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dt{color:#50575e}dd{margin:0;overflow-wrap:anywhere}
svg{width:100%;height:auto;display:block}
footer{color:#50575e;font-size:13px;text-align:center}`;

/** What was drilled, when, and how the RTO and RPO compare with their objectives. */
function drillSection(report: DrillReport, formatTime: (iso: string) => string): string {
  const s = report.seconds;
  return `<section>
<h2>Drill</h2>
<dl>
<dt>drill</dt><dd>${escapeHtml(report.drillId)}</dd>
<dt>when</dt><dd>${escapeHtml(formatTime(report.startedAt))}</dd>
<dt>backup</dt><dd>${escapeHtml(report.backupId)} (finished ${escapeHtml(formatTime(report.backupFinishedAt))}, picked as ${escapeHtml(report.pick)})</dd>
<dt>RTO</dt><dd>${escapeHtml(formatSeconds(s.total))} (objective ${escapeHtml(formatSeconds(report.objectives.rtoSeconds))})</dd>
<dt>RPO</dt><dd>backup age ${escapeHtml(formatSeconds(report.rpoSeconds))}; newest backup ${escapeHtml(formatSeconds(report.newestBackup.ageSeconds))} old (objective ${escapeHtml(formatSeconds(report.objectives.rpoSeconds))})</dd>
<dt>scratch</dt><dd>${escapeHtml(report.scratch.database)} on ${escapeHtml(report.scratch.server)}${report.scratch.kept ? ' (kept: drop it when done)' : ' (dropped)'}</dd>
</dl>
</section>`;
}

function checkRows(report: DrillReport): string {
  return report.checks
    .map(
      (c) =>
        `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${escapeHtml(c.name)}</td><td class="v">${escapeHtml(c.expected ?? '—')}</td><td class="v">${escapeHtml(c.actual ?? '—')}</td><td class="r">${c.ok ? 'ok' : 'FAILED'}</td></tr>`,
    )
    .join('\n');
}

/** Download, restore, checks and total, each in seconds from the drill's start. */
function timingRows(report: DrillReport): string {
  const s = report.seconds;
  return [
    ['download (read, verify, decrypt)', s.download],
    ['restore (pg_restore, from the same start)', s.restore],
    [
      `checks, after the restore (${report.tablesCheckedDuringRestore} table${report.tablesCheckedDuringRestore === 1 ? '' : 's'} measured during it)`,
      s.checks,
    ],
    ['total (RTO)', s.total],
  ]
    .map(
      ([label, value]) =>
        `<tr><td>${escapeHtml(label)}</td><td class="v">${escapeHtml(formatSeconds(value as number))}</td></tr>`,
    )
    .join('\n');
}

/** Bars of RTO per drill, oldest left; the objective as a dashed line; failures in red. */
export function trendSvg(
  points: readonly TrendPoint[],
  objective: number,
  current: string,
  formatTime: (iso: string) => string,
): string {
  const data = points.filter((p) => p.rtoSeconds !== null);
  if (data.length === 0) return '<p>No earlier drills with a measured RTO yet.</p>';
  const width = 600;
  const height = 220;
  const pad = { left: 48, right: 8, top: 12, bottom: 28 };
  // Scale to the drills, not to a far-away objective: a 1 s RTO under a 15 min objective would be invisible.
  const worst = maxOf(data.map((p) => p.rtoSeconds!)) ?? -Infinity;
  const objectiveOnChart = objective <= worst * 3;
  const max = (objectiveOnChart ? Math.max(objective, worst) : worst) * 1.1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / data.length;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const bars = data
    .map((p, i) => {
      const x = pad.left + i * slot + (slot - barW) / 2;
      const top = y(p.rtoSeconds!);
      const colour = p.status === 'pass' ? '#1a7f37' : '#b3261e';
      const label = `${formatTime(p.startedAt)} · ${p.status} · RTO ${formatSeconds(p.rtoSeconds!)}`;
      return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(pad.top + plotH - top).toFixed(1)}" fill="${colour}"${p.drillId === current ? ' stroke="#1d2327" stroke-width="2"' : ' opacity="0.8"'}><title>${escapeHtml(label)}</title></rect>`;
    })
    .join('');
  const objY = y(objective);
  const first = data[0]!;
  const last = data.at(-1)!;
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`RTO of the last ${data.length} drills against the objective of ${formatSeconds(objective)}`)}" xmlns="http://www.w3.org/2000/svg">
<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${width - pad.right}" y2="${pad.top + plotH}" stroke="#8c8f94"/>
<text x="${pad.left - 4}" y="${pad.top + 10}" font-size="11" text-anchor="end" fill="#50575e">${escapeHtml(formatSeconds(max))}</text>
<text x="${pad.left - 4}" y="${pad.top + plotH}" font-size="11" text-anchor="end" fill="#50575e">0</text>
${bars}
${
  objectiveOnChart
    ? `<line x1="${pad.left}" y1="${objY.toFixed(1)}" x2="${width - pad.right}" y2="${objY.toFixed(1)}" stroke="#b3261e" stroke-dasharray="6 4"/>
<text x="${width - pad.right}" y="${(objY - 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#b3261e">${escapeHtml(`objective ${formatSeconds(objective)}`)}</text>`
    : `<text x="${width - pad.right}" y="${pad.top + 10}" font-size="11" text-anchor="end" fill="#1a7f37">${escapeHtml(`objective ${formatSeconds(objective)}: far above every drill shown`)}</text>`
}
<text x="${pad.left}" y="${height - 8}" font-size="11" fill="#50575e">${escapeHtml(formatTime(first.startedAt).slice(0, 16))}</text>
<text x="${width - pad.right}" y="${height - 8}" font-size="11" text-anchor="end" fill="#50575e">${escapeHtml(formatTime(last.startedAt).slice(0, 16))}</text>
</svg>`;
}
