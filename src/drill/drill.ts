// `drill`: prove that a backup restores (docs/ARCHITECTURE.md#data-flow). Checklist: pick a backup → guard the
// scratch server and drop crashed drills' leftovers → create a marked scratch database →
// restore (streamed or spooled) while verifying every object → checks → objectives → drop the
// scratch database (always, unless kept) → report (repository JSON, HTML, history row).
import { pushAll } from '../core/arrays.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { loadIdentities } from '../core/encryption-keys.js';
import { identityMismatches } from '../backup/backup-identity.js';
import type { Config, TargetConfig } from '../core/config/config.js';
import type { Identity } from '../core/crypto/index.js';
import {
  CheckFailedError,
  InterruptedError,
  NotFoundError,
  OperationError,
  isFgError,
  messageOf,
  oneLine,
} from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { withClient } from '../core/pg/connect.js';
import type { BackupDetails } from '../core/pg/details.js';
import { makeRunId } from '../core/run-id.js';
import type { Manifest, ManifestObject } from '../core/repository/manifest.js';
import { openDecrypted } from '../core/repository/read-encrypted.js';
import { Repository } from '../core/repository/repository.js';
import { dumpObjectOf } from './restore/dump-source.js';
import { isDirectoryBackup } from '../backup/directory-objects.js';
import { dumpFolderFiles } from './restore/directory-restore.js';
import { type ChecksAlongside, checksAlongside } from './restore/checks-alongside.js';
import { restoreArchive } from './restore/restore.js';
import { openStateDb } from '../core/state/state-db.js';
import { maskUrl } from '../core/storage/mask-url.js';
import type { Storage } from '../core/storage/storage.js';
import { TOOL_VERSION } from '../core/version.js';
import { formatTime } from '../core/format.js';
import { type Check, amcheckCheck, assertionChecks } from './drill-checks.js';
import { type DrillPick, defaultDrillConfig, formatPick } from './drill-config.js';
import { markCrashedDrills, recordEnd, recordReport, recordStart, rtoTrend } from './drill-history.js';
import { type TrendPoint, renderDrillHtml } from './drill-html.js';
import { type DrillReport, type Verdict, causeOf, objectiveChecks, verdictOf } from './drill-report.js';
import {
  type ScratchDatabase,
  createScratchDatabase,
  dropLeftovers,
  dropScratchDatabase,
  guardScratchServer,
  markKept,
  scratchAdminUrl,
  scratchDatabaseName,
} from './scratch-db.js';

export interface DrillContext {
  config: Config;
  repo: Repository;
  logger: Logger;
  /** default: loaded from encryption.identityFile */
  identities?: readonly Identity[];
  signal?: AbortSignal;
  /** progress line on a terminal (default: when stderr is a TTY) */
  progress?: boolean;
  now?: () => Date;
}

export interface DrillOptions {
  /** default: drill.pick from the config */
  pick?: DrillPick;
  keep?: boolean;
  keepOnFailure?: boolean;
  jobs?: number;
}

export interface PickedBackup {
  manifest: Manifest;
  newest: { id: string; finishedAt: string };
}

/** The backup to drill, and the newest complete one (for the RPO). Incomplete backups are refused. */
export async function pickBackup(
  repo: Repository,
  target: string,
  pick: DrillPick,
  logger?: Logger,
): Promise<PickedBackup> {
  const all = await repo.listBackups(target, { manifests: 'newest' });
  const complete = all.filter((b) => b.status === 'complete');
  const newest = complete.at(-1);
  if (!newest)
    throw new NotFoundError(`no complete backup of target '${target}' in '${repo.storage.location}' to drill`, {
      hint: "run 'fapiao-guard backup' first",
    });
  const newerIncomplete = all.filter((b) => b.status === 'incomplete' && b.id > newest.id);
  if (newerIncomplete.length > 0)
    logger?.warn(
      { incomplete: newerIncomplete.map((b) => b.id) },
      'newer backups are incomplete (no manifest): they failed and cannot be drilled',
    );
  const newestInfo = { id: newest.id, finishedAt: newest.manifest!.finishedAt };
  if (pick.kind === 'id') return { manifest: await repo.resolve(target, pick.id), newest: newestInfo };
  if (pick.kind === 'latest') return { manifest: newest.manifest!, newest: newestInfo };
  const pool = complete.slice(-pick.among);
  const chosen = pool[randomInt(pool.length)]!;
  return { manifest: chosen.manifest ?? (await repo.readManifest(target, chosen.id)), newest: newestInfo };
}

