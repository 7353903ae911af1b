// copy: a second copy of the backups in another repository (3-2-1), resumable, checked both sides.
import type { Argv } from 'yargs';
import { parseRate } from '../core/config/repository-config.js';
import { type CopyResult, copyTarget, openCopyRoute } from '../backup/copy/copy.js';
import { UsageError, isFgError } from '../core/errors.js';
import { formatBytes } from '../core/progress.js';
import { type GlobalArgs, commandContext, defineCommand, selectTargets } from './context.js';
import { printJson, printTable } from './output.js';

const EPILOG = [
  'Copies complete backups only, oldest first: by default those newer than the newest complete backup the destination',
  ' already has (a backup its retention pruned is not copied back); --all copies every one it lacks; --backup one.\n',
  'Per backup: each object the manifest lists is read from the source with its sha256 checked against the manifest,',
  ' written to the destination, read back there and checked again; then manifest.json.sig and manifest.json, byte for',
  ' byte and last. A copy that fails or is interrupted leaves no manifest in the destination (the backup shows as',
  ' incomplete there); run copy again and it resumes, skipping the objects already complete. A damaged source object',
  ' stops the copy, naming it.\n',
  'Exit codes: 0 copied (or nothing new) · 1 a source object or manifest is damaged or fails its signature',
  ' · 2 usage or configuration · 3 a repository could not be read or written, or interrupted (run again to resume).',
].join('');

export function registerCopyCommand(cli: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return cli.command(copyCommand);
}

const copyCommand = defineCommand({
  command: 'copy',
  describe:
    'copy complete backups to another repository (repositories[]): objects first, manifest last, checked both sides',
  builder: (y) =>
    y
      .option('from', { type: 'string', describe: 'source repository by name (default: the primary)' })
      .option('to', {
        type: 'string',
        array: true,
        describe: 'destination repository by name; repeatable (default: every other repository)',
      })
      .option('all', {
        type: 'boolean',
        default: false,
        describe: 'copy every complete backup the destination lacks, also older ones',
      })
      .option('backup', { type: 'string', describe: 'only this backup: an id (or unique prefix), or latest' })
      .option('bandwidth-limit', {
        type: 'string',
        describe: 'at most this rate to and from the destination, e.g. 20MiB/s (default: its bandwidthLimit)',
      })
      .example('$0 copy', 'new backups of every target from the primary to every other repository')
      .example('$0 copy --to offsite --target invoices --bandwidth-limit 10MiB/s', 'one target and place, throttled')
      .example('$0 copy --from offsite --to primary --backup latest', 'bring a backup back into a rebuilt primary')
      .epilog(EPILOG),
  handler: async (args) => {
    const limit = args['bandwidth-limit'];
    const rate = limit === undefined ? undefined : parseRate(limit);
    if (limit !== undefined && rate === undefined) {
      throw new UsageError(`--bandwidth-limit '${limit}' is not a rate like 20MiB/s, 500KiB/s or 10MB/s`);
    }
    if (args.all && args.backup !== undefined) throw new UsageError('--all and --backup exclude each other');
    const ctx = await commandContext(args);
    const targets = selectTargets(ctx.config, args.target);
    const route = await openCopyRoute(ctx.config, args.from, args.to ?? [], ctx.logger);
    const results: CopyResult[] = [];
    const failures: Array<{ what: string; error: unknown }> = [];
    // one destination or target failing must not cost the others their copy: try all, report all
    for (const to of route.to) {
      for (const target of targets) {
        if (ctx.signal.aborted) break;
        try {
          results.push(
            await copyTarget(ctx.config, route.from, to, target.name, {
              logger: ctx.logger,
              signal: ctx.signal,
              all: args.all,
              ...(args.backup !== undefined ? { backup: args.backup } : {}),
              ...(rate !== undefined ? { bandwidthLimit: rate } : {}),
            }),
          );
        } catch (error) {
          failures.push({ what: `'${target.name}' to '${to.config.name}'`, error });
        }
      }
    }
    if (ctx.json) printJson(results);
    else printResults(results);
    const first = failures[0]?.error;
    if (first !== undefined && failures.length > 1 && isFgError(first)) {
      const which = failures.map((f) => f.what).join(', ');
      first.hint = `${failures.length} copies failed (${which})${first.hint ? `; ${first.hint}` : ''}`;
    }
    if (first !== undefined) throw first;
  },
});

function printResults(results: readonly CopyResult[]): void {
  const rows = results.flatMap((r) =>
    r.copied.length === 0
      ? [[r.target, r.from, r.to, '(nothing new)', '', '', '']]
      : r.copied.map((c) => {
          const objects = `${c.copied} copied, ${c.present} already there`;
          return [r.target, r.from, r.to, c.id, objects, formatBytes(c.bytes), c.seconds.toFixed(1)];
        }),
  );
  printTable(['target', 'from', 'to', 'backup', 'objects', 'moved', 'seconds'], rows);
}
