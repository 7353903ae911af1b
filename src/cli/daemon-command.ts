// daemon: run the scheduled jobs unattended, with /healthz, /metrics and /status over HTTP.
import { type DaemonConfig, defaultDaemonConfig, parseListen } from '../daemon/daemon-config.js';
import { scheduleEntries } from '../daemon/daemon-registry.js';
import { OperationError, UsageError } from '../core/errors.js';
import { commandContext, defineCommand, refuseOption, selectTargets } from './context.js';
import { notifierFor } from './run-command.js';

const DAEMON_EPILOG = `Runs the jobs in 'schedules' (cron expressions in 'timezone'; backup, drill and prune once per target, reconcile once). Each fire time runs on exactly one daemon however many run against the same state database (HA): the first to claim it in fapiao_guard.job_runs wins; a job never overlaps itself (a later fire time is recorded as skipped). A run whose daemon dies is marked interrupted by another daemon after daemon.staleAfter (at once on the same host). At start, the latest fire time missed while no daemon ran is run once (daemon.catchUp, within daemon.catchUpWindow).
SIGTERM/SIGINT: stop scheduling, abort running jobs (children killed, uploads aborted, scratch databases dropped), record them interrupted, exit within daemon.shutdownTimeout. A second signal exits at once.
HTTP on daemon.listen: /healthz (200 when the scheduler runs and the state database answers, else 503), /metrics (Prometheus), /status (JSON; HTML for browsers; /status.json, /status.html).`;

export const daemonCommand = defineCommand({
  command: 'daemon',
  describe: 'run the scheduled jobs unattended, with /healthz, /metrics and /status over HTTP',
  builder: (y) =>
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
      .example('curl -s localhost:9187/metrics | grep fapiao_guard_job_last_success', 'when did each job last succeed')
      .epilog(DAEMON_EPILOG),
  handler: async (args) => {
    refuseOption(
      args,
      'json',
      'daemon',
      "it prints no result; its logs are JSON already (read results with 'fapiao-guard jobs --json' or GET /status)",
    );
    const ctx = await commandContext(args);
    const settings = withListen(ctx.config.daemon ?? defaultDaemonConfig(), args.listen);
    const entries = scheduleEntries(ctx.config, ctx.config.schedules ?? {}, selectTargets(ctx.config, args.target));
    // loaded here: the scheduler, HTTP server and prom-client are only needed by the daemon
    const { Daemon } = await import('../daemon/daemon.js');
    const daemon = new Daemon({
      config: ctx.config,
      logger: ctx.logger,
      repo: ctx.repo,
      settings,
      entries,
      notifier: notifierFor(ctx),
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
});

/** The daemon settings with --listen applied: host:port, or off (no HTTP). */
function withListen(configured: DaemonConfig, listen: string | undefined): DaemonConfig {
  const settings = { ...configured };
  if (listen === undefined) return settings;
  if (listen !== 'off' && !parseListen(listen)) throw new UsageError(`--listen '${listen}' is not host:port or off`);
  if (listen === 'off') delete settings.listen;
  else settings.listen = listen;
  return settings;
}