type Outcome = {
  checks: Check[];
  seconds: { download: number; restore: number; checks: number };
  checkedEarly: number;
};
type Settings = ReturnType<typeof defaultDrillConfig>;
type Newest = PickedBackup['newest'];
interface Judged {
  total: number;
  finishedAt: Date;
  rpoSeconds: number;
  newestAge: number;
  checks: Check[];
  verdict: Verdict;
  keep: boolean;
}

/** Drills one target; see Drill for the steps. */
export async function runDrill(
  ctx: DrillContext,
  target: TargetConfig,
  options: DrillOptions = {},
): Promise<DrillReport> {
  return new Drill(ctx, target, options).run();
}

/**
 * One drill. `run` is the checklist of the file's header: `#begin` (crashed drills, the backup,
 * guards, leftovers, the history row), `#restoreInScratch` (create, restore and check; on failure
 * drop the scratch database and record the end), `#judge` (objectives and verdict), `#keepOrDrop`,
 * `#publish` (reports, history, log). `#restoreAndCheck` is the restore with its checks alongside.
 */
class Drill {
  readonly #settings: Settings;
  readonly #now: () => Date;
  readonly #t0: number;
  readonly #startedAt: Date;
  readonly #drillId: string;
  readonly #log: Logger;
  readonly #pick: DrillPick;
  readonly #jobs: number;

  constructor(
    private readonly ctx: DrillContext,
    private readonly target: TargetConfig,
    private readonly options: DrillOptions,
  ) {
    this.#settings = ctx.config.drill ?? defaultDrillConfig();
    this.#now = ctx.now ?? (() => new Date());
    this.#t0 = Date.now();
    this.#startedAt = this.#now();
    this.#drillId = makeRunId(this.#startedAt);
    this.#log = ctx.logger.child({ target: target.name, drill: this.#drillId });
    this.#pick = options.pick ?? this.#settings.pick;
    this.#jobs = options.jobs ?? this.#settings.jobs ?? ctx.config.restore.jobs;
  }

