// The repository sections: `repository` (where backups are written, as before) and `repositories`
// (more places that hold copies: a second bucket, an off-site S3, a local disk). Pure: Readers in,
// settings out. A file with only `repository` reads exactly as it always did.
import { durationOf } from './duration.js';
import { Reader } from './reader.js';
import type { S3Options } from '../storage/s3-storage.js';

/** repository.s3: the S3 backend's options; credentials never come from the config file */
export type S3Config = Omit<S3Options, 'credentials' | 'listPageSize'>;

export interface RepositoryConfig {
  /** names the repository in --repository, messages and status */
  name: string;
  url: string;
  s3: S3Config;
  /** the repository backups are written to (repository, or the first of repositories) */
  primary: boolean;
  /** seconds: status fails when this repository's newest backup is older; absent: drill.rpoObjective */
  rpoObjective?: number;
  /** bytes per second written to this repository by `copy`; absent: unlimited */
  bandwidthLimit?: number;
}

export const DEFAULT_PRIMARY_NAME = 'primary';
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const URL_PATTERN = /^(file|s3):\/\/./;
const NAME_RULE = { pattern: NAME, patternHint: 'must be lowercase letters, digits, - or _' };
const URL_RULE = { required: true, pattern: URL_PATTERN, patternHint: 'must start with file:// or s3://' };

/**
 * Every configured repository, the primary first. `repository` alone is the primary (named
 * `repository.name`, default "primary"); `repositories` adds the others. Without `repository`, the
 * first of `repositories` is the primary.
 */
export function readRepositories(root: Reader): RepositoryConfig[] {
  const out: RepositoryConfig[] = [];
  const hasSingle = root.has('repository');
  if (hasSingle || !root.has('repositories')) {
    const repo = root.object('repository');
    repo.only(['name', 'url', 's3']);
    const name = repo.string('name', { fallback: DEFAULT_PRIMARY_NAME, ...NAME_RULE })!;
    const url = repo.string('url', URL_RULE) ?? '';
    out.push({ name, url, s3: readS3(repo.object('s3')), primary: true });
  }
  for (const r of repositoryEntries(root)) out.push(readOne(r, out.length === 0));
  const seen = new Map<string, number>();
  out.forEach((r, i) => {
    const where = hasSingle ? (i === 0 ? 'repository.name' : `repositories[${i - 1}].name`) : `repositories[${i}].name`;
    if (seen.has(r.name)) root.issues.add(where, `duplicate repository name '${r.name}'`);
    seen.set(r.name, i);
  });
  const urls = new Map<string, string>();
  for (const r of out) {
    const other = urls.get(r.url);
    if (other !== undefined && r.url !== '') {
      root.issues.add('repositories', `'${other}' and '${r.name}' have the same url: a copy there is no second copy`);
    }
    urls.set(r.url, r.name);
  }
  return out;
}

/** `repositories` as a list of {name, url, …}, or as a mapping name → {url, …}. */
export function repositoryEntries(root: Reader): Reader[] {
  if (!root.has('repositories')) return [];
  const value = (root.value as Record<string, unknown>).repositories;
  if (Array.isArray(value)) return root.array('repositories');
  const map = root.object('repositories');
  if (!map.isObject()) return [];
  // a mapping entry reads as if it carried `name: <its key>`
  return Object.keys(map.value as object).map((name) => {
    const entry = map.object(name);
    return new Reader({ name, ...(entry.value as object) }, entry.path, entry.issues);
  });
}

function readOne(r: Reader, primary: boolean): RepositoryConfig {
  r.only(['name', 'url', 's3', 'retention', 'rpoObjective', 'bandwidthLimit']);
  const name = r.string('name', { required: true, ...NAME_RULE }) ?? '';
  const url = r.string('url', URL_RULE) ?? '';
  const out: RepositoryConfig = { name, url, s3: readS3(r.object('s3')), primary };
  // `retention` is read by the backup feature (src/backup/repository-retention.ts)
  if (r.has('rpoObjective')) out.rpoObjective = durationOf(r, 'rpoObjective', '26h');
  if (r.has('bandwidthLimit')) {
    const text = r.string('bandwidthLimit') ?? '';
    const rate = parseRate(text);
    const problem = `'${text}' is not a rate like 20MiB/s, 500KiB/s or 10MB/s`;
    if (rate === undefined) r.issues.add(`${r.path}.bandwidthLimit`, problem);
    else out.bandwidthLimit = rate;
  }
  return out;
}

const RATE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Bytes per second in `20MiB/s`, `500KiB/s`, `10MB/s`, `1048576` (the `/s` is optional). */
export function parseRate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?(?:\s*\/\s*s)?$/i.exec(text.trim());
  if (!m) return undefined;
  const rate = Number(m[1]) * RATE_UNITS[(m[2] ?? 'b').toLowerCase()]!;
  return rate >= 1 ? Math.floor(rate) : undefined;
}

export function readS3(s3: Reader): S3Config {
  s3.only([
    'endpoint',
    'region',
    'forcePathStyle',
    'sse',
    'kmsKeyId',
    'storageClass',
    'objectLock',
    'checksums',
    'partSizeMiB',
    'queueSize',
    'maxAttempts',
  ]);
  const out: S3Config = {};
  const endpoint = s3.string('endpoint');
  if (endpoint) out.endpoint = endpoint;
  const region = s3.string('region');
  if (region) out.region = region;
  if (s3.has('forcePathStyle')) out.forcePathStyle = s3.boolean('forcePathStyle', false);
  if (s3.has('sse')) out.sse = s3.oneOf('sse', ['AES256', 'aws:kms'] as const, 'AES256');
  const kmsKeyId = s3.string('kmsKeyId');
  if (kmsKeyId) out.kmsKeyId = kmsKeyId;
  const storageClass = s3.string('storageClass');
  if (storageClass) out.storageClass = storageClass;
  if (s3.has('objectLock')) {
    const lock = s3.object('objectLock');
    lock.only(['mode', 'days']);
    out.objectLock = {
      mode: lock.oneOf('mode', ['GOVERNANCE', 'COMPLIANCE'] as const, 'GOVERNANCE'),
      days: lock.number('days', { fallback: 30, min: 1, integer: true })!,
    };
  }
  if (s3.has('checksums'))
    out.checksums = s3.oneOf('checksums', ['when_supported', 'when_required'] as const, 'when_supported');
  const part = s3.number('partSizeMiB', { min: 5, max: 5120, integer: true });
  if (part !== undefined) out.partSizeMiB = part;
  const queue = s3.number('queueSize', { min: 1, max: 32, integer: true });
  if (queue !== undefined) out.queueSize = queue;
  const attempts = s3.number('maxAttempts', { min: 1, max: 20, integer: true });
  if (attempts !== undefined) out.maxAttempts = attempts;
  return out;
}
