// Prometheus metrics for the daemon (prom-client): refreshed from the status snapshot at each scrape,
// so that two daemons over one state DB report the same numbers whichever one is scraped.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StatusReport } from './status/status.js';

const P = 'fapiao_guard_';

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly g = {
    up: this.gauge('scheduler_up', 'the scheduler of this daemon is running (1) or stopping (0)', []),
    running: this.gauge('running_jobs', 'jobs running in this daemon now', []),
    lastSuccess: this.gauge(
      'job_last_success_timestamp_seconds',
      'when the job last succeeded for the target (unix time)',
      ['job', 'target'],
    ),
    lastRun: this.gauge(
      'job_last_run_timestamp_seconds',
      'when the last run of the job for the target finished or started (unix time)',
      ['job', 'target'],
    ),
    lastFailed: this.gauge('job_last_run_failed', 'the last run of the job for the target failed (1) or not (0)', [
      'job',
      'target',
    ]),
    duration: this.gauge('job_last_duration_seconds', 'duration of the last successful run', ['job', 'target']),
    backupBytes: this.gauge(
      'backup_newest_stored_bytes',
      'stored (compressed, encrypted) bytes of the newest complete backup',
      ['target'],
    ),
    backupTime: this.gauge('backup_newest_timestamp_seconds', 'when the newest complete backup finished (unix time)', [
      'target',
    ]),
    backupAge: this.gauge('backup_newest_age_seconds', 'age of the newest complete backup', ['target']),
    backupCount: this.gauge('backups', 'backups in the repository', ['target', 'status']),
    rpo: this.gauge('rpo_objective_seconds', 'configured RPO objective', ['target']),
    rto: this.gauge('drill_last_rto_seconds', 'RTO measured by the last finished drill', ['target']),
    rtoObjective: this.gauge('rto_objective_seconds', 'configured RTO objective', ['target']),
    drillPass: this.gauge('drill_last_passed', 'the last finished drill passed (1) or not (0)', ['target']),
    findings: this.gauge('open_findings', 'open (unresolved) reconciliation findings', ['kind']),
    targetOk: this.gauge('target_ok', 'status found no problem for the target (1) or some (0)', ['target']),
    queued: this.gauge('queue_queued', 'fire times claimed and waiting for a free worker on any daemon', []),
    queueRunning: this.gauge('queue_running', 'runs in progress, by the host running them', ['host']),
    queueRetried: this.gauge(
      'queue_retried',
      'attempts after the first (a lost attempt redone) in the job history, by host',
      ['host'],
    ),
    queueFailed: this.gauge(
      'queue_failed',
      'failed runs (and runs interrupted by a crash) in the job history, by host',
      ['host'],
    ),
    queueSucceeded: this.gauge('queue_succeeded', 'succeeded runs in the job history, by host', ['host']),
    concurrency: this.gauge('concurrency', 'jobs this daemon runs at once (daemon.concurrency)', []),
  };
  private readonly failures = new Counter({
    name: `${P}job_failures_total`,
    help: 'failed runs (and runs interrupted by a crash) in the job history',
    labelNames: ['job', 'target'],
    registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: `${P}job_runs_total`,
    help: 'finished runs in the job history (skipped ones excluded)',
    labelNames: ['job', 'target'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: P });
  }

  update(status: StatusReport, live: { schedulerUp: boolean; runningJobs: number; concurrency: number }): void {
    for (const m of [...Object.values(this.g), this.failures, this.runs]) m.reset();
    this.g.up.set(live.schedulerUp ? 1 : 0);
    this.g.running.set(live.runningJobs);
    this.g.concurrency.set(live.concurrency);
    this.g.queued.set(status.queue.queued);
    for (const h of status.queue.hosts) {
      this.g.queueRunning.set({ host: h.host }, h.running);
      this.g.queueRetried.set({ host: h.host }, h.retried);
      this.g.queueFailed.set({ host: h.host }, h.failed);
      this.g.queueSucceeded.set({ host: h.host }, h.succeeded);
    }
    for (const s of status.jobRuns) {
      const labels = { job: s.job, target: s.target };
      if (s.lastSuccessAt) this.g.lastSuccess.set(labels, seconds(s.lastSuccessAt));
      this.g.lastRun.set(labels, seconds(s.last.finishedAt ?? s.last.startedAt));
      this.g.lastFailed.set(labels, s.last.isFailure ? 1 : 0);
      if (s.lastSuccessSeconds !== null) this.g.duration.set(labels, s.lastSuccessSeconds);
      this.failures.inc(labels, s.failures);
      this.runs.inc(labels, s.runs);
    }
    for (const t of status.targets) {
      const target = { target: t.target };
      const newest = t.backup.newest;
      if (newest) {
        this.g.backupBytes.set(target, newest.storedBytes);
        this.g.backupTime.set(target, seconds(newest.finishedAt));
        this.g.backupAge.set(target, newest.ageSeconds);
      }
      this.g.backupCount.set({ ...target, status: 'complete' }, t.backup.complete);
      this.g.backupCount.set({ ...target, status: 'incomplete' }, t.backup.incomplete);
      this.g.rpo.set(target, t.backup.rpoObjectiveSeconds);
      this.g.rtoObjective.set(target, t.drill.rtoObjectiveSeconds);
      const drill = t.drill.last;
      if (drill?.rtoSeconds != null) this.g.rto.set(target, drill.rtoSeconds);
      if (drill) this.g.drillPass.set(target, drill.status === 'pass' ? 1 : 0);
      this.g.targetOk.set(target, t.ok ? 1 : 0);
    }
    for (const [kind, n] of Object.entries(status.findings?.byKind ?? {})) this.g.findings.set({ kind }, n);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    return new Gauge({ name: `${P}${name}`, help, labelNames, registers: [this.registry] });
  }
}

function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}