  async run(): Promise<DrillReport> {
    const identities = this.ctx.identities ?? (await loadIdentities(this.ctx.config));
    const adminUrl = scratchAdminUrl(this.target, this.#settings.scratchUrl);
    const state = await openStateDb(this.ctx.config);
    try {
      const { manifest, newest, scratchName } = await this.#begin(state, adminUrl);
      const { scratch, outcome } = await this.#restoreInScratch(state, adminUrl, manifest, identities, scratchName);
      const judged = this.#judge(manifest, newest, outcome);
      await this.#keepOrDrop(adminUrl, scratch, scratchName, judged.keep);
      const report = this.#reportOf(manifest, newest, outcome, judged, { database: scratchName, adminUrl });
      await this.#publish(state, report);
      return report;
    } catch (err) {
      // aborted before the scratch database existed (listing, guards): still an interruption, exit 3
      if (this.ctx.signal?.aborted && !(err instanceof InterruptedError))
        throw new InterruptedError(
          `drill ${this.#drillId} of '${this.target.name}' interrupted before it restored anything`,
          { cause: err },
        );
      throw err;
    } finally {
      await state.end().catch(() => undefined);
    }
  }

  // --- run's steps

  /** Crashed drills marked, the backup picked, the scratch server guarded and tidied, the start recorded. */
  async #begin(
    state: pg.Client,
    adminUrl: string,
  ): Promise<{ manifest: Manifest; newest: Newest; scratchName: string }> {
    const { ctx, target } = this;
    const log = this.#log;
    const crashed = await markCrashedDrills(state);
    if (crashed > 0)
      log.warn({ drills: crashed }, 'earlier drills on this host ended without finishing; marked interrupted');
    const { manifest, newest } = await pickBackup(ctx.repo, target.name, this.#pick, log);
    await withClient(adminUrl, (admin) => guardScratchServer(admin, adminUrl, target, manifest), 'fapiao-guard drill');
    await dropLeftovers(adminUrl, this.#settings.leftoverAfter, ctx.repo.storage.location, log);
    const scratchName = scratchDatabaseName(target.name, this.#drillId);
    await recordStart(state, {
      drillId: this.#drillId,
      target: target.name,
      backupId: manifest.id,
      scratchDatabase: scratchName,
      startedAt: this.#startedAt,
    });
    log.info(
      {
        backup: manifest.id,
        pick: formatPick(this.#pick),
        scratch: scratchName,
        server: maskUrl(adminUrl),
        jobs: this.#jobs,
      },
      'drill started',
    );
    return { manifest, newest, scratchName };
  }

  /** The scratch database created, restored and checked; on failure dropped and the end recorded. */
  async #restoreInScratch(
    state: pg.Client,
    adminUrl: string,
    manifest: Manifest,
    identities: readonly Identity[],
    scratchName: string,
  ): Promise<{ scratch: ScratchDatabase; outcome: Outcome }> {
    const { ctx, target } = this;
    const drillId = this.#drillId;
    let scratch: ScratchDatabase | undefined;
    try {
      scratch = await createScratchDatabase(adminUrl, {
        drillId,
        target: target.name,
        backupId: manifest.id,
        createdAt: this.#startedAt.toISOString(),
        repository: ctx.repo.storage.location,
      });
      this.#log.info({ database: scratch.name }, 'scratch database created');
      return { scratch, outcome: await this.#restoreAndCheck(manifest, scratch, identities) };
    } catch (err) {
      const interrupted = ctx.signal?.aborted === true;
      const cause = interrupted ? messageOf(ctx.signal!.reason ?? err) : oneLine(messageOf(err));
      await cleanup(adminUrl, scratch, scratchName, drillId, this.#log);
      const seconds = (Date.now() - this.#t0) / 1000;
      await recordEnd(state, drillId, interrupted ? 'interrupted' : 'error', cause, seconds).catch((e: unknown) =>
        this.#log.error({ err: messageOf(e) }, 'could not record the drill in the state database'),
      );
      if (interrupted)
        throw new InterruptedError(
          `drill ${drillId} of '${target.name}' interrupted (${cause}); scratch database '${scratchName}' dropped`,
        );
      throw err;
    }
  }

  /** The objectives added to the checks, the verdict, and whether the scratch database is kept. */
  #judge(manifest: Manifest, newest: Newest, outcome: Outcome): Judged {
    const settings = this.#settings;
    const total = (Date.now() - this.#t0) / 1000;
    const finishedAt = this.#now();
    const rpoSeconds = (finishedAt.getTime() - Date.parse(manifest.finishedAt)) / 1000;
    const newestAge = (finishedAt.getTime() - Date.parse(newest.finishedAt)) / 1000;
    const checks = [
      ...outcome.checks,
      ...objectiveChecks(total, settings.rtoObjective, { id: newest.id, ageSeconds: newestAge }, settings.rpoObjective),
    ];
    const verdict = verdictOf(checks);
    const keep =
      (this.options.keep ?? settings.keep) ||
      (verdict === 'fail' && (this.options.keepOnFailure ?? settings.keepOnFailure));
    return { total, finishedAt, rpoSeconds, newestAge, checks, verdict, keep };
  }

  async #keepOrDrop(adminUrl: string, scratch: ScratchDatabase, scratchName: string, keep: boolean): Promise<void> {
    if (keep) {
      await markKept(adminUrl, scratch);
      this.#log.warn(
        { database: scratch.name, url: maskUrl(scratch.url) },
        `scratch database kept; drop it when done: dropdb '${scratch.name}'`,
      );
    } else {
      await cleanup(adminUrl, scratch, scratchName, this.#drillId, this.#log);
    }
  }

  #reportOf(
    manifest: Manifest,
    newest: Newest,
    outcome: Outcome,
    judged: Judged,
    scratch: { database: string; adminUrl: string },
  ): DrillReport {
    const settings = this.#settings;
    const { checks, verdict } = judged;
    const cause = causeOf(checks);
    return {
      drillId: this.#drillId,
      backupId: manifest.id,
      target: this.target.name,
      verdict,
      checks,
      seconds: { ...outcome.seconds, total: round(judged.total) },
      tablesCheckedDuringRestore: outcome.checkedEarly,
      rpoSeconds: round(judged.rpoSeconds),
      ...(cause ? { cause } : {}),
      startedAt: this.#startedAt.toISOString(),
      finishedAt: judged.finishedAt.toISOString(),
      backupFinishedAt: manifest.finishedAt,
      pick: formatPick(this.#pick),
      objectives: { rtoSeconds: settings.rtoObjective, rpoSeconds: settings.rpoObjective },
      newestBackup: { id: newest.id, ageSeconds: round(judged.newestAge) },
      scratch: { database: scratch.database, server: maskUrl(scratch.adminUrl), kept: judged.keep },
      jobs: this.#jobs,
      tool: { name: 'fapiao-guard', version: TOOL_VERSION },
    };
  }

  /** The reports written, the history row completed, the verdict logged. */
  async #publish(state: pg.Client, report: DrillReport): Promise<void> {
    const log = this.#log;
    await writeReports(this.ctx, state, report, this.#settings.reportDir, log);
    await recordReport(state, report).catch((e: unknown) =>
      log.error({ err: messageOf(e) }, 'could not record the drill in the state database'),
    );
    if (report.verdict === 'pass')
      log.info(
        { backup: report.backupId, rto: report.seconds.total, rpo: report.rpoSeconds, html: report.htmlReport },
        'drill passed',
      );
    else log.error({ backup: report.backupId, cause: report.cause, html: report.htmlReport }, 'drill failed');
  }

  // --- the restore, with its checks alongside

  /** Restores into the scratch database while verifying every object and measuring tables, then checks. */
  async #restoreAndCheck(
    manifest: Manifest,
    scratch: ScratchDatabase,
    identities: readonly Identity[],
  ): Promise<Outcome> {
    const { ctx } = this;
    const dumps = dumpObjectsOf(manifest);
    const dumpPath = ctx.repo.objectPath(manifest.target, manifest.id, dumps.at(-1)!.name);
    const start = Date.now();
    let downloadEnd: number | undefined;
    const repo = new Repository(
      observeLoads(ctx.repo.storage, (name) => {
        if (name === dumpPath) downloadEnd ??= Date.now();
      }),
    );
    const others = manifest.objects.filter((o) => !dumps.includes(o) && o.name !== 'details.json.age');
    // tables are measured as soon as their data is in, while pg_restore builds indexes
    const checking = checksAlongside(ctx.repo, manifest, identities, scratch.url, {
      concurrency: Math.max(2, this.#jobs),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const [details, restored, ...verified] = await Promise.allSettled([
      checking.details,
      this.#restore(repo, manifest, scratch, identities, checking),
      ...others.map((o) => verifyAndDecrypt(ctx.repo, manifest, o, identities, ctx.signal)),
    ]);
    if (restored.status === 'rejected' || ctx.signal?.aborted) await checking.cancel();
    const restoreEnd = Date.now();
    await this.#throwUnlessBackupFaults(checking, [details, restored, ...verified]);
    const checks: Check[] = [
      ...detailsChecks(manifest, details),
      ...others.map((o, i) => objectCheck(o, verified[i]!)),
      restoreCheck(dumps, restored),
    ];
    const seconds = {
      download: round(((downloadEnd ?? restoreEnd) - start) / 1000),
      restore: round((restoreEnd - start) / 1000),
      checks: 0,
    };
    this.#logRestoreEnd(seconds, restored.status === 'fulfilled', checking);
    if (restored.status === 'rejected') return { checks, seconds, checkedEarly: 0 }; // nothing sensible to check in a half-restored database
    seconds.checks = await this.#checkRestored(scratch, checking, details, checks);
    return { checks, seconds, checkedEarly: checking.measuredEarly() };
  }

  #restore(
    repo: Repository,
    manifest: Manifest,
    scratch: ScratchDatabase,
    identities: readonly Identity[],
    checking: ChecksAlongside,
  ): Promise<void> {
    const { ctx } = this;
    return restoreArchive(
      {
        config: ctx.config,
        repo,
        logger: this.#log,
        identities,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.progress !== undefined ? { progress: ctx.progress } : {}),
      },
      manifest,
      {
        to: scratch.url,
        jobs: this.#jobs,
        clean: false,
        noOwner: true, // a drill proves the data; roles may not exist on the scratch server
        trustedTarget: true,
        onTableData: checking.onTableData,
      },
    );
  }

  /** An interruption, or a failure that is not the backup's fault, ends the drill with an error. */
  async #throwUnlessBackupFaults(checking: ChecksAlongside, results: PromiseSettledResult<unknown>[]): Promise<void> {
    const { signal } = this.ctx;
    if (signal?.aborted) throw signal.reason ?? new InterruptedError('drill interrupted');
    for (const result of results) {
      if (result.status === 'rejected' && !isBackupFault(result.reason)) {
        await checking.cancel();
        throw result.reason;
      }
    }
  }

  #logRestoreEnd(seconds: Outcome['seconds'], ok: boolean, checking: ChecksAlongside): void {
    this.#log.info(
      {
        download: seconds.download,
        restore: seconds.restore,
        ok,
        tablesCheckedMeanwhile: checking.measuredEarly(),
        checksYielded: checking.yields(),
      },
      ok ? 'restore finished' : 'restore failed',
    );
  }

