// The one place a repository URL becomes a Storage: backend, then logging, then retry on top
// (restic stacks its backend wrappers the same way in one factory).
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { FileStorage } from './file-storage.js';
import { LoggingStorage } from './logging-storage.js';
import { maskUrl } from './mask-url.js';
import { RetryStorage, type RetryPolicy } from './retry-storage.js';
import type { S3Options } from './s3-storage.js';
import type { Storage } from './storage.js';

export interface OpenStorageOptions {
  s3?: S3Options;
  logger?: Logger;
  /** retry policy for idempotent calls; tests shorten it */
  retry?: Partial<RetryPolicy>;
}

/** The S3 client (~250 ms to load) is only loaded for s3:// repositories. */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
  const { logger } = options;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  let storage: Storage;
  if (scheme === 'file') storage = new FileStorage(url);
  else if (scheme === 's3') storage = new (await import('./s3-storage.js')).S3Storage(url, options.s3, logger);
  else {
    const hint = url.startsWith('/') ? `use file://${url}` : 'use file:///absolute/path or s3://bucket/prefix';
    throw new ConfigError(`unsupported repository url '${maskUrl(url)}'`, [], { hint });
  }
  if (logger) storage = new LoggingStorage(storage, logger);
  return new RetryStorage(storage, options.retry, logger);
}
