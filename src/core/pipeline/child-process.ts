// Child processes (pg_dump, pg_restore, zstd) as pipeline stages whose failure is never silent:
// a stage's output ends only after the process exited 0, so a pg_dump killed mid-stream
// fails the upload instead of producing a short object that looks complete.
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, type Readable, pipeline } from 'node:stream';
import { OperationError } from '../errors.js';

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** 'pipe' to write into the process, 'ignore' otherwise */
  stdin?: 'pipe' | 'ignore';
  /** a file descriptor for the process to write its output to directly (default: a pipe) */
  stdoutFd?: number;
  /** another process's output as this one's input, joined by the OS (the bytes never pass through us) */
  stdinFrom?: Readable;
  /** what to tell people when the binary is missing */
  installHint?: string;
  /** a name for messages, e.g. `pg_dump of 'invoices'` */
  label?: string;
  /** sees each stderr line; returning true keeps it out of the error message (progress chatter) */
  onStderrLine?: (line: string) => boolean;
}

export interface Tool {
  readonly child: ChildProcess;
  /** resolves on exit 0; rejects with a one-line OperationError otherwise */
  readonly exited: Promise<void>;
  /** the last lines the process wrote to stderr */
  stderrTail(): string;
  kill(): void;
}

export function startTool(command: string, args: readonly string[], options: ToolOptions = {}): Tool {
  const label = options.label ?? command;
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    stdio: [options.stdinFrom ?? options.stdin ?? 'ignore', options.stdoutFd ?? 'pipe', 'pipe'],
  });
  let tail = '';
  let partial = '';
  const onLine = options.onStderrLine;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (!onLine) {
      tail = (tail + chunk).slice(-8192);
      return;
    }
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (!onLine(line)) tail = `${tail}${line}\n`.slice(-8192);
  });
  child.stderr!.once('end', () => {
    if (onLine && partial && !onLine(partial)) tail = `${tail}${partial}`.slice(-8192);
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onAbort = (): void => kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new OperationError(
          err.code === 'ENOENT'
            ? `cannot run '${command}': not found on PATH`
            : `cannot run '${command}': ${err.message}`,
          {
            cause: err,
            ...(options.installHint ? { hint: options.installHint } : {}),
          },
        ),
      );
    });
    const fail = (code: number | null, signal: NodeJS.Signals | null): void => {
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const last = lastLines(tail);
      reject(new OperationError(`${label} failed (${why})${last ? `: ${last}` : ''}`));
    };
    // Success waits for 'close' (all output read). Failure is known at 'exit': a grandchild
    // holding the pipes open must not delay it, beyond a moment for stderr to arrive.
    child.once('exit', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (code === 0) return;
      const timer = setTimeout(() => fail(code, signal), 500);
      child.once('close', () => {
        clearTimeout(timer);
        fail(code, signal);
      });
    });
    child.once('close', (code) => {
      if (code === 0) resolve();
    });
  });
  exited.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  return { child, exited, stderrTail: () => tail, kill };
}

/**
 * The tool's stdout, ending only once every listed process has exited successfully;
 * destroyed with the first failure otherwise.
 */
export function outputAfterExit(tool: Tool, alsoWaitFor: readonly Tool[] = []): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const all = Promise.all([tool.exited, ...alsoWaitFor.map((t) => t.exited)]);
  all.catch((err: unknown) => out.destroy(err as Error));
  tool.child.stdout!.on('error', (err) => out.destroy(err));
  tool.child.stdout!.pipe(out, { end: false });
  tool.child.stdout!.once('end', () => {
    all.then(
      () => out.end(),
      () => undefined,
    );
  });
  return out;
}

/**
 * What a failed tool said, in one line: its last `error:` line (PostgreSQL tools follow it with
 * the failed command, which says less), otherwise its last meaningful lines.
 */
export function lastLines(text: string, count = 2): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(pg_dump|pg_restore): (detail|hint)?:?\s*$/.test(l));
  const error = lines.findLast((l) => /^[\w.-]+: error: /.test(l));
  return error ?? lines.slice(-count).join(' | ');
}

export const PG_CLIENT_HINT =
  "install the PostgreSQL client tools matching the server (Debian: 'apt-get install postgresql-client')";
export const ZSTD_HINT = "install zstd (Debian: 'apt-get install zstd')";

/**
 * Feed a stream into a tool's stdin and resolve once the stream has been read to its end
 * (so every byte is still authenticated and hashed) and the tool exited 0. pg_restore may stop
 * reading before the end of an archive; bytes it did not want are drained, not an error.
 */
export function feedTool(source: Readable, tool: Tool): Promise<void> {
  const stdin = tool.child.stdin!;
  const consumed = new Promise<void>((resolve, reject) => {
    let closed = false;
    const stopFeeding = (): void => {
      if (closed) return;
      closed = true;
      source.unpipe(stdin);
      source.resume(); // drain the rest: the checks downstream of the source still run
    };
    stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') stopFeeding();
      else reject(err);
    });
    stdin.on('close', stopFeeding);
    source.once('error', reject);
    source.once('end', resolve);
    source.pipe(stdin);
  });
  return Promise.all([consumed, tool.exited]).then(() => undefined);
}

/** Errors of a write into a process that is no longer reading (its end of the pipe is gone). */
const BROKEN_PIPE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Pipe `source` into the tool's stdin until the source ends. A tool that stops reading early
 * (zstd -d on corrupt data) makes our writes fail with EPIPE; its exit status and stderr say why,
 * so its failure is the error, and EPIPE stands only when it exited 0 without taking its input.
 */
export function pipeInto(source: Readable, tool: Tool): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    pipeline(source, tool.child.stdin!, (err) => {
      if (!err) resolve();
      else if (BROKEN_PIPE.has((err as NodeJS.ErrnoException).code ?? '')) tool.exited.then(() => reject(err), reject);
      else reject(err);
    });
  });
}