  /** The data checks, assertions and amcheck on the restored database, added to `checks`; their seconds. */
  async #checkRestored(
    scratch: ScratchDatabase,
    checking: ChecksAlongside,
    details: PromiseSettledResult<BackupDetails>,
    checks: Check[],
  ): Promise<number> {
    const { signal } = this.ctx;
    const settings = this.#settings;
    const t1 = Date.now();
    const [dataChecks, assertions, amcheck] = await Promise.all([
      details.status === 'fulfilled' ? checking.finish() : Promise.resolve([]),
      assertionChecks(scratch.url, settings.assertions, signal),
      settings.amcheck
        ? amcheckCheck(
            scratch.url,
            (details.status === 'fulfilled' ? details.value : ({ serverVersion: '' } as BackupDetails)).serverVersion,
            signal,
          ).then((c) => [c])
        : Promise.resolve([]),
    ]).catch((err: unknown) => {
      if (signal?.aborted) throw signal.reason ?? err;
      throw err;
    });
    const seconds = round((Date.now() - t1) / 1000);
    for (const list of [dataChecks, assertions, amcheck]) pushAll(checks, list);
    this.#log.info({ checks: checks.length, failed: checks.filter((c) => !c.ok).length, seconds }, 'checks finished');
    return seconds;
  }
}

