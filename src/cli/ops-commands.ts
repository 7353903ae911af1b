// daemon, run, jobs, prune and status: running fapiao-guard unattended and asking how it is doing.
import type { Argv } from 'yargs';
import { JOBS, JOB_NAMES, type JobName } from '../../jobs/index.js';
import { pruneTarget } from '../../jobs/prune.js';
import { defaultDaemonConfig, parseListen } from '../daemon/daemon-config.js';
import { scheduleEntries } from '../daemon/daemon-registry.js';
import { listRuns, queueStats } from '../daemon/job-runs.js';
import { runNow } from '../daemon/run-now.js';
import { CheckFailedError, InterruptedError, OperationError, UsageError } from '../core/errors.js';
import { scopesFor } from '../daemon/job.js';
import { createNotifier } from '../daemon/notify/channels.js';
import { NotifyDispatcher } from '../daemon/notify/dispatcher.js';
import type { PrunePlan, PruneResult } from '../backup/prune.js';
import { withStateDb } from '../core/state/state-db.js';
import { collectStatus } from '../daemon/status/status.js';
import { queueLine, renderStatusText } from '../daemon/status/status-render.js';
import { formatBytes } from '../core/progress.js';
import {
  type CommandContext,
  type GlobalArgs,
  REPOSITORY_OPTION,
  commandContext,
  refuseOption,
  selectTargets,
} from './context.js';
import { formatTime, printJson, printTable } from './output.js';

const DAEMON_EPILOG = `Runs the jobs in 'schedules' (cron expressions in 'timezone'; backup, drill and prune once per target, reconcile once). Each fire time runs on exactly one daemon however many run against the same state database (HA): the first to claim it in fapiao_guard.job_runs wins; a job never overlaps itself (a later fire time is recorded as skipped). A run whose daemon dies is marked interrupted by another daemon after daemon.staleAfter (at once on the same host). At start, the latest fire time missed while no daemon ran is run once (daemon.catchUp, within daemon.catchUpWindow).
SIGTERM/SIGINT: stop scheduling, abort running jobs (children killed, uploads aborted, scratch databases dropped), record them interrupted, exit within daemon.shutdownTimeout. A second signal exits at once.
HTTP on daemon.listen: /healthz (200 when the scheduler runs and the state database answers, else 503), /metrics (Prometheus), /status (JSON; HTML for browsers; /status.json, /status.html).`;

