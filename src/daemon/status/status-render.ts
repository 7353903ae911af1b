// status for people: a terminal table (the `status` command) and a small self-contained HTML page
// (the daemon's /status). Pure: a StatusReport in, text out. Times in the configured zone.
import { formatTable, formatTime } from '../../core/format.js';
import { formatSeconds } from '../../core/config/duration.js';
import { formatBytes } from '../../core/progress.js';
import type { JobState } from './assess.js';
import type { OpenFindings, StatusReport } from './status.js';

function rows(report: StatusReport): string[][] {
  const tz = report.timezone;
  const out: string[][] = [];
  for (const t of report.targets) {
    const b = t.backup.newest;
    const d = t.drill.last;
    out.push([
      t.target,
      t.ok ? 'ok' : 'PROBLEM',
      b ? `${b.id} (${formatBytes(b.storedBytes)})` : 'none',
      b ? `${formatSeconds(b.ageSeconds)} / ${formatSeconds(t.backup.rpoObjectiveSeconds)}` : '',
      d
        ? `${d.status}${d.rtoSeconds !== null ? ` RTO ${formatSeconds(d.rtoSeconds)}` : ''}${d.finishedAt ? ` ${formatTime(d.finishedAt, tz)}` : ''}`
        : 'never',
      jobsCell(t.jobs, tz),
    ]);
  }
  if (report.globalJobs.length > 0)
    out.push([
      '(all)',
      report.globalJobs.some((j) => j.lastRun?.isFailure || j.overdue) ? 'PROBLEM' : 'ok',
      '',
      '',
      '',
      jobsCell(report.globalJobs, tz),
    ]);
  return out;
}

function repositoryLine(r: StatusReport['repositories'][number]): string {
  if (r.error) return `UNREADABLE: ${r.error}`;
  const rpo = formatSeconds(r.rpoObjectiveSeconds);
  return r.targets
    .map((t) => `${t.target} ${t.newest ? `${t.newest.id} ${formatSeconds(t.newest.ageSeconds)} / ${rpo}` : 'none'}`)
    .join('; ');
}

function jobsCell(jobs: readonly JobState[], tz: string): string {
  return jobs
    .map(
      (j) =>
        `${j.job}: ${j.lastRun ? `${j.lastRun.status} ${formatTime(j.lastRun.finishedAt ?? j.lastRun.fireTime, tz).slice(0, 16)}` : 'never'}${j.overdue ? ' OVERDUE' : ''}`,
    )
    .join('; ');
}

const byKind = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/**
 * `open findings: 22 (missing 8, …) = 18 failing (missing 6, …) + 2 pending sync + 2 acknowledged`:
 * the parts add up to the open count, so the failing line under it never looks like a contradiction.
 */
export function findingsLine(f: OpenFindings): string {
  if (f.open === 0) return 'open findings: 0';
  const failing = f.failing ?? Object.values(f.dueByKind).reduce((a, b) => a + b, 0);
  const pending = f.pendingSync ?? 0;
  const other = f.open - failing - pending - f.acknowledged;
  const parts = [
    `${failing} failing${failing && f.failingByKind ? ` (${byKind(f.failingByKind)})` : ''}`,
    ...(pending ? [`${pending} pending sync (within the sync lag: not failing yet)`] : []),
    ...(f.acknowledged ? [`${f.acknowledged} acknowledged (not failing)`] : []),
    ...(other > 0 ? [`${other} of kinds not in reconcile.failOn`] : []),
  ];
  return `open findings: ${f.open} (${byKind(f.byKind)}) = ${parts.join(' + ')}`;
}

const HEADERS = ['target', 'state', 'newest backup', 'age / RPO', 'last drill', 'last runs'];

export function renderStatusText(report: StatusReport): string {
  const lines = [formatTable(HEADERS, rows(report))];
  if (report.findings) lines.push(findingsLine(report.findings));
  for (const r of report.repositories ?? []) lines.push(`repository '${r.name}' (${r.location}): ${repositoryLine(r)}`);
  const alive = report.daemons.filter((d) => d.alive);
  lines.push(
    alive.length
      ? `daemons: ${alive.map((d) => `${d.host} pid ${d.pid}${d.concurrency ? ` ×${d.concurrency}` : ''}${d.listen ? ` (${d.listen})` : ''}`).join(', ')}`
      : 'daemons: none alive',
  );
  lines.push(queueLine(report.queue));
  lines.push(
    report.ok
      ? 'OK: nothing stale or failing'
      : `${report.problems.length} problem(s):\n${report.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderStatusHtml(report: StatusReport): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const table = `<table><tr>${HEADERS.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows(report)
    .map((r) => `<tr class="${r[1] === 'ok' ? 'ok' : 'bad'}">${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const problems = report.ok
    ? '<p class="ok">Nothing stale or failing.</p>'
    : `<ul class="bad">${report.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`;
  const findings = report.findings ? `<p>${esc(findingsLine(report.findings))}</p>` : '';
  const daemons = `<p>Daemons: ${esc(
    report.daemons
      .filter((d) => d.alive)
      .map((d) => `${d.host} pid ${d.pid}`)
      .join(', ') || 'none alive',
  )}</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60"><title>fapiao-guard status: ${report.ok ? 'ok' : 'PROBLEM'}</title>
<style>body{font:14px system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}
tr.bad td:nth-child(2),.bad{color:#b00020}.ok{color:#1b5e20}</style></head><body>
<h1>fapiao-guard: ${report.ok ? 'ok' : `${report.problems.length} problem(s)`}</h1>${problems}${table}${findings}${daemons}
<p><small>generated ${esc(formatTime(report.generatedAt, report.timezone))} · <a href="/status.json">JSON</a> · <a href="/metrics">metrics</a></small></p></body></html>\n`;
}

/** `queue: 3 queued; host-a: 2 running, 1 retried, 0 failed; …` */
export function queueLine(q: StatusReport['queue']): string {
  const hosts = q.hosts.map((h) => `${h.host}: ${h.running} running, ${h.retried} retried, ${h.failed} failed`);
  return `queue: ${q.queued} queued${hosts.length ? `; ${hosts.join('; ')}` : ''}`;
}
