// Named repositories in the configuration (read as a stranger writes them), the copy plan, the
// bandwidth limiter and the per-repository RPO problems: pure parts, no servers.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { parseRate } from '../../src/core/config/repository-config.js';
import { repositoryProblems } from '../../src/daemon/status/repository-rpo.js';
import { planCopy } from '../../src/backup/copy/copy-plan.js';
import { RateLimiter, ThrottleStream } from '../../src/backup/copy/rate-limit.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import { repositoryConfig } from '../../src/core/repository/named-repositories.js';
import { retentionIn } from '../../src/backup/prune-repositories.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const REST = `encryption: { recipients: [${RECIPIENT}] }
targets:
  - { name: invoices, url: postgres://backup@db:5432/invoices }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, {});
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('named repositories in the configuration', () => {
  it('a file with only `repository` reads as before: one repository, the primary', () => {
    const config = parseConfig(`repository: { url: file:///var/lib/fg }\n${REST}`, {});
    expect(config.repository).toEqual({ url: 'file:///var/lib/fg', s3: {} });
    expect(config.repositories).toEqual([{ name: 'primary', url: 'file:///var/lib/fg', s3: {}, primary: true }]);
    expect(repositoryConfig(config).name).toBe('primary');
  });

  it('`repository` plus a list of `repositories`: the primary first, each with its own retention, RPO and bandwidth', () => {
    const config = parseConfig(
      `repository: { name: local, url: file:///var/lib/fg }
repositories:
  - name: offsite
    url: s3://fg-offsite/invoices
    s3: { region: cn-north-1 }
    retention: { keepLast: 30, monthly: 24 }
    rpoObjective: 50h
    bandwidthLimit: 20MiB/s
retention: { keepLast: 7 }
${REST}`,
      {},
    );
    expect(config.repositories.map((r) => [r.name, r.primary])).toEqual([
      ['local', true],
      ['offsite', false],
    ]);
    const offsite = repositoryConfig(config, 'offsite');
    expect(offsite).toMatchObject({
      url: 's3://fg-offsite/invoices',
      s3: { region: 'cn-north-1' },
      rpoObjective: 50 * 3600,
      bandwidthLimit: 20 * 1024 * 1024,
    });
    expect(retentionIn(config, offsite, 'invoices')).toMatchObject({ keepLast: 30, monthly: 24 });
    // a repository without its own retention follows the top-level one
    expect(retentionIn(config, repositoryConfig(config, 'local'), 'invoices')).toMatchObject({
      keepLast: 7,
      monthly: 0,
    });
    expect(() => repositoryConfig(config, 'ofsite')).toThrow(UsageError);
    expect(() => repositoryConfig(config, 'ofsite')).toThrow("no repository 'ofsite' in the configuration");
  });

  it('only `repositories`, written as a mapping: the first is the primary and `repository` follows it', () => {
    const config = parseConfig(
      `repositories:
  nas: { url: file:///mnt/nas/fg }
  oss: { url: s3://bucket-b/fg, s3: { endpoint: https://oss-cn-hangzhou.aliyuncs.com } }
${REST}`,
      {},
    );
    expect(config.repositories.map((r) => r.name)).toEqual(['nas', 'oss']);
    expect(config.repository.url).toBe('file:///mnt/nas/fg');
    expect(config.repositories[1]!.s3.endpoint).toBe('https://oss-cn-hangzhou.aliyuncs.com');
  });

  it('reports every repository problem with its path', () => {
    expect(
      problems(`repository: { url: file:///var/lib/fg }
repositories:
  - { name: primary, url: s3://b/p }
  - { name: Off Site, url: ftp://x, bandwidthLimit: fast, colour: red }
  - { name: again, url: file:///var/lib/fg, retention: { targets: { nope: { keepLast: 1 } } } }
${REST}`),
    ).toEqual([
      'repositories[1].colour: unknown key (known: name, url, s3, retention, rpoObjective, bandwidthLimit)',
      'repositories[1].name: must be lowercase letters, digits, - or _',
      'repositories[1].url: must start with file:// or s3://',
      "repositories[1].bandwidthLimit: 'fast' is not a rate like 20MiB/s, 500KiB/s or 10MB/s",
      "repositories[0].name: duplicate repository name 'primary'",
      "repositories: 'primary' and 'again' have the same url: a copy there is no second copy",
      "repositories[2].retention.targets.nope: no target 'nope' in targets[]",
    ]);
  });

  it('reads rates as people write them', () => {
    expect(parseRate('20MiB/s')).toBe(20 * 1024 * 1024);
    expect(parseRate('500 KiB/s')).toBe(500 * 1024);
    expect(parseRate('10MB')).toBe(10_000_000);
    expect(parseRate('1048576')).toBe(1048576);
    expect(parseRate('0')).toBeUndefined();
    expect(parseRate('fast')).toBeUndefined();
    expect(parseRate('10 Mbit/s')).toBeUndefined();
  });
});

describe('copy plan', () => {
  const c = (id: string) => ({ id, status: 'complete' as const });
  it('copies complete backups newer than the newest complete copy, oldest first; resumes an incomplete one', () => {
    const plan = planCopy(
      [c('b3'), c('b1'), c('b2'), { id: 'b4', status: 'incomplete' }],
      [c('b1'), { id: 'b2', status: 'incomplete' }],
    );
    expect(plan).toEqual([
      { id: 'b1', action: 'present' },
      { id: 'b2', action: 'copy', resume: true },
      { id: 'b3', action: 'copy' },
    ]);
  });
  it('does not bring back what the destination pruned, unless asked for all or for that one', () => {
    const source = [c('b1'), c('b2'), c('b3')];
    const destination = [c('b3')];
    expect(planCopy(source, destination).map((p) => p.action)).toEqual(['older', 'older', 'present']);
    expect(planCopy(source, destination, { all: true }).map((p) => p.action)).toEqual(['copy', 'copy', 'present']);
    expect(planCopy(source, destination, { only: 'b2' })).toEqual([{ id: 'b2', action: 'copy' }]);
    expect(planCopy(source, [])).toHaveLength(3);
  });
});

describe('bandwidth limit', () => {
  it('holds a stream to the rate: 3 MiB at 1 MiB/s take at least 2 s (one second of burst)', async () => {
    const limiter = new RateLimiter(1024 * 1024);
    const started = Date.now();
    let bytes = 0;
    await pipeline(
      Readable.from(Array.from({ length: 48 }, () => Buffer.alloc(64 * 1024))),
      new ThrottleStream(limiter),
      new Writable({ write: (chunk: Buffer, _e, cb) => ((bytes += chunk.length), cb()) }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(bytes).toBe(3 * 1024 * 1024);
    expect(seconds).toBeGreaterThanOrEqual(1.9);
    expect(seconds).toBeLessThan(10);
  });
  it('an abort stops a throttled stream at once', async () => {
    const controller = new AbortController();
    const running = pipeline(
      Readable.from([Buffer.alloc(4 * 1024 * 1024)]),
      new ThrottleStream(new RateLimiter(64 * 1024), controller.signal),
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    setTimeout(() => controller.abort(new Error('stop')), 200);
    const started = Date.now();
    await expect(running).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('repository RPO', () => {
  const base = { name: 'offsite', location: 's3://b/p', primary: false, rpoObjectiveSeconds: 26 * 3600 };
  it('a repository behind its own RPO, without a backup of a target, or unreadable is a problem', () => {
    expect(
      repositoryProblems({
        ...base,
        targets: [{ target: 'invoices', newest: { id: 'x', finishedAt: '', ageSeconds: 3600 } }],
      }),
    ).toEqual([]);
    expect(
      repositoryProblems({
        ...base,
        targets: [{ target: 'invoices', newest: { id: 'x', finishedAt: '', ageSeconds: 30 * 3600 } }],
      }),
    ).toEqual(["newest backup of 'invoices' in repository 'offsite' is 1d6h old, over its RPO objective 1d2h"]);
    expect(repositoryProblems({ ...base, targets: [{ target: 'invoices', newest: null }] })).toEqual([
      "no complete backup of 'invoices' in repository 'offsite'",
    ]);
    expect(repositoryProblems({ ...base, targets: [], error: 'access denied' })).toEqual([
      "repository 'offsite' could not be read: access denied",
    ]);
  });
});
