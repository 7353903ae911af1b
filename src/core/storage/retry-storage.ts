// Retries idempotent storage calls (stat, list, remove, opening a load) on errors that might pass,
// with bounded exponential backoff. save is not retried here: its body is consumed.
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import type { StorageWrapper } from './incomplete-uploads.js';
import type { LoadOptions, ObjectInfo, SaveOptions, Storage } from './storage.js';
import { isPermanent } from './storage-errors.js';

export interface RetryPolicy {
  /** tries per call including the first */
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 500, capMs: 15_000 };

export class RetryStorage implements StorageWrapper {
  private readonly policy: RetryPolicy;

  constructor(
    readonly inner: Storage,
    policy: Partial<RetryPolicy> = {},
    private readonly logger?: Logger,
  ) {
    this.policy = { ...DEFAULT_RETRY, ...policy };
  }

  get location(): string {
    return this.inner.location;
  }

  save(name: string, body: Readable, options?: SaveOptions): Promise<ObjectInfo> {
    return this.inner.save(name, body, options);
  }

  load(name: string, options: LoadOptions = {}): Promise<Readable> {
    return this.retry('load', name, () => this.inner.load(name, options), options.signal);
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.retry('stat', name, () => this.inner.stat(name));
  }

  remove(name: string): Promise<void> {
    return this.retry('remove', name, () => this.inner.remove(name));
  }

  /**
   * A listing that fails midway restarts and skips what was already yielded. It remembers names
   * rather than trusting the order, which some S3 look-alikes get wrong.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const seen = new Set<string>();
    for (let failures = 0; ;) {
      try {
        for await (const info of this.inner.list(prefix)) {
          if (seen.has(info.name)) continue;
          seen.add(info.name);
          failures = 0;
          yield info;
        }
        return;
      } catch (err) {
        failures += 1;
        await this.backoff('list', prefix, err, failures);
      }
    }
  }

  private async retry<T>(op: string, name: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (err) {
        if (signal?.aborted) throw err;
        await this.backoff(op, name, err, attempt, signal);
      }
    }
  }

  /** Throws `err` when it is permanent or the attempts are spent; otherwise waits. */
  private async backoff(op: string, name: string, err: unknown, attempt: number, signal?: AbortSignal): Promise<void> {
    if (isPermanent(err) || attempt >= this.policy.attempts) throw err;
    const delay = Math.round(Math.random() * Math.min(this.policy.capMs, this.policy.baseMs * 2 ** (attempt - 1)));
    this.logger?.warn({ op, name, attempt, delayMs: delay, err: messageOf(err) }, 'storage call failed, retrying');
    await sleep(delay, undefined, signal ? { signal } : {});
  }
}