// --- the checks of a restore's results (pure)

/** The dump: one object, or (parallel backups) one per file of pg_dump's folder. */
function dumpObjectsOf(manifest: Manifest): ManifestObject[] {
  return isDirectoryBackup(manifest) ? dumpFolderFiles(manifest).map((f) => f.object) : [dumpObjectOf(manifest)];
}

const VERIFIED = 'size, sha256, age authentication';
const IDENTITY = 'details ↔ manifest: id, target, database, snapshot, start, object checksums';

/** details.json.age read, and (when it was) the backup's identity it names. */
function detailsChecks(manifest: Manifest, details: PromiseSettledResult<BackupDetails>): Check[] {
  if (details.status === 'rejected') return [failed('verify details.json.age', VERIFIED, details.reason)];
  const problems = identityMismatches(details.value, manifest);
  return [
    { name: 'verify details.json.age', ok: true, expected: VERIFIED, actual: `${details.value.tables.length} tables` },
    problems.length === 0
      ? { name: 'backup identity', ok: true, expected: IDENTITY, actual: 'match' }
      : {
          name: 'backup identity',
          ok: false,
          expected: IDENTITY,
          actual: problems[0]!,
          problem: `backup is not bound to its identity: ${problems.join('; ')}`,
        },
  ];
}

function objectCheck(object: ManifestObject, result: PromiseSettledResult<void>): Check {
  return result.status === 'fulfilled'
    ? { name: `verify ${object.name}`, ok: true, expected: VERIFIED, actual: `${object.size} bytes` }
    : failed(`verify ${object.name}`, VERIFIED, result.reason);
}

function restoreCheck(dumps: readonly ManifestObject[], restored: PromiseSettledResult<void>): Check {
  const name = `restore ${dumps.length === 1 ? dumps[0]!.name : `${dumps.length} dump objects (dir-*)`}`;
  const size = dumps.reduce((s, o) => s + o.size, 0);
  const digest = dumps.length === 1 ? `sha256 ${dumps[0]!.sha256.slice(0, 16)}…` : 'each sha256';
  const expected = `${size} bytes, ${digest}, age authentication, pg_restore exit 0`;
  return restored.status === 'fulfilled'
    ? { name, ok: true, expected, actual: 'verified and restored' }
    : failed(name, expected, restored.reason);
}

