import { describe, expect, it } from 'vitest';
import { BoundedRetryStrategy, MIB, partSizeFor } from '../../src/core/storage/s3-tuning.js';

describe('partSizeFor', () => {
  it('uses the floor for anything 10,000 floor-sized parts cover twice', () => {
    expect(partSizeFor(0)).toBe(8 * MIB);
    expect(partSizeFor(30 * 1024 * MIB)).toBe(8 * MIB);
    expect(partSizeFor(100, 5 * MIB)).toBe(5 * MIB);
  });

  it('grows the part so 10,000 parts cover twice the hint, in whole MiB', () => {
    const hint = 200 * 1024 * MIB; // 200 GiB
    const part = partSizeFor(hint);
    expect(part).toBe(41 * MIB);
    expect(part * 10_000).toBeGreaterThanOrEqual(2 * hint);
  });

  it('assumes a stream of up to 1 TiB without a hint', () => {
    expect(partSizeFor(undefined)).toBe(105 * MIB);
    expect(partSizeFor(undefined) * 10_000).toBeGreaterThanOrEqual(1024 * 1024 * MIB);
  });

  it('never goes below the S3 minimum or above the maximum part size', () => {
    expect(partSizeFor(10, 1)).toBe(5 * MIB);
    expect(partSizeFor(1e15)).toBe(5 * 1024 * MIB);
  });
});

describe('BoundedRetryStrategy', () => {
  it('retries transient and throttling errors until the attempts are spent', async () => {
    const strategy = new BoundedRetryStrategy(3, 1, 4);
    let token = await strategy.acquireInitialRetryToken();
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' });
    expect(token.getRetryCount()).toBe(1);
    expect(token.getRetryDelay()).toBeLessThanOrEqual(4);
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow();
  });

  it('does not retry client errors', async () => {
    const strategy = new BoundedRetryStrategy(5);
    const token = await strategy.acquireInitialRetryToken();
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow();
  });

  it('honours Retry-After up to the cap', async () => {
    const strategy = new BoundedRetryStrategy(5, 1, 1000);
    const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), {
      errorType: 'THROTTLING',
      retryAfterHint: new Date(Date.now() + 60_000),
    });
    expect(token.getRetryDelay()).toBe(1000);
  });
});
