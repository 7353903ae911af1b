// The scheduler daemon: node-cron tasks per (job, target) in the configured zone, each fire time
// claimed through a run coordinator backed by job_runs (exactly once across daemons) and handed to
// the work queue shared by all daemons (src/daemon/job-queue.ts), whose workers here run at most
// daemon.concurrency of them at once; catch-up at start, a sweeper for runs and daemons that died
// (their queue jobs released to the others), the HTTP endpoints, and a bounded graceful stop.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import pg from 'pg';
import { JOBS, isJobName } from '../../jobs/index.js';
import type { Config } from '../core/config/config.js';
import { processAlive } from '../core/process-alive.js';
import { ExitCode, InterruptedError, isFgError, messageOf } from '../core/errors.js';
import { ALL_TARGETS, type RunScope } from './job.js';
import type { Logger } from '../core/logger.js';
import { DaemonMetrics } from './metrics.js';
import type { NotifyDispatcher } from './notify/dispatcher.js';
import { type RunFacts, buildMessage } from './notify/message.js';
import type { Repository } from '../core/repository/repository.js';
import { openStateDb, stateUrl } from '../core/state/state-db.js';
import { maskUrl } from '../core/storage/mask-url.js';
import { type StatusReport, collectStatus } from './status/status.js';
import type { DaemonConfig } from './daemon-config.js';
import { closeServer, startHttpServer } from './http-server.js';
import {
  type QueueWorkers,
  type QueuedFireTime,
  enqueue,
  installQueue,
  releaseWorkers,
  startWorkers,
} from './job-queue.js';
import { type Trigger, claimRun, deleteOldRuns, lastFireTime, markStaleRuns, startAttempt } from './job-runs.js';
import {
  type RunOutcome,
  type RunSpec,
  type RunnerDeps,
  ShutdownError,
  notifyOutcome,
  runClaimed,
} from './job-runner.js';
import {
  type ScheduleEntry,
  claimDeadDaemons,
  daemonHeartbeat,
  daemonStopped,
  recordWorker,
  registerDaemon,
} from './daemon-registry.js';
import { cronMatcher, previousFireTime } from './schedule-times.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  repo: Repository;
  settings: DaemonConfig;
  entries: ScheduleEntry[];
  notifier: NotifyDispatcher;
  /** stops the start-up wait for the state database (SIGTERM while it is down) */
  signal?: AbortSignal;
  /** first wait between attempts to reach the state database at start; doubles up to 30 s */
  startRetryMs?: number;
}

/** A fire time this daemon claimed and queued, until a worker here starts it (or it ages out). */
type OwnClaim = { fire: QueuedFireTime; claimedAt: number };

export class Daemon {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly host = hostname();
  private pool!: pg.Pool;
  /** graphile-worker's connections: its LISTEN client and one per running job */
  private queuePool!: pg.Pool;
  private queue?: QueueWorkers;
  private readonly workerIds: Promise<void>[] = [];
  private readonly tasks: ScheduledTask[] = [];
  private readonly ownClaims = new Map<string, OwnClaim>();
  /** claims on their way to the state database: stop() waits for them (see there) */
  private readonly claiming = new Set<Promise<boolean>>();
  private readonly running = new Map<number, Promise<RunOutcome>>();
  private readonly stopper = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly metrics = new DaemonMetrics();
  private http?: Awaited<ReturnType<typeof startHttpServer>>;
  private snapshot?: { at: number; report: Promise<StatusReport> };
  private stopping = false;
  /** fire times the state database was down for, newest per job/target: claimed when it returns */
  private readonly missed = new Map<string, { entry: ScheduleEntry; fireTime: Date; error: string }>();

  constructor(private readonly o: DaemonOptions) {}

  get address(): string | undefined {
    return this.http?.address;
  }

  async start(): Promise<void> {
    await this.waitForStateDb(); // creates and migrates the state database
    this.openPools();
    await installQueue(this.pool, this.o.logger);
    await this.sweep();
    await this.startHttp();
    await registerDaemon(this.pool, this.id, this.host, this.http?.address ?? null, this.o.settings.concurrency);
    await this.startQueueWorkers();
    await this.scheduleFireTimes();
    this.startTicking();
    this.logStarted();
    if (this.o.settings.catchUp) void this.catchUp();
  }

