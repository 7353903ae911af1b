// `reconcile` as one checklist: resolve the window, open both sides, compare, classify, persist
// the findings, write the JSON/CSV/HTML reports. Used by the CLI, the job and the demo.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../core/config/config.js';
import { ConfigError, UsageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { makeRunId } from '../core/run-id.js';
import { withStateDb } from '../core/state/state-db.js';
import { TOOL_VERSION } from '../core/version.js';
import { lookUpInBackups, markNotLookedUp } from './engine/backup-lookup.js';
import { linkRejectedRows } from './engine/rejected-rows.js';
import { classify, failing as failingOf } from './engine/classify.js';
import { comparedFields } from './compared-fields.js';
import { pairRedLetters } from './engine/red-letter.js';
import { compareSources } from './engine/engine.js';
import { previousUpstreamDays, reconcileScope, recordRun } from './findings/findings-store.js';
import { DEFAULT_INPUT_LIMITS } from './sources/input-limits.js';
import { type UpstreamShrink, rowsPerDay, shrinkMessage, upstreamShrink } from './findings/shrink-guard.js';
import { baseDirOf, openPgSide, openUpstream } from './sources/open-sources.js';
import type { ReconcileConfig } from './reconcile-config.js';
import { type ReconcileReport, type ReportFinding, buildReport, invalidInputFinding } from './report/report.js';
import { renderHtml } from './report/report-html.js';
import { reportLanguage } from './report/report-i18n.js';
import { renderCsv, renderJson } from './report/report-render.js';
import type { InvoiceSource, Window } from './model/types.js';
import { addDays, isDay, today } from '../core/zoned-time.js';

export interface RunReconcileOptions {
  config: Config;
  logger: Logger;
  signal?: AbortSignal;
  /** --from / --to (calendar days in config.timezone), overriding reconcile.window */
  from?: string;
  to?: string;
  /** where to write the reports (default reconcile.reportDir) */
  reportDir?: string;
  /** instead of config.reconcile (the demo) */
  reconcile?: ReconcileConfig;
  /** record findings in the state DB (default true) */
  persist?: boolean;
  now?: Date;
}

export interface RunReconcileResult {
  report: ReconcileReport;
  files: { json: string; csv: string; html: string };
  /** the JSON report exactly as written (what `reconcile --json` prints) */
  jsonText: string;
  ok: boolean;
}

export function resolveWindow(rc: ReconcileConfig, timezone: string, now: Date, from?: string, to?: string): Window {
  for (const [flag, v] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (v !== undefined && !isDay(v)) throw new UsageError(`${flag} '${v}' is not a date like 2026-11-01`);
  }
  const configured =
    'days' in rc.window
      ? { from: addDays(today(now, timezone), 1 - rc.window.days), to: today(now, timezone) }
      : rc.window;
  const window = { from: from ?? configured.from, to: to ?? configured.to, timezone };
  if (window.from > window.to)
    throw new UsageError(`the window starts (${window.from}) after it ends (${window.to})`, {
      hint: 'check --from and --to',
    });
  return window;
}

export async function runReconcile(options: RunReconcileOptions): Promise<RunReconcileResult> {
  const { config, logger } = options;
  const rc = options.reconcile ?? config.reconcile;
  if (!rc)
    throw new ConfigError(`the configuration has no 'reconcile' section`, [], {
      hint: 'add reconcile: {upstream: {type: file, path: ./exports/*.xlsx}}; see the README section "Reconciliation"',
    });
  const now = options.now ?? new Date();
  const startedAt = new Date();
  const window = resolveWindow(rc, config.timezone, now, options.from, options.to);
  const id = makeRunId(startedAt);
  logger.info({ run: id, window, upstream: rc.upstream.type }, 'reconcile started');

  const opened: InvoiceSource[] = [];
  try {
    const local = await openPgSide(config, rc, rc.local, 'local');
    opened.push(local);
    const upstream = await openUpstream(config, rc, now, baseDirOf(config), options.signal);
    opened.push(upstream.source);

    const result = await compareSources(upstream.source, local, {
      window,
      partition: rc.partition !== undefined,
      limits: { listLimit: rc.listLimit, maxPrefix: 8 },
      ...(options.signal ? { signal: options.signal } : {}),
      debug: (msg, details) => logger.debug(details ?? {}, msg),
    });
    const problems = upstream.source.problems();
    const inWindow = (day: string | undefined): boolean =>
      day === undefined || (day >= window.from && day <= window.to);
    const upstreamRows = upstream.source.rows?.();
    const findings: ReportFinding[] = [
      ...classify(result.diffs, {
        now,
        syncLagSeconds: rc.syncLagSeconds,
        invalidUpstreamKeys: upstream.invalidKeys,
        fields: result.fields,
      }),
      ...(upstreamRows
        ? await pairRedLetters({ upstream: upstreamRows, window, lookupLocal: (keys) => local.lookup(keys) })
        : []),
      ...problems.errors.filter((p) => inWindow(p.day)).map(invalidInputFinding),
    ];
    // before persisting, so the state DB records the cause too
    const backupLookup = await lookUpInBackups({
      config,
      rc,
      findings,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    markNotLookedUp(findings, backupLookup);
    linkRejectedRows(findings, config.timezone);
    let failing = failingOf(findings, rc.failOn).length;
    const scope = reconcileScope(local.info.location, `${upstream.source.info.kind}:${upstream.source.info.location}`);
    const finishedAt = new Date().toISOString();
    const run: ReconcileReport['run'] = {
      id,
      scope,
      startedAt: startedAt.toISOString(),
      finishedAt,
      window,
      upstream: upstream.source.info,
      local: local.info,
      parameters: {
        syncLagSeconds: rc.syncLagSeconds,
        failOn: rc.failOn,
        listLimit: rc.listLimit,
        ...(rc.partition ? { partition: rc.partition } : {}),
        now: now.toISOString(),
        ...(result.stats.hashMethod ? { hashMethod: result.stats.hashMethod } : {}),
        backupLookup,
      },
      fields: comparedFields(rc, {
        compared: result.fields,
        upstream: upstream.source.fields ?? [],
        redLetters: upstreamRows !== undefined,
      }),
      toolVersion: TOOL_VERSION,
      language: reportLanguage(config),
    };
    let persisted: { resolved: number; escalated: number } | undefined;
    let shrink: UpstreamShrink | undefined;
    if (options.persist !== false) {
      const upstreamDays = rowsPerDay(result.days);
      const maxShrink = (rc.limits ?? DEFAULT_INPUT_LIMITS).maxShrink;
      const saved = await withStateDb(config, async (client) => {
        shrink = upstreamShrink(upstreamDays, window, await previousUpstreamDays(client, scope), maxShrink);
        if (shrink) logger.error({ run: id, ...shrink }, shrinkMessage(shrink));
        return recordRun(
          client,
          {
            id,
            scope,
            startedAt: run.startedAt,
            finishedAt,
            window,
            upstream: run.upstream,
            local: run.local,
            failOn: rc.failOn,
            upstreamDays,
            ...(shrink ? { upstreamShrank: shrink } : {}),
          },
          findings,
        );
      });
      findings.forEach((f, i) => Object.assign(f, saved.history[i]));
      persisted = { resolved: saved.resolved, escalated: saved.escalated };
      failing = saved.failing; // acknowledged findings no longer fail
    }
    const report = buildReport({
      run,
      days: result.days,
      findings,
      failing,
      warnings: problems.warnings.filter((p) => inWindow(p.day)),
      rejectedRows: problems.errors.filter((p) => inWindow(p.day)).length,
      stats: result.stats,
      ...(persisted ? { persisted } : {}),
      ...(shrink ? { upstreamShrank: shrink } : {}),
    });
    const { files, jsonText } = await writeReports(report, path.resolve(options.reportDir ?? rc.reportDir));
    logger.info(
      { run: id, failing, findings: findings.length, html: files.html },
      failing === 0 ? 'reconcile clean' : 'reconcile found differences',
    );
    return { report, files, jsonText, ok: report.summary.ok };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

/** reconcile-<run>.json/.csv/.html; the HTML names the JSON's sha256 so the two vouch for each other. */
export async function writeReports(
  report: ReconcileReport,
  dir: string,
): Promise<{ files: RunReconcileResult['files']; jsonText: string }> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `reconcile-${report.run.id}`);
  const json = renderJson(report);
  const sha = (JSON.parse(json) as { sha256: string }).sha256;
  report.sha256 = sha;
  const files = { json: `${base}.json`, csv: `${base}.csv`, html: `${base}.html` };
  await writeFile(files.json, json);
  await writeFile(files.csv, renderCsv(report));
  await writeFile(files.html, renderHtml(report, sha));
  return { files, jsonText: json };
}
