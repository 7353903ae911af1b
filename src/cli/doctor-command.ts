// `doctor`: the preflight an operator runs after editing the config (src/doctor/doctor.ts).
import type { Argv } from 'yargs';
import { CheckFailedError, OperationError } from '../core/errors.js';
import { doctorExitCode, renderDoctor } from '../doctor/doctor-checks.js';
import { runDoctor } from '../doctor/doctor.js';
import { type GlobalArgs, commandContext, defineCommand, selectTargets } from './context.js';
import { printJson } from './output.js';

export function registerDoctorCommand(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(doctorCommand);
}

const doctorCommand = defineCommand({
  command: 'doctor',
  describe: 'check the configuration against the live systems: one line per check, with the fix',
  builder: (y) =>
    y
      .option('send-test', {
        type: 'boolean',
        default: false,
        describe: 'send a test message through every notifier',
      })
      .example('$0 doctor', 'after editing the config, before trusting the schedule')
      .example('$0 doctor --target invoices --json', 'one target, as JSON')
      .epilog(
        'Checks each target (connection, snapshot, read rights, pg_dump version, verifyTables), reconcile (tables, columns and types, the upstream file or API), the repository (initialised, a test object written and removed), the identity file, the state database and the notifiers.\n' +
          'Exit codes: 0 all good · 1 a check failed · 2 configuration error · 3 a check could not run.',
      ),
  handler: async (args) => {
    const ctx = await commandContext(args);
    const checks = await runDoctor(ctx.config, ctx.repo, {
      targets: selectTargets(ctx.config, args.target),
      sendTest: args['send-test'],
      signal: ctx.signal,
    });
    if (ctx.json) printJson(checks);
    else process.stdout.write(renderDoctor(checks));
    const code = doctorExitCode(checks);
    const bad = checks.filter((c) => c.status !== 'ok');
    const first = bad[0];
    const what = first ? `${first.section}: ${first.check}: ${first.detail}` : '';
    if (code === 1)
      throw new CheckFailedError(
        `doctor: ${checks.filter((c) => c.status === 'failed').length} of ${checks.length} checks failed, first: ${what}`,
        first?.fix ? { hint: first.fix } : {},
      );
    if (code === 3)
      throw new OperationError(`doctor: ${bad.length} of ${checks.length} checks could not run, first: ${what}`);
  },
});