  /** The state database's pools: one for claims and bookkeeping, one for the queue's workers. */
  private openPools(): void {
    const { config, settings, logger } = this.o;
    // a bounded connect: a state database that hangs must fail a claim, not stall the scheduler
    this.pool = new pg.Pool({
      connectionString: stateUrl(config),
      max: 5,
      application_name: 'fapiao-guard daemon',
      connectionTimeoutMillis: 10_000,
    });
    this.pool.on('error', (err) => logger.warn({ err: messageOf(err) }, 'idle state database connection failed'));
    // a checked-out connection's error reaches its query; this only keeps it from being unhandled
    // (and tells graphile-worker, which checks for it, that the pools have their handlers)
    const quiet = (client: pg.PoolClient): void =>
      void client.on('error', (err) => logger.debug({ err: messageOf(err) }, 'state database connection failed'));
    this.pool.on('connect', quiet);
    this.queuePool = new pg.Pool({
      connectionString: stateUrl(config),
      max: settings.concurrency + 3,
      application_name: 'fapiao-guard queue',
      connectionTimeoutMillis: 10_000,
    });
    this.queuePool.on('error', (err) => logger.warn({ err: messageOf(err) }, 'idle queue connection failed'));
    this.queuePool.on('connect', quiet);
  }

  private async startHttp(): Promise<void> {
    const { settings, logger } = this.o;
    if (!settings.listen) return;
    this.http = await startHttpServer(
      settings.listen,
      { health: () => this.health(), metrics: () => this.renderMetrics(), status: () => this.status() },
      logger,
      { ...(settings.token ? { token: settings.token } : {}), allowedHosts: settings.allowedHosts },
    );
  }

  private async startQueueWorkers(): Promise<void> {
    const { settings, logger } = this.o;
    this.queue = await startWorkers({
      pool: this.queuePool,
      concurrency: settings.concurrency,
      logger,
      work: (fire) => this.work(fire),
      onWorker: (workerId) =>
        void this.workerIds.push(
          recordWorker(this.pool, this.id, workerId).catch((err: unknown) =>
            logger.warn({ err: messageOf(err) }, 'cannot record a queue worker'),
          ),
        ),
    });
    await Promise.all(this.workerIds);
  }

  /** One node-cron task per (job, target), in the configured zone; each fire time goes through the claim. */
  private async scheduleFireTimes(): Promise<void> {
    const { config, logger } = this.o;
    const cronLogger = {
      info: (m: string) => logger.debug(m),
      debug: (m: unknown) => logger.debug(String(m)),
      warn: (m: string) => logger.warn(m),
      error: (m: unknown, e?: Error) => logger.error({ err: e ? messageOf(e) : undefined }, messageOf(m)),
    };
    for (const entry of this.o.entries) {
      const name = `${entry.name}/${entry.historyTarget}`;
      const task = cron.createTask(entry.schedule, () => undefined, {
        name,
        timezone: config.timezone,
        distributed: true,
        runCoordinator: this.coordinator(entry),
        missedExecutionTolerance: 60_000,
        logger: cronLogger,
      });
      task.on('execution:missed', (ctx) =>
        logger.warn(
          { job: entry.name, target: entry.historyTarget, fireTime: ctx.date.toISOString() },
          'fire time missed (event loop blocked); the next one runs',
        ),
      );
      await task.start();
      this.tasks.push(task);
    }
  }

  /** Every heartbeat: sweep for dead runs and daemons, repair the queue, catch up, beat, and hourly trim history. */
  private startTicking(): void {
    const { settings, logger } = this.o;
    let ticks = 0;
    const tick = setInterval(() => {
      ticks++;
      void this.sweep();
      void this.repairQueue();
      if (this.missed.size > 0) void this.claimMissed();
      this.forgetOldClaims();
      daemonHeartbeat(this.pool, this.id).then(
        (revived) => {
          if (revived)
            logger.warn(
              { daemon: this.id },
              'another daemon had recorded this one as gone (no heartbeat while the state database was unreachable): registered as running again',
            );
        },
        (err: unknown) => logger.warn({ err: messageOf(err) }, 'daemon heartbeat failed'),
      );
      if (ticks % Math.max(1, Math.round(3600 / settings.heartbeat)) === 1) {
        deleteOldRuns(this.pool, settings.historyRetention).then(
          (n) => n && logger.info({ deleted: n }, 'old job history deleted'),
          () => undefined,
        );
      }
    }, settings.heartbeat * 1000);
    this.timers.push(tick);
  }