export function registerOpsCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli
    .command(
      'daemon',
      'run the scheduled jobs unattended, with /healthz, /metrics and /status over HTTP',
      (y) =>
        y
          .option('listen', {
            type: 'string',
            describe: 'host:port for HTTP, or off (default: daemon.listen, 127.0.0.1:9187)',
          })
          .example(
            '$0 daemon --config /etc/fapiao-guard/fapiao-guard.yaml',
            'as a systemd service (Type=simple, KillSignal=SIGTERM, TimeoutStopSec above daemon.shutdownTimeout)',
          )
          .example('$0 daemon --listen 0.0.0.0:9187', 'expose metrics to a Prometheus on another host')
          .example(
            'curl -s localhost:9187/metrics | grep fapiao_guard_job_last_success',
            'when did each job last succeed',
          )
          .epilog(DAEMON_EPILOG),
      async (args) => {
        refuseOption(
          args,
          'json',
          'daemon',
          "it prints no result; its logs are JSON already (read results with 'fapiao-guard jobs --json' or GET /status)",
        );
        const ctx = await commandContext(args);
        const settings = { ...(ctx.config.daemon ?? defaultDaemonConfig()) };
        if (args.listen !== undefined) {
          if (args.listen !== 'off' && !parseListen(args.listen))
            throw new UsageError(`--listen '${args.listen}' is not host:port or off`);
          if (args.listen === 'off') delete settings.listen;
          else settings.listen = args.listen;
        }
        const entries = scheduleEntries(ctx.config, ctx.config.schedules ?? {}, selectTargets(ctx.config, args.target));
        // loaded here: the scheduler, HTTP server and prom-client are only needed by the daemon
        const { Daemon } = await import('../daemon/daemon.js');
        const daemon = new Daemon({
          config: ctx.config,
          logger: ctx.logger,
          repo: ctx.repo,
          settings,
          entries,
          notifier: dispatcher(ctx),
          signal: ctx.signal,
        });
        await daemon.start();
        // a signal may have arrived while starting: an aborted signal fires no more 'abort' events
        if (!ctx.signal.aborted)
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        const reason = String((ctx.signal.reason as Error | undefined)?.message ?? 'stopped');
        const stopped = await daemon.stop(reason);
        if (stopped.abandoned > 0) {
          throw new OperationError(
            `${stopped.abandoned} job(s) did not stop within daemon.shutdownTimeout (${settings.shutdownTimeout}s); recorded as interrupted`,
            { hint: 'raise daemon.shutdownTimeout, and the service manager stop timeout above it' },
          );
        }
      },
    )
    .command(
      'run <job>',
      'run one job now, through the same path as the daemon (lock, history, notifications)',
      (y) =>
        y
          .positional('job', {
            type: 'string',
            choices: JOB_NAMES as string[],
            demandOption: true,
            describe: 'backup, drill, reconcile, prune or copy',
          })
          .example(
            '$0 run backup --target invoices',
            'a backup now; skipped with exit 3 if one is already running anywhere',
          )
          .example('$0 run prune --json', 'apply retention to every target; outcome as JSON')
          .epilog(
            "Recorded in the job history ('fapiao-guard jobs') with trigger 'manual'. Exit codes: 0 succeeded · 1 the job ran and found a problem (failed drill, findings) · 3 it could not complete, was interrupted, or another run of it holds the lock.",
          ),
      async (args) => {
        const ctx = await commandContext(args);
        const name = args.job as JobName;
        const job = JOBS[name];
        const targets = job.scope === 'target' ? selectTargets(ctx.config, args.target) : [];
        const outcomes = await runNow(
          { ...ctx, notifier: dispatcher(ctx) },
          scopesFor(job, targets).map((scope) => ({ name, job, scope })),
        );
        if (ctx.json) printJson(outcomes);
        else
          for (const o of outcomes)
            process.stdout.write(
              `${o.status}: ${o.summary ?? o.error ?? ''} (run #${o.runId}, ${o.seconds.toFixed(1)}s)\n`,
            );
        const bad = outcomes.find((o) => o.status !== 'succeeded');
        if (bad?.status === 'interrupted')
          throw new InterruptedError(`${name} of '${bad.target}' interrupted: ${bad.error}`);
        // a job that returned ok: false ran and found a problem (details present); one that threw could not complete
        if (bad && bad.details) throw new CheckFailedError(`${name} of '${bad.target}' failed: ${bad.error}`);
        if (bad) throw new OperationError(`${name} of '${bad.target}' failed: ${bad.error}`);
      },
    )
    .command(
      'jobs',
      'job history: which job ran for which target, when, where, and how it ended',
      (y) =>
        y
          .option('limit', { type: 'number', default: 30, describe: 'the most recent N runs' })
          .option('job', { type: 'string', choices: JOB_NAMES as string[], describe: 'only this job' })
          .option('skipped', {
            type: 'boolean',
            default: false,
            describe: 'also list fire times skipped because the previous run was still running',
          })
          .example('$0 jobs', 'the last 30 runs of every job')
          .example(
            '$0 jobs --job backup --target invoices --json',
            '[{job, target, fireTime, status, host, pid, startedAt, finishedAt, error}]',
          )
          .epilog(
            'Statuses: running, succeeded, failed (the job failed or found a problem), skipped (the previous run still held the lock), interrupted (stopped by a shutdown, or its daemon died: see error).',
          ),
      async (args) => {
        const ctx = await commandContext(args);
        if (!Number.isInteger(args.limit) || args.limit < 1)
          throw new UsageError(`--limit must be a whole number ≥ 1, got '${args.limit}'`);
        if (args.target) selectTargets(ctx.config, args.target);
        const filter = {
          limit: args.limit,
          includeSkipped: args.skipped,
          ...(args.job ? { job: args.job } : {}),
          ...(args.target ? { target: args.target } : {}),
        };
        const [rows, queue] = await withStateDb(
          ctx.config,
          async (db) => [await listRuns(db, filter), await queueStats(db)] as const,
        );
        if (ctx.json) {
          printJson(
            rows.map((r) => ({
              job: r.job,
              target: r.target,
              fireTime: r.fireTime,
              status: r.status,
              host: r.host,
              pid: r.pid,
              startedAt: r.startedAt,
              finishedAt: r.finishedAt,
              error: r.error,
              attempt: r.attempt,
              maxAttempts: r.maxAttempts,
            })),
          );
          return;
        }
        if (rows.length === 0)
          return void process.stdout.write(
            "no job runs yet (start 'fapiao-guard daemon' or 'fapiao-guard run <job>')\n",
          );
        const tz = ctx.config.timezone;
        printTable(
          ['fire time', 'job', 'target', 'status', 'attempt', 'trigger', 'host/pid', 'took', 'summary or error'],
          rows.map((r) => [
            formatTime(r.fireTime, tz),
            r.job,
            r.target,
            r.status,
            `${r.attempt}/${r.maxAttempts}`,
            r.trigger,
            `${r.host}/${r.pid}`,
            r.finishedAt ? `${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)}s` : '',
            (r.error ?? r.summary ?? '').slice(0, 100),
          ]),
        );
        process.stdout.write(`${queueLine(queue)}\n`);
      },
    )
    .command(
      'prune',
      'apply the retention policy: delete old backups, incomplete backups and abandoned uploads',
      (y) =>
        y
          .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan, delete nothing' })
          .option('repository', {
            ...REPOSITORY_OPTION,
            describe: 'only this repository (default: every configured repository, each with its own retention)',
          })
          .example('$0 prune --dry-run', 'what would go, and why each backup stays')
          .example(
            '$0 prune --repository offsite',
            "apply the second repository's retention (repositories[].retention) to it",
          )
          .example('$0 prune --target invoices --json', 'apply it to one target; the plan and outcome as JSON')
          .epilog(
            "Per target: keepLast keeps the newest N complete backups; daily/weekly/monthly/yearly keep the newest backup of each of the newest N days/ISO weeks/months/years that have one (in 'timezone'). The newest complete backup is never deleted. Each repository is pruned with its own policy: repositories[].retention, else retention. Incomplete backups and multipart uploads older than retention.incompleteAfter (24h) are deleted. Without retention counts every complete backup is kept. The plan is printed before anything is deleted; a complete backup loses its manifest first. Objects under S3 Object Lock retention are reported as retained (not an error). Exit 3 when a deletion failed.",
          ),
      async (args) => {
        const ctx = await commandContext(args);
        const several = ctx.config.repositories.length > 1 && args.repository === undefined;
        const results: Array<PruneResult & { repository?: string }> = [];
        for (const target of selectTargets(ctx.config, args.target)) {
          const onPlan = (plan: PrunePlan, repository: { name: string; location: string }) => {
            if (ctx.json) return;
            if (several) process.stdout.write(`repository '${repository.name}' (${repository.location}):\n`);
            printPlan(plan, ctx.config.timezone, args['dry-run']);
          };
          const options = { dryRun: args['dry-run'], repository: args.repository, opened: ctx.repository.name, onPlan };
          for (const { repository, ...result } of await pruneTarget({ ...ctx, target }, options)) {
            results.push(several || args.repository !== undefined ? { repository, ...result } : result);
            if (!ctx.json) printPruneOutcome(result);
          }
        }
        if (ctx.json) printJson(results);
        const failed = results.reduce((n, r) => n + r.failed, 0);
        if (failed > 0)
          throw new OperationError(`prune could not delete ${failed} item(s); see the list above`, {
            hint: 'check storage permissions; the next prune retries',
          });
      },
    )
    .command(
      'status',
      'is anything stale or failing? newest backup vs RPO, last drill and RTO, findings, last runs',
      (y) =>
        y
          .example('$0 status', 'a table; exit 1 with the problems listed when something is stale or failing')
          .example('$0 status --json | jq .problems', 'for scripts and monitoring systems')
          .epilog(
            'Exit codes: 0 nothing stale or failing · 1 at least one problem (newest backup older than drill.rpoObjective, last drill failed, last run of a job failed, a scheduled job missed two fire times) · 3 the repository or state database could not be read.',
          ),
      async (args) => {
        const ctx = await commandContext(args);
        const config = args.target ? { ...ctx.config, targets: selectTargets(ctx.config, args.target) } : ctx.config;
        await ctx.repo.requireRepository(); // no repository: exit 3, not "no backup yet"
        const report = await withStateDb(config, (db) => collectStatus(config, ctx.repo, db));
        const { jobRuns: _raw, ...visible } = report;
        if (ctx.json) printJson(visible);
        else process.stdout.write(renderStatusText(report));
        if (!report.ok) throw new CheckFailedError(`${report.problems.length} problem(s): ${report.problems[0]}`);
      },
    );
}

