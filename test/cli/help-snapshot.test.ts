// Every command's --help, as the built CLI prints it, against committed files: a change to the
// help text (or a command appearing or disappearing) shows up as a diff in review, and moving code
// between modules is proven not to change what users see. Needs `npm run build` first.
// After an intended help change: `npx vitest run test/cli/help-snapshot.test.ts -u`.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// deterministic output: no colour, a fixed width and locale (yargs picks its language from these)
const ENV = {
  COLUMNS: '100',
  LINES: '40',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  LC_ALL: 'en_US.UTF-8',
  LANG: 'en_US.UTF-8',
  LANGUAGE: '',
};

async function help(command: string[]): Promise<string> {
  const result = await runCli([...command, '--help'], { env: ENV, timeoutMs: 300_000 });
  expect(result.code, `${command.join(' ')} --help: ${result.stderr}`).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

/** The commands a help text lists under "Commands:", as argument vectors ('findings ack' → ['findings', 'ack']). */
function listedCommands(text: string): string[][] {
  const section = text.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('  fapiao-guard '))
    .map((line) =>
      line
        .trim()
        .split(/ {2,}/)[0]!
        .split(' ')
        .slice(1)
        .filter((word) => !/^[<[]/.test(word)),
    );
}

/** fn over items, at most `limit` at a time (each is a CLI start: a busy 2-core machine is slow). */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Breadth-first over the command tree; each level's helps in parallel (one CLI start each). */
async function walk(): Promise<Map<string, string>> {
  const helps = new Map<string, string>();
  let level: string[][] = [[]];
  while (level.length > 0) {
    const texts = await mapLimited(level, 3, help);
    const next: string[][] = [];
    level.forEach((command, i) => {
      helps.set(command.join(' '), texts[i]!);
      // the top level lists the groups; a group's help lists its own subcommands
      for (const child of listedCommands(texts[i]!)) {
        if (child.length > command.length && !helps.has(child.join(' '))) next.push(child);
      }
    });
    level = next;
  }
  return helps;
}

describe('--help of every command', () => {
  // 22 CLI starts: minutes when the machine is busy (a limit against hangs, not a timing assertion)
  it('matches the committed snapshots', { timeout: 900_000 }, async () => {
    const helps = await walk();
    const names = [...helps.keys()];
    expect(names.length).toBeGreaterThan(15);
    await expect(names.map((n) => n || '(top level)').join('\n') + '\n').toMatchFileSnapshot(
      '__snapshots__/help/commands.txt',
    );
    for (const [name, text] of helps) {
      await expect(text).toMatchFileSnapshot(
        `__snapshots__/help/${name ? name.replaceAll(' ', '-') : 'top-level'}.txt`,
      );
    }
  });
});
