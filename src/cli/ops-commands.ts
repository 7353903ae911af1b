// daemon, run, jobs, prune and status: running fapiao-guard unattended and asking how it is doing.
// One file per command; this is their order under "Commands:".
import type { Argv } from 'yargs';
import type { GlobalArgs } from './context.js';
import { daemonCommand } from './daemon-command.js';
import { jobsCommand } from './jobs-command.js';
import { pruneCommand } from './prune-command.js';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';

export function registerOpsCommands(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli
    .command(daemonCommand)
    .command(runCommand)
    .command(jobsCommand)
    .command(pruneCommand)
    .command(statusCommand);
}
