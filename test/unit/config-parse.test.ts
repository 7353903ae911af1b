// parseConfig / validateConfig (src/core/config/config.ts) as a stranger writes the file: every option
// read back as written, every problem reported with its path, defaults, and the error wording.
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, parseCompression, parseConfig, validateConfig } from '../../src/core/config/config.js';
import { durationOf } from '../../src/core/config/duration.js';
import { Issues, Reader } from '../../src/core/config/reader.js';
import { ConfigError } from '../../src/core/errors.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const MINIMAL = `
repository: { url: file:///var/lib/fg }
encryption: { recipients: [${RECIPIENT}] }
targets:
  - name: invoices
    url: postgres://backup@db:5432/invoices
`;

function caught(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
const problems = (text: string) => [...caught(() => parseConfig(text, {})).issues];

describe('parseConfig: options read back as written', () => {
  it('a minimal file gets the documented defaults and nothing else', () => {
    const config = parseConfig(MINIMAL, {});
    // drill, schedules, daemon, retention and notify have readers (and tests) of their own
    expect(Object.keys(config)).toEqual([
      'timezone',
      'repository',
      'repositories',
      'encryption',
      'targets',
      'backup',
      'restore',
      'drill',
      'schedules',
      'daemon',
      'retention',
      'notify',
      'umask',
      'reports',
    ]);
    expect(config.timezone).toBe('Asia/Shanghai');
    expect(config.repository).toStrictEqual({ url: 'file:///var/lib/fg', s3: {} });
    expect(config.encryption).toStrictEqual({ recipients: [RECIPIENT] });
    expect(config.targets).toStrictEqual([
      {
        name: 'invoices',
        url: 'postgres://backup@db:5432/invoices',
        verifyTables: [],
        globals: false,
        pgDumpArgs: [],
        jobs: 1,
      },
    ]);
    expect(config.backup).toStrictEqual({ compression: { kind: 'zstd', level: 1 } });
    expect(config.restore).toStrictEqual({ jobs: 1 });
    expect(config.umask).toBe(0o077);
  });

  it('every S3, restore, state, signing and target option', () => {
    const text = `
timezone: UTC
umask: "027"
repository:
  url: s3://bucket/prefix
  s3:
    endpoint: http://127.0.0.1:9000
    region: cn-north-1
    forcePathStyle: true
    sse: aws:kms
    kmsKeyId: key-1
    storageClass: STANDARD_IA
    objectLock: { mode: COMPLIANCE, days: 400 }
    checksums: when_required
    partSizeMiB: 64
    queueSize: 8
    maxAttempts: 5
encryption: { recipients: [${RECIPIENT}], identityFile: /etc/fg/key.txt }
targets:
  - name: invoices
    url: postgresql://backup@db/invoices
    verifyTables: [public.invoices, '"Sales"."Q1"']
    globals: true
    pgDumpArgs: [--exclude-table-data=audit_log]
backup: { compression: "pg_dump:9" }
restore: { spoolDir: /var/tmp/fg, jobs: 64 }
state: { url: postgres://fg@state/fg }
signing: { keyFile: /etc/fg/sign.key, publicKeyFile: /etc/fg/sign.pub }
`;
    const config = parseConfig(text, {}, '/etc/fg.yaml');
    expect(config.timezone).toBe('UTC');
    expect(config.umask).toBe(0o027);
    expect(config.repository).toStrictEqual({
      url: 's3://bucket/prefix',
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        region: 'cn-north-1',
        forcePathStyle: true,
        sse: 'aws:kms',
        kmsKeyId: 'key-1',
        storageClass: 'STANDARD_IA',
        objectLock: { mode: 'COMPLIANCE', days: 400 },
        checksums: 'when_required',
        partSizeMiB: 64,
        queueSize: 8,
        maxAttempts: 5,
      },
    });
    expect(config.encryption).toStrictEqual({ recipients: [RECIPIENT], identityFile: '/etc/fg/key.txt' });
    expect(config.targets).toStrictEqual([
      {
        name: 'invoices',
        url: 'postgresql://backup@db/invoices',
        verifyTables: ['public.invoices', '"Sales"."Q1"'],
        globals: true,
        pgDumpArgs: ['--exclude-table-data=audit_log'],
        jobs: 1,
      },
    ]);
    expect(config.backup).toStrictEqual({ compression: { kind: 'pg_dump', level: 9 } });
    expect(config.restore).toStrictEqual({ spoolDir: '/var/tmp/fg', jobs: 64 });
    expect(config.state).toStrictEqual({ url: 'postgres://fg@state/fg' });
    expect(config.signing).toStrictEqual({ keyFile: '/etc/fg/sign.key', publicKeyFile: '/etc/fg/sign.pub' });
    expect(config.source).toBe('/etc/fg.yaml');
  });

  it('S3 defaults where a key is given without its details; one signing key alone', () => {
    const text = `${MINIMAL}repository:
  url: s3://b
  s3: { forcePathStyle: false, sse: AES256, objectLock: {}, checksums: when_supported }
signing: { publicKeyFile: /k.pub }
`.replace('repository: { url: file:///var/lib/fg }\n', '');
    const config = parseConfig(text, {});
    expect(config.repository.s3).toStrictEqual({
      forcePathStyle: false,
      sse: 'AES256',
      objectLock: { mode: 'GOVERNANCE', days: 30 },
      checksums: 'when_supported',
    });
    expect(config.signing).toStrictEqual({ publicKeyFile: '/k.pub' });
    expect(parseConfig(`${MINIMAL}signing: { keyFile: /k }\n`, {}).signing).toStrictEqual({ keyFile: '/k' });
    expect(parseConfig(`${MINIMAL}signing: {}\n`, {}).signing).toBeUndefined();
    expect(parseConfig(`${MINIMAL}umask: "0022"\n`, {}).umask).toBe(0o022);
  });
});

describe('parseConfig: every problem with its path', () => {
  it('S3, restore, state, signing and encryption problems', () => {
    const text = `
repository:
  url: s3://b
  s3: { sse: KMS, objectLock: { mode: LEGAL, days: 0, years: 1 }, checksums: always, partSizeMiB: 4, queueSize: 33, maxAttempts: 21, colour: red }
encryption: { recipients: [], identity: x }
targets: []
restore: { jobs: 65, spool: x }
state: { url: mysql://x, user: y }
signing: { key: x }
backup: { compression: "zstd:20", level: 1 }
umask: "0999"
`;
    expect(problems(text)).toEqual([
      'umask: must be an octal mask such as "077" (files 0600) or "027" (group may read)',
      'repository.s3.colour: unknown key (known: endpoint, region, forcePathStyle, sse, kmsKeyId, storageClass, objectLock, checksums, partSizeMiB, queueSize, maxAttempts)',
      'repository.s3.sse: must be one of AES256, aws:kms',
      'repository.s3.objectLock.years: unknown key (known: mode, days)',
      'repository.s3.objectLock.mode: must be one of GOVERNANCE, COMPLIANCE',
      'repository.s3.objectLock.days: must be at least 1',
      'repository.s3.checksums: must be one of when_supported, when_required',
      'repository.s3.partSizeMiB: must be at least 5',
      'repository.s3.queueSize: must be at most 32',
      'repository.s3.maxAttempts: must be at most 20',
      'encryption.identity: unknown key (known: recipients, identityFile)',
      'encryption.recipients: must not be empty',
      'targets: must not be empty',
      'backup.level: unknown key (known: compression)',
      "backup.compression: 'zstd:20' is not one of zstd[:1-19], pg_dump[:0-9], none",
      'restore.spool: unknown key (known: spoolDir, jobs)',
      'restore.jobs: must be at most 64',
      'state.user: unknown key (known: url)',
      'state.url: must be a postgres:// URL',
      'signing.key: unknown key (known: keyFile, publicKeyFile)',
    ]);
  });

  it('required sections, a recipient that is not X25519, a URL libpq would refuse, table names', () => {
    expect(problems('timezone: UTC\n')).toEqual([
      'repository.url: required',
      'encryption.recipients: required',
      'targets: required',
    ]);
    const text = MINIMAL.replace(RECIPIENT, `${RECIPIENT.slice(0, -1)}q, age1${'b'.repeat(57)}`).replace(
      'url: postgres://backup@db:5432/invoices',
      'url: "postgres://backup@db:99999/invoices"\n    verifyTables: [invoices, "a.b.c.d"]',
    );
    const list = problems(text);
    expect(list[0]).toBe(
      `encryption.recipients[1]: 'age1bbbbbbbb…' is not an age X25519 recipient (age1…); hint: make one with 'fapiao-guard keygen'`,
    );
    expect(list).toHaveLength(3);
    expect(list[1]).toMatch(/^targets\[0\]\.url: /);
    expect(list[2]).toMatch(
      /^targets\[0\]\.verifyTables\[1\]: .* \(write a table as psql's \\dt shows it: schema\.table, "Quoted" where needed\)$/,
    );
  });

  it('the error names the file, lists the problems and points at the example', () => {
    const err = caught(() => parseConfig('targets: 1\n', {}, '/etc/fg.yaml'));
    expect(err.message).toBe(
      "invalid configuration '/etc/fg.yaml': repository.url: required; encryption.recipients: required; targets: must be a list",
    );
    expect(err.hint).toBe('see config/fapiao-guard.example.yaml and the README section "Configuration"');
    expect(caught(() => parseConfig('targets: 1\n', {})).message).toMatch(
      /^invalid configuration: repository\.url: required;/,
    );
  });

  it('a document that is not a mapping, unset variables (each once), and invalid YAML', () => {
    expect(caught(() => validateConfig(['a'], '/etc/fg.yaml')).message).toBe(
      "configuration '/etc/fg.yaml' must be a YAML mapping",
    );
    expect(caught(() => validateConfig('text')).message).toBe('configuration must be a YAML mapping');
    const unset = caught(() => parseConfig('a: ${X}\nb: ${Y}\nc: ${X}\n', {}, 'f.yaml'));
    expect(unset.message).toBe("configuration 'f.yaml' uses unset environment variables: ${X}: not set; ${Y}: not set");
    expect(unset.issues).toEqual(['${X}: not set', '${Y}: not set']);
    expect(unset.hint).toBe('export them, or write ${NAME:-default} in the file');
    expect(caught(() => parseConfig('a: ${X}\n', {})).message).toBe(
      'configuration uses unset environment variables: ${X}: not set',
    );
    const yaml = caught(() => parseConfig('a: [\n', {}));
    expect(yaml.message).toMatch(/^configuration is not valid YAML: [^\n]+$/);
    expect(yaml.issues).toEqual([]);
  });
});

describe('parseCompression', () => {
  it.each([
    ['zstd', { kind: 'zstd', level: 1 }],
    ['zstd:1', { kind: 'zstd', level: 1 }],
    ['zstd:19', { kind: 'zstd', level: 19 }],
    [' zstd:3 ', { kind: 'zstd', level: 3 }],
    ['pg_dump', { kind: 'pg_dump', level: 6 }],
    ['pg_dump:0', { kind: 'pg_dump', level: 0 }],
    ['pg_dump:9', { kind: 'pg_dump', level: 9 }],
    ['none', { kind: 'none', level: 0 }],
  ])('%j is %j', (text, expected) => {
    expect(parseCompression(text)).toEqual(expected);
  });

  it.each(['zstd:0', 'zstd:20', 'pg_dump:10', 'gzip', 'zstd:', 'zstd:x', 'xzstd', 'zstd:1x', 'ZSTD'])(
    '%j is not a compression',
    (text) => {
      expect(parseCompression(text)).toBeUndefined();
    },
  );
});

describe('isValidTimeZone and durationOf', () => {
  it('IANA names are time zones, others are not', () => {
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('durationOf: the value in seconds, or the fallback and a problem with the path', () => {
    const issues = new Issues();
    const root = Reader.root({ a: '15m', bad: 'soon', n: { bad: '5 min' } }, issues);
    expect(durationOf(root, 'a', '1h')).toBe(900);
    expect(durationOf(root, 'missing', '1h')).toBe(3600);
    expect(durationOf(root, 'bad', '2h')).toBe(7200);
    expect(durationOf(root.object('n'), 'bad', '10s')).toBe(10);
    expect(issues.list).toEqual([
      "bad: 'soon' is not a duration like 90s, 15m, 26h",
      "n.bad: '5 min' is not a duration like 90s, 15m, 26h",
    ]);
  });
});
