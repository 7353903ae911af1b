// jobs: the job history (which job ran for which target, when, where, how it ended) and the queue.
import { JOB_NAMES } from '../../jobs/index.js';
import { type RunRow, listRuns, queueStats } from '../daemon/job-runs.js';
import { withStateDb } from '../core/state/state-db.js';
import { queueLine } from '../daemon/status/status-render.js';
import { commandContext, defineCommand, requireCount, selectTargets } from './context.js';
import { formatTime, printJson, printTable } from './output.js';

export const jobsCommand = defineCommand({
  command: 'jobs',
  describe: 'job history: which job ran for which target, when, where, and how it ended',
  builder: (y) =>
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
  handler: async (args) => {
    const ctx = await commandContext(args);
    requireCount('--limit', args.limit);
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
    if (ctx.json) return printJson(rows.map(jobJson));
    if (rows.length === 0)
      return void process.stdout.write("no job runs yet (start 'fapiao-guard daemon' or 'fapiao-guard run <job>')\n");
    printJobTable(rows, ctx.config.timezone);
    process.stdout.write(`${queueLine(queue)}\n`);
  },
});

/** One run in `jobs --json`: the contract scripts read (keys in this order). */
function jobJson(r: RunRow): Record<string, unknown> {
  return {
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
  };
}

function printJobTable(rows: readonly RunRow[], tz: string): void {
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
}
