// Edges of validateConfig (src/core/config/config.ts) that config-parse.test.ts does not reach, each
// problem written out with its path: anchored patterns (umask, recipients, URLs), whole numbers,
// required target keys, and the paths of the sections read by readers of their own.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { ConfigError } from '../../src/core/errors.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const TARGET = '  - name: invoices\n    url: postgres://backup@db:5432/invoices\n';
const file = (extra: string, target = TARGET) =>
  `repository: { url: file:///var/lib/fg }\nencryption: { recipients: [${RECIPIENT}] }\ntargets:\n${target}${extra}`;

function problems(text: string): string[] {
  try {
    parseConfig(text, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  return [];
}

describe('validateConfig edges', () => {
  it('the umask pattern is anchored at both ends', () => {
    const hint = 'umask: must be an octal mask such as "077" (files 0600) or "027" (group may read)';
    expect(problems(file('umask: "x077"\n'))).toEqual([hint]);
    expect(problems(file('umask: "07777"\n'))).toEqual([hint]);
  });

  it('a recipient is refused with anything before or after it', () => {
    const list = problems(file('').replace(RECIPIENT, `x${RECIPIENT}, ${RECIPIENT}x`));
    expect(list).toEqual([
      "encryption.recipients[0]: 'xage1ql3z7hj…' is not an age X25519 recipient (age1…); hint: make one with 'fapiao-guard keygen'",
      "encryption.recipients[1]: 'age1ql3z7hjy…' is not an age X25519 recipient (age1…); hint: make one with 'fapiao-guard keygen'",
    ]);
  });

  it('URLs must start with postgres:// (state and target)', () => {
    expect(problems(file('state: { url: "x-postgres://fg@state/fg" }\n'))).toEqual([
      'state.url: must be a postgres:// URL',
    ]);
    expect(problems(file('', '  - name: invoices\n    url: "x-postgres://backup@db/invoices"\n'))).toEqual([
      'targets[0].url: must be a postgres:// URL',
    ]);
  });

  it('a target needs a name and a URL; jobs are whole numbers (restore and target)', () => {
    expect(problems(file('', '  - url: postgres://backup@db/invoices\n'))).toEqual(['targets[0].name: required']);
    expect(problems(file('', '  - name: invoices\n'))).toEqual(['targets[0].url: required']);
    expect(problems(file('restore: { jobs: 1.5 }\n'))).toEqual(['restore.jobs: must be a whole number']);
    expect(problems(file('', `${TARGET}    jobs: 1.5\n`))).toEqual(['targets[0].jobs: must be a whole number']);
    expect(parseConfig(file('', `${TARGET}    jobs: 4\n`), {}).targets[0]!.jobs).toBe(4);
  });

  it('the drill and reports sections are read under their own names', () => {
    expect(problems(file('drill: { bogus: 1 }\n'))[0]).toMatch(/^drill\.bogus: unknown key \(known: /);
    expect(problems(file('reports: { bogus: 1 }\n'))).toEqual(['reports.bogus: unknown key (known: language)']);
    expect(problems(file('reports: { language: fr }\n'))).toEqual(['reports.language: must be one of zh-CN, en']);
    expect(parseConfig(file('reports: { language: en }\n'), {}).reports).toEqual({ language: 'en' });
  });
});

describe('retention per repository', () => {
  it('may name the targets of the file; another name is reported', () => {
    const repo = (targets: string) =>
      file(
        `repositories:\n  - name: offsite\n    url: file:///srv/offsite\n    retention: { targets: { ${targets}: { keepLast: 3 } } }\n`,
      );
    expect(problems(repo('invoices'))).toEqual([]);
    expect(Object.keys(parseConfig(repo('invoices'), {}).repositoryRetention ?? {})).toEqual(['offsite']);
    expect(parseConfig(file(''), {}).repositoryRetention).toBeUndefined();
    expect(problems(repo('ledger'))).toEqual([
      "repositories[0].retention.targets.ledger: no target 'ledger' in targets[]",
    ]);
  });
});
