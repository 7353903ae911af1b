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
import { type BackupLookupInfo, lookUpInBackups, markNotLookedUp } from './engine/backup-lookup.js';
import { linkRejectedRows } from './engine/rejected-rows.js';
import { classify, failing as failingOf } from './engine/classify.js';
import { comparedFields } from './compared-fields.js';
import { pairRedLetters } from './engine/red-letter.js';
import { compareSources } from './engine/engine.js';
import { previousUpstreamDays, reconcileScope, recordRun } from './findings/findings-store.js';
import { DEFAULT_INPUT_LIMITS } from './sources/input-limits.js';
import { type UpstreamShrink, rowsPerDay, shrinkMessage, upstreamShrink } from './findings/shrink-guard.js';
import { type OpenedSource, baseDirOf, openPgSide, openUpstream } from './sources/open-sources.js';
import type { PgSource } from './sources/pg-source.js';
import type { ReconcileConfig } from './reconcile-config.js';
import { type ReconcileReport, type ReportFinding, buildReport, invalidInputFinding } from './report/report.js';
import { renderHtml } from './report/report-html.js';
import { reportLanguage } from './report/report-i18n.js';
import { renderCsv, renderJson } from './report/report-render.js';
import type { Invoice, InvoiceSource, SourceProblems, Window } from './model/types.js';
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
  const rc = options.reconcile ?? options.config.reconcile;
  if (!rc)
    throw new ConfigError(`the configuration has no 'reconcile' section`, [], {
      hint: 'add reconcile: {upstream: {type: file, path: ./exports/*.xlsx}}; see the README section "Reconciliation"',
    });
  return new Reconciliation(options, rc).run();
}

type Compared = Awaited<ReturnType<typeof compareSources>>;

/** What the comparison found, with the upstream's input problems and (a file upstream) its rows. */
interface Found {
  findings: ReportFinding[];
  problems: SourceProblems;
  upstreamRows: Invoice[] | undefined;
}

/**
 * One reconcile run, the checklist of the file's header: `#openSides`, `#compare`, `#findingsOf`
 * (classify, red letters, invalid input), `#lookUpInBackups`, `#runInfo`, `#persist` (state DB,
 * shrink guard), then the report built and written. Both sides are closed however it ends.
 */
class Reconciliation {
  readonly #now: Date;
  readonly #startedAt: Date;
  readonly #window: Window;
  readonly #id: string;

  constructor(
    private readonly options: RunReconcileOptions,
    private readonly rc: ReconcileConfig,
  ) {
    this.#now = options.now ?? new Date();
    this.#startedAt = new Date();
    this.#window = resolveWindow(rc, options.config.timezone, this.#now, options.from, options.to);
    this.#id = makeRunId(this.#startedAt);
  }