function dispatcher(ctx: CommandContext): NotifyDispatcher {
  return new NotifyDispatcher((ctx.config.notify ?? []).map(createNotifier), ctx.logger);
}

function printPlan(plan: PrunePlan, tz: string, dryRun: boolean): void {
  process.stdout.write(`${dryRun ? 'plan (dry run)' : 'plan'} for '${plan.target}' (${plan.policy}):\n`);
  printTable(
    ['backup', 'started', 'status', 'size', 'action', 'why'],
    plan.backups.map((b) => [
      b.id,
      formatTime(b.startedAt, tz),
      b.status,
      formatBytes(b.storedBytes),
      b.action,
      b.reasons.join('; '),
    ]),
  );
  for (const u of plan.uploads)
    process.stdout.write(`upload ${u.name} (${u.uploadId.slice(0, 12)}…): ${u.action} — ${u.reason}\n`);
  for (const l of plan.leftovers) process.stdout.write(`${l.kind} ${l.name}: ${l.action} — ${l.reason}\n`);
}

function printPruneOutcome(r: PruneResult): void {
  const notes = [...r.backups, ...r.uploads, ...r.leftovers]
    .filter((x) => x.outcome === 'retained' || x.outcome === 'failed')
    .map((x) => `  ${'id' in x ? x.id : x.name}: ${x.outcome}${x.note ? ` (${x.note})` : ''}`);
  const would = [...r.backups, ...r.uploads, ...r.leftovers].filter((x) => x.outcome === 'would delete').length;
  process.stdout.write(
    r.dryRun
      ? `dry run: would delete ${would} item(s) of '${r.target}'; nothing deleted\n`
      : `'${r.target}': deleted ${r.deleted} backup(s) (${formatBytes(r.deletedBytes)})${r.leftovers.some((l) => l.outcome === 'deleted') ? `, ${r.leftovers.filter((l) => l.outcome === 'deleted').length} leftover(s)` : ''}${r.retained ? `, ${r.retained} retained by Object Lock` : ''}${r.failed ? `, ${r.failed} FAILED` : ''}\n${notes.join('\n')}${notes.length ? '\n' : ''}`,
  );
}
