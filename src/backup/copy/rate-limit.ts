// A bandwidth limit for `copy`: one budget of bytes per second shared by every stream of a run,
// so the link to an off-site repository is never asked for more than `repositories[].bandwidthLimit`.
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export class RateLimiter {
  private readonly started = Date.now();
  private granted = 0;

  /** bytesPerSecond: the budget; a burst of one second's worth is allowed at the start */
  constructor(readonly bytesPerSecond: number) {}

  /** Resolves once `bytes` more fit the budget (the average since the start stays at or under it). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.granted += bytes;
    const due = this.started + ((this.granted - this.bytesPerSecond) / this.bytesPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
  }
}

/** Passes bytes through at the limiter's pace; without a limiter, a plain pass-through. */
export class ThrottleStream extends Transform {
  constructor(
    private readonly limiter: RateLimiter | undefined,
    private readonly signal?: AbortSignal,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.limiter) return done(null, chunk);
    // large chunks are split so the pace is smooth and an abort is noticed within a slice
    const slice = Math.max(16 * 1024, Math.floor(this.limiter.bytesPerSecond / 10));
    void (async () => {
      for (let offset = 0; offset < chunk.length; offset += slice) {
        const part = chunk.subarray(offset, offset + slice);
        await this.limiter!.take(part.length, this.signal);
        this.push(part);
      }
    })().then(
      () => done(),
      (err: unknown) => done(err as Error),
    );
  }
}
