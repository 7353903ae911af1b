// pino to stderr: JSON for machines, pretty in a terminal; secrets redacted by key name.
// stdout stays free for results (tables, --json).
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

// pino-pretty only for terminals: loaded on demand (~10 MB), synchronously so createLogger stays sync.
const require = createRequire(import.meta.url);

export type { Logger };

/** Keys whose values never reach a log line, at any depth we know of. */
const SECRET_KEYS = [
  'password',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'identity',
  'secretAccessKey',
  'sessionToken',
  'privateKey',
];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level?: string;
  /** force pretty or JSON; default: pretty when stderr is a TTY */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.FAPIAO_GUARD_LOG_LEVEL ?? 'info';
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base = { level, base: { name: 'fapiao-guard' }, redact: { paths: REDACT_PATHS, censor: '**redacted**' } };
  if (usePretty) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(
      base,
      pretty({
        destination: 2,
        sync: true,
        colorize: true,
        ignore: 'pid,hostname,name',
        translateTime: 'SYS:HH:MM:ss',
      }),
    );
  }
  return pino(
    { ...base, timestamp: pino.stdTimeFunctions.isoTime },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that discards everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
