import { AimdController, type AimdOptions, type LearnedRate, type RateLimitSnapshot } from './aimd.js';

/**
 * Client-side request budget. The API publishes no limit and answers an overrun with a plain-text
 * 429 (docs/leeloo-api.md, "When throttled"), so a sync paces itself instead of provoking a 429
 * storm. The interface is what a shared (e.g. Redis-backed) limiter for several worker processes
 * must implement.
 */
export interface RateLimiter {
  /** Resolves when the caller may send one request; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * The server said "slow down" (429 + Retry-After): hold every caller for `ms`. `sentAgoMs`:
   * how long ago the refused request was sent (auto mode counts what the server saw before it).
   */
  penalize?(ms: number, sentAgoMs?: number): void;
  /** The rate it paces to now and, in auto mode, what it learned (status, metrics, the mirror). */
  snapshot?(): RateLimitSnapshot;
}

export interface TokenBucketOptions {
  /** Requests per second (> 0). */
  rate: number;
  /** Permits that may be taken back to back after an idle spell. @defaultValue 2 */
  burst?: number;
  /**
   * Instead of `burst`: how early (ms) a permit may be released before its slot, whatever the
   * rate. Lets a caller woken late catch up without a whole extra permit per second at low rates.
   */
  toleranceMs?: number;
  /** For tests. */
  now?: () => number;
}

/**
 * A token bucket in its GCRA form: each permit is reserved at a "theoretical arrival time", so
 * concurrent callers are spaced 1/rate apart in the order they asked, with at most `burst`
 * permits back to back. A penalty pushes every not-yet-released permit past its end.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  interval: number;
  private tolerance: number;
  private readonly burst: number;
  private readonly toleranceMs: number | undefined;
  private readonly now: () => number;
  /** Theoretical arrival time of the next permit. */
  private tat = 0;
  private pausedUntil = 0;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a positive number, got ${opts.rate}`);
    this.burst = Math.max(1, Math.floor(opts.burst ?? 2));
    this.toleranceMs = opts.toleranceMs;
    this.interval = 1000 / opts.rate;
    this.tolerance = this.toleranceOf(this.interval);
    this.now = opts.now ?? (() => performance.now());
  }

  get rate(): number {
    return 1000 / this.interval;
  }

  /** Permits already reserved keep their times; the ones after them are spaced at the new rate. */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.interval = 1000 / rate;
    this.tolerance = this.toleranceOf(this.interval);
  }

  private toleranceOf(interval: number): number {
    return this.toleranceMs !== undefined ? Math.min(this.toleranceMs, interval * (this.burst - 1 || 1)) : (this.burst - 1) * interval;
  }

  snapshot(): RateLimitSnapshot {
    return { mode: 'fixed', rate: this.rate, ceiling: null, max: null, learnedAt: null };
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

/** Early release allowed in auto mode (see AutoRateLimiter). */
export const AUTO_TOLERANCE_MS = 5;

/**
 * Warm start (auto mode, both limiters): when demand resumes after a gap (a caller finds nobody
 * queued and 3 slots went unused since this process's last permit) or after a 429's pause, the
 * process paces its next WARM_MS of permits at WARM_SHARE of the rate. Work starting after a gap
 * (the first write jobs after the syncs' reads) runs cold code paths at both ends, and its
 * requests arrive more bunched than steady ones: at 97 % of the limit a second has about one
 * request of slack, and in most bench/writes.ts runs the first second of writes drew a 429
 * (docs/benchmarks.md, "Session 16"). 10 % of one second costs 0.1 s of budget; a 429 costs its
 * pause, 1 s or more. An event-loop stall does not start it: its callers are queued.
 */
export const WARM_MS = 1000;
export const WARM_SHARE = 0.9;
const WARM_IDLE_INTERVALS = 3;

/** One process's warm-start bookkeeping, on the limiter's monotonic clock (ms). */
export class WarmStart {
  private lastPermitAt = -Infinity;
  private until = 0;

  /** A caller asks at `now` for a permit at `interval` ms; `queued`: it waited behind another. */
  onAsk(now: number, interval: number, queued: boolean): void {
    if (!queued && now - this.lastPermitAt >= WARM_IDLE_INTERVALS * interval) this.until = now + WARM_MS;
  }

  /** A pause ends (or ended) at `end`: the permits after it warm up. */
  afterPause(end: number): void {
    this.until = Math.max(this.until, end + WARM_MS);
  }

  onPermit(now: number): void {
    this.lastPermitAt = now;
  }

  /** The share of the rate to pace a permit asked for at `now` at. */
  share(now: number): number {
    return now < this.until ? WARM_SHARE : 1;
  }
}

/**
 * Lets one caller at a time through, in arrival order. In front of a limiter whose rate changes,
 * it keeps at most one permit reserved ahead: a queue of callers holding permits reserved at the
 * old rate would otherwise delay a new rate by the whole queue (16 callers at 5/s: 3 s).
 */
export class SerialGate {
  private busy = false;
  private readonly waiters: (() => void)[] = [];

  /** Resolves true when the caller queued behind another (demand was waiting), false when the gate was free. */
  async enter(signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    if (!this.busy) {
      this.busy = true;
      return false;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      this.waiters.push(go);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return true;
  }

  leave(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy = false;
  }
}

/**
 * LEELOO_RATE_LIMIT=auto in one process: a token bucket whose rate an AimdController sets from
 * the permits it hands out (did callers queue for them?) and the 429s the caller reports, less
 * the warm start's share after a gap or a pause (WarmStart).
 */
export class AutoRateLimiter implements RateLimiter {
  readonly controller: AimdController;
  private readonly bucket: TokenBucketRateLimiter;
  private readonly gate = new SerialGate();
  private readonly clock: () => number;
  private readonly warm = new WarmStart();

  constructor(opts: AimdOptions & { burst?: number; clock?: () => number }) {
    // This process is the only one spending the budget: count its own permits.
    this.controller = new AimdController({ ...opts, countsAll: true });
    this.clock = opts.clock ?? (() => performance.now());
    // Not a whole burst: paced at 97 % of a 20/s limit, one extra permit puts 21 into a second.
    // A few ms of tolerance let a caller woken late (a loaded event loop) keep the pace at 400/s.
    this.bucket = new TokenBucketRateLimiter({ rate: this.controller.state.rate, burst: opts.burst ?? 3, toleranceMs: AUTO_TOLERANCE_MS, now: this.clock });
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    const asked = this.clock();
    const queued = await this.gate.enter(signal);
    try {
      this.warm.onAsk(this.clock(), 1000 / this.controller.state.rate, queued);
      this.pace();
      await this.bucket.acquire(signal);
      this.warm.onPermit(this.clock());
    } finally {
      this.gate.leave();
    }
    const next = this.controller.onPermit(this.clock() - asked);
    if (next) this.apply(next);
  }

  penalize(ms: number, sentAgoMs = 0): void {
    this.bucket.penalize(ms);
    if (ms > 0) this.warm.afterPause(this.clock() + ms);
    const next = this.controller.on429(ms, sentAgoMs);
    if (next) this.apply(next);
    // A caller already in the bucket reserves again after the pause: at the warm pace.
    else this.pace();
  }

  snapshot(): RateLimitSnapshot {
    return this.controller.snapshot();
  }

  learned(): LearnedRate {
    return this.controller.learned();
  }

  private apply(next: AimdController['state']): void {
    this.controller.adopt(next);
    this.pace();
  }

  /** The bucket paces to the controller's rate, less the warm start's share while it lasts. */
  private pace(): void {
    this.bucket.setRate(this.controller.state.rate * this.warm.share(this.clock()));
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
