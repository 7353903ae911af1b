// Numbers for S3 transfers: part size and the SDK retry strategy.
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

export const MIB = 1024 * 1024;
/** S3 allows at most 10,000 parts per multipart upload, each 5 MiB … 5 GiB (the last may be smaller). */
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MIB;
const MAX_PART = 5 * 1024 * MIB;
/** our default floor: fewer requests than 5 MiB parts, still covers 78 GiB without a hint */
export const DEFAULT_PART = 8 * MIB;
/** what we assume a stream may grow to when the caller gives no size hint */
const ASSUMED_MAX_OBJECT = 1024 * 1024 * MIB;

/**
 * Part size so that 10,000 parts cover the object. A size hint is usually an estimate (the database
 * size before compression, plus age overhead), so parts cover twice the hint. Without a hint we
 * assume up to 1 TiB, which means ~105 MiB parts: memory is queueSize × part size at worst, but a
 * small stream only buffers what it has, so small objects cost nothing extra. Callers that know
 * roughly how big a stream is (pg_database_size) should pass it. The configured size is a floor.
 */
export function partSizeFor(sizeHint: number | undefined, floorBytes = DEFAULT_PART): number {
  const cover = sizeHint === undefined ? ASSUMED_MAX_OBJECT : Math.max(0, sizeHint) * 2;
  const needed = Math.ceil(cover / MAX_PARTS / MIB) * MIB;
  return Math.min(MAX_PART, Math.max(MIN_PART, floorBytes, needed));
}

const RETRYABLE = new Set<RetryErrorInfo['errorType']>(['TRANSIENT', 'THROTTLING']);

/**
 * At most `maxAttempts` tries per request, full-jitter exponential backoff (base 200 ms, cap 10 s),
 * honouring Retry-After up to the cap. Unlike the SDK's standard strategy there is no shared retry
 * quota: a long daemon run should not lose its retries because of an earlier outage.
 */
export class BoundedRetryStrategy implements RetryStrategyV2 {
  constructor(
    readonly maxAttempts: number,
    private readonly baseMs = 200,
    private readonly capMs = 10_000,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retry = previous.getRetryCount() + 1;
    if (retry >= this.maxAttempts || !RETRYABLE.has(info.errorType)) {
      throw info.error ?? new Error('not retryable');
    }
    let delay = Math.random() * Math.min(this.capMs, this.baseMs * 2 ** (retry - 1));
    if (info.retryAfterHint) delay = Math.max(delay, Math.min(this.capMs, info.retryAfterHint.getTime() - Date.now()));
    return token(retry, Math.round(delay));
  }

  recordSuccess(): void {}
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
