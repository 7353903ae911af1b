// Daemon test fixtures: config files with schedules, daemons as subprocesses (the way systemd runs
// them), a slow pg_dump on PATH, job history queries and a Prometheus text parser.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { query } from '../helpers/pg.js';
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

export function startDaemon(configFile: string, env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const child = spawn(process.execPath, [BIN, 'daemon', '--config', configFile, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, FAPIAO_GUARD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let resolveAddress: (a: string) => void;
  const address = new Promise<string>((r) => (resolveAddress = r));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /"listen":"([^"]+)","msg":"http listening/.exec(stderr);
    if (m) resolveAddress(m[1]!);
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => child.on('close', (code, signal) => r({ code, signal, at: performance.now() })));
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

/** A directory whose pg_dump runs `script` (with $REAL the real pg_dump); put it first on PATH. */
export async function pgDumpShim(script: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fgt-shim-'));
  const real = execFileSync('sh', ['-c', 'command -v pg_dump']).toString().trim();
  await writeFile(path.join(dir, 'pg_dump'), `#!/bin/bash\nREAL=${real}\n${script}\n`);
  await chmod(path.join(dir, 'pg_dump'), 0o755);
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return `${dir}:${process.env.PATH}`;
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
  return query<RunRecord>(stateUrl, `select id::int, job, target, fire_time, trigger, pid, status, started_at, finished_at, error, is_failure from fapiao_guard.job_runs where ${where} order by fire_time, id`, params);
}

/** Poll until `check` returns a value (not undefined), or fail after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
