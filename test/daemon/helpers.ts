// Daemon test fixtures: config files with schedules, daemons as subprocesses (the way systemd runs
// them), a pg_dump on PATH that the test holds or releases, job history queries, waits on state with
// deadlines, and a Prometheus text parser.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { query } from '../helpers/pg.js';
import { waitFor as waitUntil } from '../helpers/wait.js';
import type { TestRepo } from '../helpers/repo.js';
import { onTestFinished } from 'vitest';

export async function writeOpsConfig(t: TestRepo, name: string, extra: Record<string, unknown>): Promise<string> {
  const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
  const file = path.join(t.dir, name);
  await writeFile(file, JSON.stringify({ ...doc, ...extra }, null, 2));
  return file;
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  /** the HTTP address from the 'http listening' log line */
  address: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** log lines (JSON) with this msg */
  logs(msg: string): Array<Record<string, unknown>>;
}

/** process groups of daemons started here and not yet seen to exit */
const live = new Set<number>();
// a worker that ends with daemons still up (a failed hook, an interrupted run) takes them along
process.once('exit', () => {
  for (const pid of live) killGroup(pid);
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The daemon and whatever it started (pg_dump, shims, their sleeps), by process group, and wait
 * until it has exited. For cleanup after a test, passed or failed; a clean stop is the test's job.
 */
export async function killDaemon(d: DaemonProcess): Promise<void> {
  killGroup(d.pid);
  await d.exited;
}

export function startDaemon(configFile: string, env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const child = spawn(process.execPath, [BIN, 'daemon', '--config', configFile, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, FAPIAO_GUARD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, so that cleanup also reaches the pg_dump it started; signals the
    // tests send (SIGTERM, SIGKILL) still go to the daemon alone, as systemd's would to its main pid
    detached: true,
  });
  live.add(child.pid!);
  let stderr = '';
  let resolveAddress: (a: string) => void;
  const address = new Promise<string>((r) => (resolveAddress = r));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /"listen":"([^"]+)","msg":"http listening/.exec(stderr);
    if (m) resolveAddress(m[1]!);
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.on('close', (code, signal) => {
      r({ code, signal, at: performance.now() });
      // the group may outlive its leader (an orphaned pg_dump shim): end it with the daemon
      killGroup(child.pid!);
      live.delete(child.pid!);
    }),
  );
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    address,
    exited,
    logs: (msg) =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === msg),
  };
}

/**
 * A directory whose pg_dump runs `script` (with $REAL the real pg_dump and $MARKS a directory for
 * marker files the script may leave); put `path` first on PATH.
 */
export async function pgDumpShim(script: string): Promise<{ path: string; marks: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fgt-shim-'));
  const marks = path.join(dir, 'marks');
  await mkdir(marks);
  const real = execFileSync('sh', ['-c', 'command -v pg_dump']).toString().trim();
  await writeFile(path.join(dir, 'pg_dump'), `#!/bin/bash\nREAL=${real}\nMARKS=${marks}\n${script}\n`);
  await chmod(path.join(dir, 'pg_dump'), 0o755);
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return { path: `${dir}:${process.env.PATH}`, marks };
}

/** Marker files named `<prefix>…` the shim has left. */
export async function marks(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(prefix));
}

export interface RunRecord {
  id: number;
  job: string;
  target: string;
  fire_time: Date;
  trigger: string;
  pid: number;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  is_failure: boolean;
}

export function runs(stateUrl: string, where = 'true', params: unknown[] = []): Promise<RunRecord[]> {
  return query<RunRecord>(
    stateUrl,
    `select id::int, job, target, fire_time, trigger, pid, status, started_at, finished_at, error, is_failure from fapiao_guard.job_runs where ${where} order by fire_time, id`,
    params,
  );
}

/**
 * waitFor (test/helpers/wait.ts) for daemon tests: with `daemons`, fail at once, with their logs,
 * when one of them exits first; on a timeout, show their logs.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  daemons: DaemonProcess[] = [],
): Promise<T> {
  let gone: DaemonProcess | undefined;
  for (const d of daemons) void d.exited.then(() => (gone ??= d));
  try {
    return await waitUntil(what, check, ms, { abandon: () => (gone ? `daemon pid ${gone.pid} exited` : undefined) });
  } catch (err) {
    throw new Error(
      `${(err as Error).message}${daemons.map((d) => `\ndaemon pid ${d.pid} log:\n${d.stderr()}`).join('')}`,
    );
  }
}

/** The first log line `msg` of a daemon, once it is written. */
export function waitForLog(d: DaemonProcess, msg: string, ms: number): Promise<Record<string, unknown>> {
  return waitFor(`'${msg}' in the log of daemon pid ${d.pid}`, () => d.logs(msg)[0], ms, [d]);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format, strictly enough for tests: samples plus HELP/TYPE per family. */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string>; helps: Set<string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\w+) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      else helps.add(meta[2]!);
      continue;
    }
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types, helps };
}