/** A failed drill as an error for the CLI and jobs: exit 1, the cause in one line. */
export function drillFailure(report: DrillReport): CheckFailedError {
  return new CheckFailedError(
    `drill ${report.drillId} of '${report.target}' (backup '${report.backupId}') failed: ${report.cause ?? 'a check failed'}`,
    {
      hint: report.htmlReport
        ? `the report lists every check: ${report.htmlReport}`
        : "'fapiao-guard drill --json' lists every check",
    },
  );
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

async function cleanup(
  adminUrl: string,
  scratch: ScratchDatabase | undefined,
  name: string,
  drillId: string,
  log: Logger,
): Promise<void> {
  if (!scratch) return;
  try {
    if (await dropScratchDatabase(adminUrl, name, drillId)) log.info({ database: name }, 'scratch database dropped');
  } catch (err) {
    log.error(
      { database: name, err: messageOf(err) },
      'could not drop the scratch database; the next drill drops it once this process has ended',
    );
  }
}

/**
 * A storage that reports when an object has been read to its end: the dump's download time
 * while pg_restore consumes it.
 */
function observeLoads(storage: Storage, onEnd: (name: string) => void): Storage {
  return {
    location: storage.location,
    save: (name, body, options) => storage.save(name, body, options),
    async load(name, options) {
      const stream = await storage.load(name, options);
      stream.once('end', () => onEnd(name));
      return stream;
    },
    stat: (name) => storage.stat(name),
    list: (prefix) => storage.list(prefix),
    remove: (name) => storage.remove(name),
  };
}

/** Damage or a key that does not open the backup: the drill ran and found a problem. */
function isBackupFault(err: unknown): boolean {
  if (err instanceof CheckFailedError || err instanceof NotFoundError) return true;
  const message = messageOf(err);
  return /^no identity matched/.test(message) || /^(pg_restore|zstd -d)\b/.test(message);
}

function failed(name: string, expected: string, err: unknown): Check {
  const problem = oneLine(isFgError(err) ? err.message : messageOf(err));
  return { name, ok: false, expected, actual: problem, problem };
}

/** Size, sha256 and age authentication of a small object (globals), read to its end. */
async function verifyAndDecrypt(
  repo: Repository,
  manifest: Manifest,
  object: ManifestObject,
  identities: readonly Identity[],
  signal?: AbortSignal,
): Promise<void> {
  const name = repo.objectPath(manifest.target, manifest.id, object.name);
  await pipeline(
    await openDecrypted(repo.storage, name, object, identities, signal ? { signal } : {}),
    new Writable({ write: (_chunk, _enc, done) => done() }),
    ...(signal ? [{ signal }] : []),
  );
}

/** JSON into the repository (drills/<target>/<drill-id>.json) and the HTML file; failures are logged, not fatal. */
async function writeReports(
  ctx: DrillContext,
  state: Parameters<typeof rtoTrend>[0],
  report: DrillReport,
  reportDir: string,
  log: Logger,
): Promise<void> {
  const htmlPath = path.resolve(reportDir, `drill-${report.target}-${report.drillId}.html`);
  const objectName = `drills/${report.target}/${report.drillId}.json`;
  report.htmlReport = htmlPath;
  report.reportObject = objectName;
  try {
    await ctx.repo.storage.save(objectName, Readable.from([Buffer.from(`${JSON.stringify(report, null, 2)}\n`)]), {
      contentType: 'application/json',
    });
  } catch (err) {
    delete report.reportObject;
    log.error({ object: objectName, err: messageOf(err) }, 'could not store the drill report in the repository');
  }
  try {
    const trend: TrendPoint[] = await rtoTrend(state, report.target).catch(() => []);
    trend.push({
      drillId: report.drillId,
      startedAt: report.startedAt,
      status: report.verdict,
      rtoSeconds: report.seconds.total,
    });
    await mkdir(path.dirname(htmlPath), { recursive: true });
    await writeFile(
      htmlPath,
      renderDrillHtml(report, trend, (iso) => formatTime(iso, ctx.config.timezone)),
    );
  } catch (err) {
    delete report.htmlReport;
    log.error({ file: htmlPath, err: messageOf(err) }, 'could not write the HTML drill report');
  }
  if (!report.reportObject && !report.htmlReport)
    throw new OperationError(`drill ${report.drillId} ran (${report.verdict}) but neither report could be written`);
}