  private logStarted(): void {
    const { config, settings, logger } = this.o;
    logger.info(
      {
        daemon: this.id,
        concurrency: settings.concurrency,
        timezone: config.timezone,
        schedules: this.o.entries.map(
          (e) =>
            `${e.name}/${e.historyTarget} '${e.schedule}' next ${this.tasks
              .find((t) => t.name === `${e.name}/${e.historyTarget}`)
              ?.getNextRun()
              ?.toISOString()}`,
        ),
      },
      'daemon started',
    );
  }

  /** node-cron asks before each fire time: only the daemon whose claim wins runs it. */
  private coordinator(entry: ScheduleEntry): RunCoordinator {
    return {
      shouldRun: async (key) => {
        if (this.stopping) return false;
        const fireTime = new Date(key.slice(key.indexOf(':') + 1));
        try {
          return await this.claim(entry, fireTime, 'schedule');
        } catch (err) {
          this.recordMiss(entry, fireTime, err);
          return false;
        }
      },
    };
  }

  /**
   * At start the state database may be down (a reboot where PostgreSQL comes up later): wait for
   * it, with backoff, instead of exiting; a configuration problem still ends the start at once.
   */
  private async waitForStateDb(): Promise<void> {
    const { config, logger, signal } = this.o;
    let waitMs = this.o.startRetryMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await (await openStateDb(config)).end();
        if (attempt > 1) logger.info({ attempts: attempt }, 'state database reachable');
        return;
      } catch (err) {
        if (isFgError(err) && err.exitCode === ExitCode.usage) throw err;
        if (signal?.aborted)
          throw new InterruptedError(
            `stopped while waiting for the state database '${maskUrl(stateUrl(config))}': ${messageOf(err)}`,
          );
        logger.warn(
          { err: messageOf(err), attempt, retryInSeconds: waitMs / 1000 },
          'state database unreachable at start; retrying',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, waitMs);
          function done(): void {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          }
          signal?.addEventListener('abort', done, { once: true });
        });
        waitMs = Math.min(30_000, waitMs * 2);
      }
    }
  }

  /** A fire time that could not be claimed because the state database was unreachable: remember, alert. */
  private recordMiss(entry: ScheduleEntry, fireTime: Date, err: unknown): void {
    const name = `${entry.name}/${entry.historyTarget}`;
    const error = `fire time ${fireTime.toISOString()} missed: the state database is unreachable (${messageOf(err)}); it runs as a catch-up when the database is back`;
    this.missed.set(name, { entry, fireTime, error });
    this.o.logger.error(
      { job: entry.name, target: entry.historyTarget, fireTime: fireTime.toISOString(), err: messageOf(err) },
      'fire time missed: state database unreachable',
    );
    const facts: RunFacts = {
      runId: 0,
      job: entry.name,
      target: entry.historyTarget,
      status: 'failed',
      isFailure: true,
      summary: null,
      error,
      fireTime: fireTime.toISOString(),
      finishedAt: new Date().toISOString(),
      host: this.host,
      durationSeconds: 0,
      findings: 0,
    };
    void this.o.notifier.notify(['failure'], (event) => buildMessage(event, facts, this.o.config.timezone));
  }

  /** The state database answers again: run each missed fire time once (unless a later one already ran). */
  private async claimMissed(): Promise<void> {
    for (const [name, miss] of [...this.missed]) {
      if (this.stopping) return;
      try {
        const claimed = await this.claim(miss.entry, miss.fireTime, 'catch-up');
        this.missed.delete(name);
        if (!claimed) {
          this.o.logger.info(
            { job: miss.entry.name, target: miss.entry.historyTarget, fireTime: miss.fireTime.toISOString() },
            'missed fire time not caught up: a later run exists',
          );
          continue;
        }
        this.o.logger.info(
          { job: miss.entry.name, target: miss.entry.historyTarget, fireTime: miss.fireTime.toISOString() },
          'catching up a fire time missed while the state database was down',
        );
      } catch (err) {
        this.o.logger.debug({ err: messageOf(err) }, 'state database still unreachable');
        return;
      }
    }
  }

  private claim(entry: ScheduleEntry, fireTime: Date, trigger: Trigger): Promise<boolean> {
    const claiming = this.tryClaim(entry, fireTime, trigger);
    this.claiming.add(claiming);
    const settled = () => void this.claiming.delete(claiming);
    claiming.then(settled, settled);
    return claiming;
  }

  private async tryClaim(entry: ScheduleEntry, fireTime: Date, trigger: Trigger): Promise<boolean> {
    const log = this.o.logger.child({ job: entry.name, target: entry.historyTarget, fireTime: fireTime.toISOString() });
    await this.sweep();
    const fire: QueuedFireTime = {
      job: entry.name,
      target: entry.historyTarget,
      fireTime: fireTime.toISOString(),
      trigger,
    };
    const maxAttempts = entry.job.retry.attempts;
    const claim = await claimRun(this.pool, {
      ...fire,
      fireTime,
      host: this.host,
      pid: process.pid,
      onlyIfNewest: trigger === 'catch-up',
      maxAttempts,
      enqueue: (client) => enqueue(client, fire, maxAttempts),
    });
    if (claim.kind === 'taken') log.debug('fire time taken by another daemon');
    if (claim.kind === 'overlap')
      log.warn({ run: claim.runId, holder: claim.holder }, 'skipped: the previous run is still queued or running');
    if (claim.kind !== 'claimed') return false;
    log.debug({ run: claim.runId }, 'fire time claimed and queued');
    this.ownClaims.set(fireKey(fire), { fire, claimedAt: Date.now() });
    return true;
  }

  /**
   * A queue worker here took a fire time (claimed by any daemon): start its next attempt and run it.
   * Throws to hand it back to the queue: when stopping, when another attempt still runs, or when the
   * attempt was interrupted (another daemon then retries it, within the job's attempts).
   */
  private async work(fire: QueuedFireTime, stopped = false): Promise<void> {
    if (this.stopping && !stopped)
      throw new InterruptedError(`${fire.job} of '${fire.target}' handed back: the daemon is stopping`);
    const spec = this.specFor(fire);
    const fireTime = new Date(fire.fireTime);
    const log = this.o.logger.child({ job: fire.job, target: fire.target, fireTime: fire.fireTime });
    const attempt = await startAttempt(this.pool, {
      job: fire.job,
      target: fire.target,
      fireTime,
      host: this.host,
      pid: process.pid,
    });
    this.ownClaims.delete(fireKey(fire));
    if (attempt.kind === 'done') return void log.debug({ why: attempt.why }, 'queued fire time needs no run');
    if (attempt.kind === 'superseded')
      return void log.info({ by: attempt.by }, 'lost attempt not redone: a later fire time has run or is queued');
    if (attempt.kind === 'busy')
      throw new InterruptedError(
        `${fire.job} of '${fire.target}': run #${attempt.holder} still holds the lock; retried later`,
      );
    const run = runClaimed(
      this.runnerDeps(),
      spec,
      {
        runId: attempt.runId,
        fireTime,
        trigger: attempt.trigger,
        attempt: attempt.attempt,
        maxAttempts: attempt.maxAttempts,
      },
      this.stopper.signal,
    );
    this.running.set(attempt.runId, run);
    const outcome = await run.finally(() => this.running.delete(attempt.runId));
    if (outcome.status === 'interrupted') {
      throw new InterruptedError(
        `attempt ${attempt.attempt} of ${attempt.maxAttempts} of ${fire.job} for '${fire.target}' interrupted (${outcome.error}); handed back to the queue`,
      );
    }
  }

  /** The job and scope a queued fire time names, from the registry and this daemon's configuration. */
  private specFor(fire: QueuedFireTime): RunSpec {
    if (!isJobName(fire.job))
      throw new InterruptedError(
        `queued job '${fire.job}' is not known to this daemon (an older version?); handed back`,
      );
    const job = JOBS[fire.job];
    if (fire.target === ALL_TARGETS && job.scope === 'once') return { name: fire.job, job, scope: { kind: 'once' } };
    const target = this.o.config.targets.find((t) => t.name === fire.target);
    if (!target || job.scope !== 'target')
      throw new InterruptedError(
        `target '${fire.target}' of a queued ${fire.job} is not in this daemon's configuration; handed back`,
      );
    const scope: RunScope = { kind: 'target', target };
    return { name: fire.job, job, scope };
  }

  /** Claims older than a few heartbeats were taken by some worker long ago (or wait in a backlog for one). */
  private forgetOldClaims(): void {
    const horizon = Date.now() - 2 * this.o.settings.heartbeat * 1000;
    for (const [key, c] of this.ownClaims) if (c.claimedAt < horizon) this.ownClaims.delete(key);
  }

  /** Once at start: the latest fire time missed while no daemon was up (within catchUpWindow). */
  private async catchUp(): Promise<void> {
    const now = new Date();
    let caughtUp = 0;
    for (const entry of this.o.entries) {
      if (this.stopping) return;
      try {
        const last = await lastFireTime(this.pool, entry.name, entry.historyTarget);
        if (!last) continue; // never scheduled before: nothing was missed
        const since = new Date(Math.max(last.getTime(), now.getTime() - this.o.settings.catchUpWindow * 1000));
        const missed = previousFireTime(cronMatcher(entry.schedule, this.o.config.timezone), now, since);
        if (!missed || now.getTime() - missed.getTime() < 2000) continue; // the scheduler itself has this one
        if (await this.claim(entry, missed, 'catch-up')) {
          this.o.logger.info(
            {
              job: entry.name,
              target: entry.historyTarget,
              fireTime: missed.toISOString(),
              lastFireTime: last.toISOString(),
            },
            'catching up a missed fire time',
          );
          caughtUp++;
        }
      } catch (err) {
        this.o.logger.warn({ job: entry.name, target: entry.historyTarget, err: messageOf(err) }, 'catch-up failed');
      }
    }
    this.o.logger.info({ caughtUp }, 'catch-up checked');
  }

  /**
   * Runs whose daemon died become interrupted (and alert); runs here see it through their heartbeat.
   * The queue jobs a dead daemon's workers held are released: another daemon's worker redoes them.
   */
  private async sweep(): Promise<void> {
    try {
      const own = [...this.running.keys()];
      const marked = await markStaleRuns(this.pool, this.o.settings.staleAfter, this.host, processAlive, own);
      for (const r of marked) {
        this.o.logger.warn(
          { run: r.id, job: r.job, target: r.target, host: r.host, pid: r.pid },
          'run marked interrupted: its daemon is gone',
        );
        const seconds = (Date.now() - Date.parse(r.startedAt)) / 1000;
        await notifyOutcome(this.runnerDeps(), {
          runId: r.id,
          job: r.job,
          target: r.target,
          fireTime: r.fireTime,
          status: 'interrupted',
          isFailure: true,
          error: r.error,
          summary: null,
          details: null,
          seconds,
          host: r.host,
        });
      }
      for (const dead of await claimDeadDaemons(
        this.pool,
        this.o.settings.staleAfter,
        this.host,
        processAlive,
        this.id,
      )) {
        await releaseWorkers(this.pool, dead.workerIds);
        this.o.logger.warn(
          { daemon: dead.daemonId, host: dead.host, pid: dead.pid, workers: dead.workerIds.length },
          'daemon gone: its queued work released to the others',
        );
      }
    } catch (err) {
      this.o.logger.warn({ err: messageOf(err) }, 'cannot check for interrupted runs');
    }
  }

  /** Queue jobs this daemon finished while the state database was unreachable: recorded once it answers. */
  private async repairQueue(): Promise<void> {
    try {
      const repaired = (await this.queue?.repairLostCompletions(this.pool)) ?? 0;
      if (repaired > 0)
        this.o.logger.info({ repaired }, 'queue: finished jobs recorded after the state database came back');
    } catch (err) {
      this.o.logger.debug({ err: messageOf(err) }, 'queue repair: state database still unreachable');
    }
  }

  /** Stop scheduling, abort running jobs, wait up to shutdownTimeout. Returns what did not stop in time. */
  async stop(reason: string): Promise<{ interrupted: number; abandoned: number; seconds: number }> {
    const started = performance.now();
    const deadline = Date.now() + this.o.settings.shutdownTimeout * 1000;
    this.stopping = true;
    for (const t of this.tasks) await t.destroy();
    for (const t of this.timers) clearInterval(t);
    this.o.logger.info({ running: this.running.size, claiming: this.claiming.size, reason }, 'daemon stopping');
    this.stopper.abort(new ShutdownError(`${reason}: the daemon is shutting down`));
    // the workers take no more jobs; those running end at once (the stop reached them) and go back to the queue
    const queueStopped = this.queue
      ?.stop()
      .catch((err: unknown) => this.o.logger.warn({ err: messageOf(err) }, 'queue workers did not stop cleanly'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (r) => (timer = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now() - 1000))),
    );
    // A claim already on its way to the state database still records its run as 'running', and
    // node-cron (or catch-up) still starts that run: wait for such claims, then for the runs they
    // start (each sees the stop at once), or the row would stay 'running' after we exit.
    await Promise.race([Promise.allSettled([...this.claiming]), timeout]);
    await Promise.race([this.workOffOwnClaims(), timeout]);
    const inFlight = [...this.running.values()];
    const outcomes = await Promise.race([Promise.allSettled(inFlight), timeout]);
    await Promise.race([queueStopped, timeout]);
    clearTimeout(timer);
    let abandoned = 0;
    if (outcomes === 'timeout') {
      abandoned = this.running.size;
      const ids = [...this.running.keys()];
      await this.pool
        .query(
          `update fapiao_guard.job_runs set status = 'interrupted', finished_at = now(), error = $2 where id = any($1) and status = 'running'`,
          [
            ids,
            `${reason}: did not stop within daemon.shutdownTimeout (${this.o.settings.shutdownTimeout}s); abandoned`,
          ],
        )
        .catch(() => undefined);
    }
    await this.o.notifier.drain(Math.min(5000, deadline - Date.now() - 500));
    await daemonStopped(this.pool, this.id).catch(() => undefined);
    if (this.http) await closeServer(this.http.server);
    await this.pool.end().catch(() => undefined);
    await this.queuePool.end().catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    this.o.logger.info(
      { interrupted: inFlight.length - abandoned, abandoned, seconds: Math.round(seconds * 1000) / 1000 },
      'daemon stopped',
    );
    return { interrupted: inFlight.length - abandoned, abandoned, seconds };
  }

  /**
   * Fire times this daemon claimed in its last moments (a claim that raced the stop, or one no worker
   * took yet) would wait in the queue for the next daemon to start: record their attempt here as
   * interrupted by the stop, as a daemon that ran them would; the queue still holds them for a retry.
   */
  private async workOffOwnClaims(): Promise<void> {
    const claims = [...this.ownClaims.values()];
    this.ownClaims.clear();
    await Promise.allSettled(claims.map((c) => this.work(c.fire, true)));
  }

  private runnerDeps(): RunnerDeps {
    const { config, logger, repo, notifier, settings } = this.o;
    return {
      config,
      logger,
      repo,
      pool: this.pool,
      notifier,
      heartbeat: settings.heartbeat,
      staleAfter: settings.staleAfter,
    };
  }

  private async health(): Promise<{ ok: boolean; checks: Record<string, unknown> }> {
    const db = await Promise.race([
      this.pool.query('select 1').then(() => 'ok'),
      new Promise<string>((r) => setTimeout(() => r('timeout after 2s'), 2000).unref()),
    ]).catch((err: unknown) => messageOf(err));
    const scheduler = this.stopping
      ? 'stopping'
      : this.tasks.every((t) => t.getStatus() !== 'stopped' && t.getStatus() !== 'destroyed')
        ? 'running'
        : 'stopped';
    return {
      ok: db === 'ok' && scheduler === 'running',
      checks: { scheduler, stateDb: db, tasks: this.tasks.length, runningJobs: this.running.size, daemon: this.id },
    };
  }

  /** One snapshot for /status and /metrics, at most every 15 s (it lists the repository). */
  status(): Promise<StatusReport> {
    if (!this.snapshot || Date.now() - this.snapshot.at > 15_000) {
      const report = collectStatus(this.o.config, this.o.repo, this.pool);
      this.snapshot = { at: Date.now(), report };
      report.catch(() => (this.snapshot = undefined));
    }
    return this.snapshot.report;
  }

  private async renderMetrics(): Promise<{ contentType: string; body: string }> {
    this.metrics.update(await this.status(), {
      schedulerUp: !this.stopping,
      runningJobs: this.running.size,
      concurrency: this.o.settings.concurrency,
    });
    return this.metrics.render();
  }
}

function fireKey(f: QueuedFireTime): string {
  return `${f.job}/${f.target}/${f.fireTime}`;
}
