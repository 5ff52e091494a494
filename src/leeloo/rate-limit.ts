/**
 * Client-side request budget. The API publishes no limit and answers an overrun with a plain-text
 * 429 (docs/leeloo-api.md, "When throttled"), so a sync paces itself instead of provoking a 429
 * storm. The interface is what a shared (e.g. Redis-backed) limiter for several worker processes
 * must implement.
 */
export interface RateLimiter {
  /** Resolves when the caller may send one request; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** The server said "slow down" (429 + Retry-After): hold every caller for `ms`. */
  penalize?(ms: number): void;
}

export interface TokenBucketOptions {
  /** Requests per second (> 0). */
  rate: number;
  /** Permits that may be taken back to back after an idle spell. @defaultValue 2 */
  burst?: number;
  /** For tests. */
  now?: () => number;
}

/**
 * A token bucket in its GCRA form: each permit is reserved at a "theoretical arrival time", so
 * concurrent callers are spaced 1/rate apart in the order they asked, with at most `burst`
 * permits back to back. A penalty pushes every not-yet-released permit past its end.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly interval: number;
  private readonly tolerance: number;
  private readonly now: () => number;
  /** Theoretical arrival time of the next permit. */
  private tat = 0;
  private pausedUntil = 0;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a positive number, got ${opts.rate}`);
    const burst = Math.max(1, Math.floor(opts.burst ?? 2));
    this.interval = 1000 / opts.rate;
    this.tolerance = (burst - 1) * this.interval;
    this.now = opts.now ?? (() => performance.now());
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      let now = this.now();
      if (this.pausedUntil > now) {
        await sleep(this.pausedUntil - now, signal);
        continue;
      }
      const start = Math.max(this.tat, now);
      const wait = Math.max(0, start - this.tolerance - now);
      this.tat = start + this.interval;
      if (wait <= 0) return;
      try {
        await sleep(wait, signal);
      } catch (err) {
        // Give the slot back if nobody reserved after it, so an aborted caller costs nothing.
        if (this.tat === start + this.interval) this.tat = start;
        throw err;
      }
      now = this.now();
      // A 429 arrived while we waited: our slot predates the penalty, reserve a new one after it.
      if (this.pausedUntil > now) continue;
      return;
    }
  }

  penalize(ms: number): void {
    if (!(ms > 0)) return;
    const until = this.now() + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    // Restart smoothly after the pause: no burst of everything that queued up meanwhile.
    this.tat = Math.max(this.tat, until + this.tolerance);
  }
}

/** A limiter that never waits (rate limiting disabled). */
export const unlimited: RateLimiter = {
  acquire: async (signal) => signal?.throwIfAborted(),
};

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
