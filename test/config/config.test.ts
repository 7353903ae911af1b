// Configuration: ${ENV} interpolation, defaults, and every problem reported with its path.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseCompression, parseConfig } from '../../src/core/config/config.js';
import { formatSeconds, parseDuration } from '../../src/core/config/duration.js';
import { interpolateEnv } from '../../src/core/config/interpolate.js';
import { ConfigError } from '../../src/core/errors.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const MINIMAL = `
repository: { url: file:///var/lib/fg }
encryption: { recipients: [${RECIPIENT}] }
targets:
  - name: invoices
    url: postgres://backup@db:5432/invoices
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('config', () => {
  it('fills defaults for a minimal file', () => {
    const config = parseConfig(MINIMAL, {});
    expect(config.timezone).toBe('Asia/Shanghai');
    expect(config.backup.compression).toEqual({ kind: 'zstd', level: 1 });
    expect(config.restore).toEqual({ jobs: 1 });
    expect(config.targets[0]).toEqual({
      name: 'invoices',
      url: 'postgres://backup@db:5432/invoices',
      verifyTables: [],
      globals: false,
      pgDumpArgs: [],
      jobs: 1,
    });
  });

  it('interpolates ${NAME} and ${NAME:-default}, and lists unset variables without defaults', () => {
    const text = MINIMAL.replace(
      'postgres://backup@db:5432/invoices',
      'postgres://backup:${PGPW}@${DBHOST:-db}:5432/invoices',
    );
    expect(parseConfig(text, { PGPW: 'pw' }).targets[0]!.url).toBe('postgres://backup:pw@db:5432/invoices');
    expect(problems(text)).toEqual(['${PGPW}: not set']);
    expect(() => parseConfig(text, {})).toThrow('configuration uses unset environment variables: ${PGPW}: not set');
    expect(interpolateEnv('cost $$5 ${A}', { A: 'x' }).text).toBe('cost $5 x');
  });

  it('interpolates values only: a ${NAME} in a comment is left alone, in a quoted or block value it is expanded', () => {
    const text = `${MINIMAL}timezone: Asia/Shanghai  # \${NOT_SET_A}
# notify: [{ url: "https://x/?t=\${NOT_SET_B}" }]
state: { url: "postgres://s@\${DBHOST:-db}/state#x" }   # \${NOT_SET_C}
`;
    expect(problems(text)).toEqual([]);
    expect(parseConfig(text, { DBHOST: 'h' }).state?.url).toBe('postgres://s@h/state#x');
    expect(interpolateEnv('a: |\n  # ${A}\n# ${A}\n', { A: 'x' }).text).toBe('a: |\n  # x\n# ${A}\n');
  });

  it('loads the shipped example configuration as it is, with its one required variable set', async () => {
    const text = await readFile(new URL('../../config/fapiao-guard.example.yaml', import.meta.url), 'utf8');
    expect(problems(text)).toEqual(['${FAPIAO_GUARD_RECIPIENT}: not set']);
    const config = parseConfig(text, { FAPIAO_GUARD_RECIPIENT: RECIPIENT }, 'config/fapiao-guard.example.yaml');
    expect(config.encryption.recipients).toEqual([RECIPIENT]);
    expect(config.targets.map((t) => t.name)).toEqual(['invoices']);
  });

  it('reports every problem with its path at once', () => {
    const text = `
timezone: Mars/Olympus
repository: { url: ftp://x }
encryption: { recipients: [age1nope] }
targets:
  - { name: Invoices, url: mysql://x, verifyTables: ['public."发票 附件"', 'public.发票 附件'] }
  - { name: b, url: postgres://h/b, colour: red }
  - { name: b, url: postgres://h/c }
backup: { compression: gzip }
restore: { jobs: 0 }
extra: 1
`;
    expect(problems(text)).toEqual([
      'extra: unknown key (known: timezone, repository, repositories, encryption, targets, backup, restore, state, drill, reconcile, schedules, daemon, notify, retention, umask, signing, reports)',
      "timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai)",
      'repository.url: must start with file:// or s3://',
      "encryption.recipients[0]: 'age1nope…' is not an age X25519 recipient (age1…); hint: make one with 'fapiao-guard keygen'",
      'targets[0].name: must be lowercase letters, digits, - or _ (it names folders)',
      'targets[0].url: must be a postgres:// URL',
      `targets[0].verifyTables[1]: 'public.发票 附件': a name with a space must be quoted, e.g. public."发票 附件" (write a table as psql's \\dt shows it: schema.table, "Quoted" where needed)`,
      'targets[1].colour: unknown key (known: name, url, verifyTables, globals, pgDumpArgs, jobs)',
      "targets[2].name: duplicate target name 'b'",
      "backup.compression: 'gzip' is not one of zstd[:1-19], pg_dump[:0-9], none",
      'restore.jobs: must be at least 1',
    ]);
  });

  it('says where invalid YAML is', () => {
    expect(() => parseConfig('targets: [\n', {}, '/etc/fg.yaml')).toThrow(
      /^configuration '\/etc\/fg\.yaml' is not valid YAML: /,
    );
  });

  it('parses compression choices and durations', () => {
    expect(parseCompression('zstd:19')).toEqual({ kind: 'zstd', level: 19 });
    expect(parseCompression('pg_dump')).toEqual({ kind: 'pg_dump', level: 6 });
    expect(parseCompression('none')).toEqual({ kind: 'none', level: 0 });
    expect(parseCompression('zstd:0')).toBeUndefined();
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('26h')).toBe(93600);
    expect(parseDuration('15 minutes')).toBeUndefined();
    expect(formatSeconds(5400)).toBe('1h30m');
    expect(formatSeconds(0.25)).toBe('250ms');
  });
});
