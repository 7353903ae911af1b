// The command line: global flags, the command table, and the one place where errors become
// exit codes and one-line messages (docs/ARCHITECTURE.md#error-taxonomy).
import yargs, { type Argv } from 'yargs';
import { ExitCode, UsageError, exitCodeOf, formatError, oneLine } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { TOOL_VERSION } from '../core/version.js';
import type { GlobalArgs } from './context.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerRestoreCommands } from './restore-commands.js';
import { registerDemoCommand } from './demo-command.js';
import { registerDrillCommands } from './drill-commands.js';
import { registerReconcileCommands } from './reconcile-commands.js';
import { registerOpsCommands } from './ops-commands.js';
import { registerEvidenceCommands } from './evidence-commands.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerCopyCommand } from './copy-command.js';

const EPILOG = `Exit codes: 0 ok · 1 a check found a problem · 2 usage or configuration error · 3 could not complete (database, storage, pg_dump) · 70 internal error (a bug).
Logs are JSON on stderr (pretty on a terminal); results go to stdout. Docs: README.md.`;

export function buildCli(argv: string[]): Argv<GlobalArgs> {
  let cli = yargs(argv)
    .scriptName('fapiao-guard')
    .usage('$0 <command> [options]\n\nEncrypted, verifiable PostgreSQL backups for invoice (发票) databases.')
    .option('config', {
      type: 'string',
      global: true,
      describe: 'config file (default: $FAPIAO_GUARD_CONFIG or ./config/fapiao-guard.yaml)',
    })
    .option('target', { type: 'string', global: true, describe: 'only this target (a name from targets[])' })
    .option('json', { type: 'boolean', global: true, describe: 'print results as JSON on stdout' })
    .option('log-level', {
      type: 'string',
      global: true,
      choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      describe: 'log verbosity on stderr (default info)',
    }) as unknown as Argv<GlobalArgs>;
  cli = registerDemoCommand(cli);
  cli = registerBackupCommands(cli);
  cli = registerRestoreCommands(cli);
  cli = registerDrillCommands(cli);
  cli = registerReconcileCommands(cli);
  cli = registerOpsCommands(cli);
  cli = registerEvidenceCommands(cli);
  cli = registerDoctorCommand(cli);
  cli = registerCopyCommand(cli);
  return (
    cli
      .demandCommand(1, 'name a command; try --help')
      .strict()
      .recommendCommands()
      .epilog(EPILOG)
      .version(TOOL_VERSION)
      .help()
      .alias('help', 'h')
      // no wrapping: examples stay on one line, so they can be copied (the terminal folds prose)
      .wrap(null)
      .fail((message, err) => {
        throw (
          err ??
          new UsageError(message.charAt(0).toLowerCase() + message.slice(1), {
            hint: "'fapiao-guard <command> --help' shows the options and examples",
          })
        );
      })
  );
}

/** Node's process warnings (e.g. the AWS SDK's Node-version notice) as one log line, not raw text. */
function routeWarningsToLog(): void {
  let logger: ReturnType<typeof createLogger> | undefined;
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger ??= createLogger();
    logger.warn({ warning: warning.name }, oneLine(warning.message));
  });
}

export async function main(argv: string[]): Promise<number> {
  routeWarningsToLog();
  try {
    await buildCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    process.stderr.write(`${withConfigFlag(formatError(err), explicitConfig(argv))}\n`);
    if (exitCodeOf(err) === ExitCode.internal && err instanceof Error && err.stack) {
      process.stderr.write(`${err.stack}\n`);
    }
    return exitCodeOf(err);
  }
}

/** The --config the user typed, if any (not the default or FAPIAO_GUARD_CONFIG: those need no repeating). */
export function explicitConfig(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * Commands suggested in an error ('fapiao-guard list') carry the user's --config, so that they
 * work when copied. Paths that would need shell quoting are left out.
 */
export function withConfigFlag(line: string, config: string | undefined): string {
  if (!config || !/^[\w./~:@+-]+$/.test(config)) return line;
  return line.replace(/'fapiao-guard ([^']*)'/g, (whole, rest: string) =>
    /--config\b/.test(rest) ? whole : `'fapiao-guard ${rest} --config ${config}'`,
  );
}
