// What every command needs, built once from the global flags: config, logger, repository,
// the selected targets and a cancellation signal wired to SIGINT/SIGTERM.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig, configPath } from '../core/config/load-config.js';
import type { Config, RepositoryConfig, TargetConfig } from '../core/config/config.js';
import { InterruptedError, UsageError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { openNamedRepository } from '../core/repository/named-repositories.js';
import { isDay } from '../core/zoned-time.js';
import type { Repository } from '../core/repository/repository.js';

export interface GlobalArgs {
  config?: string;
  target?: string;
  json?: boolean;
  'log-level'?: string;
}

export interface CommandContext {
  config: Config;
  logger: Logger;
  repo: Repository;
  /** the repository `repo` is: --repository NAME, else the primary */
  repository: RepositoryConfig;
  signal: AbortSignal;
  json: boolean;
}

/**
 * One command, declared in one place: the line it shows under "Commands:",
 * its options, examples and epilog (`builder`), and what it does (`handler`, typed from the options).
 */
export interface CommandSpec<A> {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A>) => Promise<void>;
}

export function defineCommand<A>(spec: CommandSpec<A>): CommandModule<GlobalArgs, A> {
  return spec;
}

export function loggerFor(args: GlobalArgs): Logger {
  return createLogger(args['log-level'] ? { level: args['log-level'] } : {});
}

/** `--repository NAME` for the commands that read or tidy one repository (list, verify, restore, drill, prune, init) */
export const REPOSITORY_OPTION = {
  type: 'string',
  describe: 'a repository by name (repository.name or repositories[].name); default: the primary (backups go there)',
} as const;

export async function commandContext(args: GlobalArgs & { repository?: string }): Promise<CommandContext> {
  const logger = loggerFor(args);
  const config = await loadConfig(configPath(args.config, process.env));
  // before anything is written: reports, drill reports, repository files, spools (config.umask)
  process.umask(config.umask);
  const { config: repository, repo } = await openNamedRepository(config, args.repository, logger);
  return { config, logger, repo, repository, signal: interruptSignal(logger), json: Boolean(args.json) };
}

/** A global option this command has no use for is refused, never silently ignored. */
export function refuseOption(args: GlobalArgs, option: 'target' | 'json', command: string, why: string): void {
  if (args[option] === undefined || args[option] === false) return;
  throw new UsageError(`'${command}' does not take --${option}: ${why}`);
}

/** `--identity FILE` for the commands that decrypt (restore, drill) */
export const IDENTITY_OPTION = {
  type: 'string',
  describe: 'identity file (overrides encryption.identityFile)',
} as const;

/** A count flag (--jobs, --limit) is a whole number ≥ 1; the message shows what was given. */
export function requireCount(flag: string, value: number, given: unknown = value): void {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a whole number ≥ 1, got '${given}'`);
}

/** A day flag (--from, --to) is a date like 2026-11-01. */
export function requireDay(flag: string, value: string): void {
  if (!isDay(value)) throw new UsageError(`${flag} '${value}' is not a date like 2026-11-01`);
}

/** Targets named by --target, or all of them. */
export function selectTargets(config: Config, name?: string): TargetConfig[] {
  if (!name) return config.targets;
  const target = config.targets.find((t) => t.name === name);
  if (!target)
    throw new UsageError(`no target '${name}' in the configuration`, {
      hint: `known targets: ${config.targets.map((t) => t.name).join(', ')}`,
    });
  return [target];
}

/** Exactly one target: --target, or the only one configured. */
export function singleTarget(config: Config, name?: string): TargetConfig {
  const targets = selectTargets(config, name);
  if (targets.length !== 1)
    throw new UsageError(`several targets are configured (${targets.map((t) => t.name).join(', ')})`, {
      hint: 'choose one with --target NAME',
    });
  return targets[0]!;
}

let controller: AbortController | undefined;

/**
 * First SIGINT/SIGTERM: abort the running work so it cleans up (kills children, aborts
 * uploads, drops scratch databases) and exits non-zero. Second: exit at once.
 */
export function interruptSignal(logger: Logger): AbortSignal {
  if (controller) return controller.signal;
  const c = new AbortController();
  controller = c;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (c.signal.aborted) {
      logger.warn({ signal: sig }, 'second signal: exiting without cleanup');
      process.exit(130);
    }
    logger.warn({ signal: sig }, 'interrupted: stopping and cleaning up (send again to exit at once)');
    c.abort(new InterruptedError(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return c.signal;
}