  async run(): Promise<RunReconcileResult> {
    const { logger } = this.options;
    const { rc } = this;
    const window = this.#window;
    logger.info({ run: this.#id, window, upstream: rc.upstream.type }, 'reconcile started');
    const opened: InvoiceSource[] = [];
    try {
      const { local, upstream } = await this.#openSides(opened);
      const result = await this.#compare(local, upstream.source);
      const { findings, problems, upstreamRows } = await this.#findingsOf(result, local, upstream);
      const backupLookup = await this.#lookUpInBackups(findings);
      const run = this.#runInfo(result, local, upstream.source, upstreamRows, backupLookup);
      const { failing, persisted, shrink } = await this.#persist(result, run, findings);
      const report = buildReport({
        run,
        days: result.days,
        findings,
        failing,
        warnings: problems.warnings.filter((p) => inWindow(window, p.day)),
        rejectedRows: problems.errors.filter((p) => inWindow(window, p.day)).length,
        stats: result.stats,
        ...(persisted ? { persisted } : {}),
        ...(shrink ? { upstreamShrank: shrink } : {}),
      });
      const { files, jsonText } = await writeReports(report, path.resolve(this.options.reportDir ?? rc.reportDir));
      logger.info(
        { run: this.#id, failing, findings: findings.length, html: files.html },
        failing === 0 ? 'reconcile clean' : 'reconcile found differences',
      );
      return { report, files, jsonText, ok: report.summary.ok };
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
  }

  // --- run's steps

  /** The local side, then the upstream; each goes into `opened` as soon as it is open (to be closed). */
  async #openSides(opened: InvoiceSource[]): Promise<{ local: PgSource; upstream: OpenedSource }> {
    const { config, signal } = this.options;
    const local = await openPgSide(config, this.rc, this.rc.local, 'local');
    opened.push(local);
    const upstream = await openUpstream(config, this.rc, this.#now, baseDirOf(config), signal);
    opened.push(upstream.source);
    return { local, upstream };
  }

  #compare(local: InvoiceSource, upstream: InvoiceSource): Promise<Compared> {
    const { logger, signal } = this.options;
    return compareSources(upstream, local, {
      window: this.#window,
      partition: this.rc.partition !== undefined,
      limits: { listLimit: this.rc.listLimit, maxPrefix: 8 },
      ...(signal ? { signal } : {}),
      debug: (msg, details) => logger.debug(details ?? {}, msg),
    });
  }

  async #findingsOf(result: Compared, local: PgSource, upstream: OpenedSource): Promise<Found> {
    const window = this.#window;
    const problems = upstream.source.problems();
    const upstreamRows = upstream.source.rows?.();
    const findings: ReportFinding[] = [
      ...classify(result.diffs, {
        now: this.#now,
        syncLagSeconds: this.rc.syncLagSeconds,
        invalidUpstreamKeys: upstream.invalidKeys,
        fields: result.fields,
      }),
      ...(upstreamRows
        ? await pairRedLetters({ upstream: upstreamRows, window, lookupLocal: (keys) => local.lookup(keys) })
        : []),
      ...problems.errors.filter((p) => inWindow(window, p.day)).map(invalidInputFinding),
    ];
    return { findings, problems, upstreamRows };
  }

  /** Before persisting, so the state DB records the cause too. */
  async #lookUpInBackups(findings: ReportFinding[]): Promise<BackupLookupInfo> {
    const { config, logger, signal } = this.options;
    const backupLookup = await lookUpInBackups({
      config,
      rc: this.rc,
      findings,
      logger,
      ...(signal ? { signal } : {}),
    });
    markNotLookedUp(findings, backupLookup);
    linkRejectedRows(findings, config.timezone);
    return backupLookup;
  }

  #runInfo(
    result: Compared,
    local: InvoiceSource,
    upstream: InvoiceSource,
    upstreamRows: Invoice[] | undefined,
    backupLookup: BackupLookupInfo,
  ): ReconcileReport['run'] {
    const { rc } = this;
    return {
      id: this.#id,
      scope: reconcileScope(local.info.location, `${upstream.info.kind}:${upstream.info.location}`),
      startedAt: this.#startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      window: this.#window,
      upstream: upstream.info,
      local: local.info,
      parameters: {
        syncLagSeconds: rc.syncLagSeconds,
        failOn: rc.failOn,
        listLimit: rc.listLimit,
        ...(rc.partition ? { partition: rc.partition } : {}),
        now: this.#now.toISOString(),
        ...(result.stats.hashMethod ? { hashMethod: result.stats.hashMethod } : {}),
        backupLookup,
      },
      fields: comparedFields(rc, {
        compared: result.fields,
        upstream: upstream.fields ?? [],
        redLetters: upstreamRows !== undefined,
      }),
      toolVersion: TOOL_VERSION,
      language: reportLanguage(this.options.config),
    };
  }

  /**
   * The findings recorded in the state DB (unless `persist: false`), after the shrink guard compared
   * the upstream's rows per day with the last run's; acknowledged findings then no longer fail.
   */
  async #persist(
    result: Compared,
    run: ReconcileReport['run'],
    findings: ReportFinding[],
  ): Promise<{ failing: number; persisted?: { resolved: number; escalated: number }; shrink?: UpstreamShrink }> {
    const { config, logger } = this.options;
    const { rc } = this;
    if (this.options.persist === false) return { failing: failingOf(findings, rc.failOn).length };
    const upstreamDays = rowsPerDay(result.days);
    const maxShrink = (rc.limits ?? DEFAULT_INPUT_LIMITS).maxShrink;
    let shrink: UpstreamShrink | undefined;
    const saved = await withStateDb(config, async (client) => {
      shrink = upstreamShrink(upstreamDays, run.window, await previousUpstreamDays(client, run.scope), maxShrink);
      if (shrink) logger.error({ run: run.id, ...shrink }, shrinkMessage(shrink));
      const { id, scope, startedAt, finishedAt, window, upstream, local } = run;
      const record = { id, scope, startedAt, finishedAt, window, upstream, local, failOn: rc.failOn, upstreamDays };
      return recordRun(client, { ...record, ...(shrink ? { upstreamShrank: shrink } : {}) }, findings);
    });
    findings.forEach((f, i) => Object.assign(f, saved.history[i]));
    const persisted = { resolved: saved.resolved, escalated: saved.escalated };
    return { failing: saved.failing, persisted, ...(shrink ? { shrink } : {}) }; // acknowledged findings no longer fail
  }
}

function inWindow(window: Window, day: string | undefined): boolean {
  return day === undefined || (day >= window.from && day <= window.to);
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
