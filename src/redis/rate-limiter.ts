import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import { AimdController, parseAimdState, type AimdState, type LearnedRate, type RateLimitSnapshot } from '../leeloo/aimd.js';
import { AUTO_TOLERANCE_MS, SerialGate, sleep, TokenBucketRateLimiter, WarmStart, type RateLimiter } from '../leeloo/rate-limit.js';
import type { Logger } from '../log.js';
import { INIT, PENALIZE, RESERVE, SENT, UPDATE } from './rate-limiter-lua.js';

/*
 * One API budget for every worker process that shares the Redis, so adding workers never adds
 * requests per second. The same GCRA as the in-process TokenBucketRateLimiter, with its state
 * ("theoretical arrival time" of the next permit) in Redis and the clock taken from Redis's TIME,
 * so machines with skewed clocks still agree. A 429 sets a shared pause key: every process waits
 * out the Retry-After, not only the one that was told.
 *
 * LEELOO_RATE_LIMIT=auto: the rate itself is a Redis key that RESERVE reads, so every process
 * paces to the same learned rate; the AIMD state beside it is changed by compare-and-set, so a
 * 429 seen by one worker lowers the rate of all, and a limiter-bound worker raises it for all,
 * at most once per interval whatever the number of workers.
 */

/** How far back a late ask may take a missed slot (RESERVE, auto mode; at most 3 intervals). */
const CATCH_UP_MS = 100;

/** The learned rate outlives quiet weeks, not forever (the API's limit may change meanwhile). */
const STATE_TTL_MS = 30 * 24 * 3600 * 1000;

export interface RedisRateLimiterOptions {
  /**
   * A client whose commands fail fast while Redis is down (createRedis with failFast), so a
   * Redis outage degrades to local pacing instead of stalling every request.
   */
  redis: Redis;
  /** REDIS_PREFIX. */
  prefix: string;
  /** Requests per second for all processes together (LEELOO_RATE_LIMIT: set it the same everywhere). */
  rate: number;
  /**
   * LEELOO_RATE_LIMIT=auto: learn the rate (shared with every worker through Redis); `rate` is
   * then only used until the shared state is read. `learned` seeds it when Redis has none.
   */
  auto?: { maxRate: number; learned?: LearnedRate | null };
  /** Permits back to back after an idle spell. Default 2, as the in-process limiter. */
  burst?: number;
  logger: Logger;
}

export class RedisRateLimiter implements RateLimiter {
  interval: number;
  private tolerance: number;
  private readonly burst: number;
  private readonly keys: [string, string];
  private readonly autoKeys: [string, string];
  private readonly countKey: string;
  /** A 429's back-off is being computed (it asks Redis what was sent): later ones are the same event. */
  private decreasing = false;
  /** auto mode: this process's view of the shared AIMD state. */
  readonly controller: AimdController | undefined;
  /** The shared state's JSON as last read (the compare of compare-and-set). */
  private sharedJson: string | undefined;
  private init: Promise<void> | undefined;
  private updating = false;
  /** auto mode: one reservation ahead per process, so a new shared rate applies at once. */
  private readonly gate = new SerialGate();
  private readonly fallback: TokenBucketRateLimiter;
  private readonly log: Logger;
  /** Pauses this process already knows about, so it need not ask Redis while one lasts. */
  private pausedUntil = 0;
  private degraded = false;
  /** auto mode: this process's warm start after a gap or a pause (src/leeloo/rate-limit.ts). */
  private readonly warm = new WarmStart();

  constructor(private readonly opts: RedisRateLimiterOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a positive number, got ${opts.rate}`);
    const burst = Math.max(1, Math.floor(opts.burst ?? 2));
    this.burst = burst;
    this.controller = opts.auto ? new AimdController({ maxRate: opts.auto.maxRate, learned: opts.auto.learned }) : undefined;
    const rate = this.controller ? this.controller.state.rate : opts.rate;
    this.interval = 1000 / rate;
    this.tolerance = (burst - 1) * this.interval;
    this.keys = [`${opts.prefix}:{ratelimit}:api:tat`, `${opts.prefix}:{ratelimit}:api:pause`];
    this.autoKeys = [`${opts.prefix}:{ratelimit}:api:aimd`, `${opts.prefix}:{ratelimit}:api:rate`];
    this.countKey = `${opts.prefix}:{ratelimit}:api:sent`;
    this.fallback = this.controller ? new TokenBucketRateLimiter({ rate, burst: 3, toleranceMs: AUTO_TOLERANCE_MS }) : new TokenBucketRateLimiter({ rate, burst });
    this.log = opts.logger.child({ component: 'rate-limiter' });
  }

  get rate(): number {
    return 1000 / this.interval;
  }

  /** Fixed mode: the rate this process asks Redis to pace to (auto mode sets it from the shared state). */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.interval = 1000 / rate;
    this.tolerance = (this.burst - 1) * this.interval;
    this.fallback.setRate(rate);
  }

  snapshot(): RateLimitSnapshot {
    return this.controller?.snapshot() ?? this.fallback.snapshot();
  }

  learned(): LearnedRate | undefined {
    return this.controller?.learned();
  }

  /** auto mode: seed or read the shared state once; a Redis outage leaves this process learning alone. */
  private ensureShared(): Promise<void> {
    return (this.init ??= (async () => {
      const c = this.controller!;
      const json = JSON.stringify(c.state);
      const cur = (await this.opts.redis.eval(INIT, 2, ...this.autoKeys, json, String(c.state.rate), STATE_TTL_MS)) as string;
      this.adoptShared(cur);
    })().catch((err: unknown) => {
      this.init = undefined;
      throw err;
    }));
  }

  private adoptShared(json: string): void {
    let parsed: AimdState | null = null;
    try {
      parsed = parseAimdState(JSON.parse(json));
    } catch {
      parsed = null;
    }
    this.sharedJson = json;
    if (!parsed) return; // another version's state: the next change overwrites it
    this.apply(parsed);
  }

  private apply(s: AimdState): void {
    this.controller!.adopt(s);
    this.interval = 1000 / s.rate;
    this.tolerance = (this.burst - 1) * this.interval;
    this.fallback.setRate(s.rate);
  }

  /**
   * Offers a change computed from this process's view to the shared state. `redo` recomputes it
   * on the current state when another process changed it first (a 429 must not be lost).
   */
  private share(next: AimdState, redo?: () => AimdState | null): void {
    this.apply(next);
    if (this.sharedJson === undefined || (this.updating && !redo)) return;
    this.updating = true;
    const json = JSON.stringify(next);
    const attempt = async (from: string, body: string, s: AimdState, again: boolean): Promise<void> => {
      const [ok, cur] = (await this.opts.redis.eval(UPDATE, 2, ...this.autoKeys, from, body, String(s.rate), STATE_TTL_MS)) as [string, string];
      this.adoptShared(cur);
      if (ok === '1' || !again || !redo) return;
      const retry = redo();
      if (retry) {
        this.apply(retry);
        await attempt(cur, JSON.stringify(retry), retry, false);
      }
    };
    attempt(this.sharedJson, json, next, true)
      .catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'could not share the learned rate through Redis'))
      .finally(() => {
        this.updating = false;
      });
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (!this.controller) return this.reserve(signal);
    const asked = performance.now();
    const queued = await this.gate.enter(signal);
    try {
      await this.reserve(signal, queued);
    } finally {
      this.gate.leave();
    }
    const up = this.controller.onPermit(performance.now() - asked);
    if (up) this.share(up);
  }

  /**
   * `queued`: the caller queued behind another, so a slot gone by meanwhile was missed by a late
   * ask (a stalled event loop), not left unused: RESERVE may give it back. Not for the first ask
   * after an idle spell or after a pause: nobody was owed those slots, and handing them out at
   * once is a burst (the first writes after the syncs' reads went out 6 in 38 ms at 48.5/s, and
   * their echo a second later met the server's window still holding them: docs/benchmarks.md,
   * "Session 16").
   */
  private async reserve(signal?: AbortSignal, queued = false): Promise<void> {
    let catchUp = queued;
    if (this.controller) this.warm.onAsk(performance.now(), this.interval, queued);
    if (this.controller && this.sharedJson === undefined) {
      try {
        await this.ensureShared();
      } catch {
        // Redis is down: RESERVE below fails too and falls back to local pacing, learning alone.
      }
    }
    for (;;) {
      signal?.throwIfAborted();
      const local = this.pausedUntil - Date.now();
      if (local > 0) {
        await sleep(local, signal);
        catchUp = false;
        this.warm.afterPause(performance.now());
        continue;
      }
      let kind: number;
      let ms: number;
      let sharedRate: string;
      // Release times are anchored to when we asked, not when Redis's answer got back: how long
      // the answer takes varies from call to call, and that variance would bunch permits up.
      const asked = performance.now();
      const share = this.warm.share(asked);
      try {
        const [k, m, r] = (this.controller
          ? await this.opts.redis.eval(RESERVE, 4, ...this.keys, this.autoKeys[1], this.countKey, this.interval, this.tolerance, AUTO_TOLERANCE_MS, catchUp ? CATCH_UP_MS : 0, share)
          : await this.opts.redis.eval(RESERVE, 2, ...this.keys, this.interval, this.tolerance)) as [string, string, string];
        kind = Number(k);
        ms = Number(m);
        sharedRate = r;
        if (this.degraded) {
          this.degraded = false;
          this.log.info('shared rate limit restored');
        }
      } catch (err) {
        if (!this.degraded) {
          this.degraded = true;
          this.log.warn({ err: errorMessage(err), rate: this.rate }, 'Redis unavailable for the shared rate limit; pacing this process alone until it is back');
        }
        return this.fallback.acquire(signal);
      }
      if (this.controller) this.followShared(sharedRate);
      if (kind === 1) {
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
        catchUp = false;
        continue;
      }
      const wait = asked + ms - performance.now();
      if (wait > 0) await sleep(wait, signal);
      // A 429 came while we waited for the slot: it predates the pause, and nothing may be sent
      // during it (docs/leeloo-api.md, "When throttled"). Reserve again after it, as the others do.
      if (this.pausedUntil > Date.now()) {
        catchUp = false;
        continue;
      }
      this.warm.onPermit(performance.now());
      return;
    }
  }

  /**
   * auto mode: lowers the shared rate for a 429, counting what all processes sent in the second
   * before the refused request (this process alone cannot know: it sees only its own permits).
   */
  private backOff(ms: number, sentAgoMs: number): void {
    const c = this.controller!;
    // After a back-off, only the rest of its burst may still refine it (AIMD.graceMs).
    if (this.decreasing || (c.state.holdUntil > Date.now() && Date.now() - c.state.changedAt > 250)) return;
    this.decreasing = true;
    const lower = (sent: number | undefined) => {
      const down = sent === undefined ? c.on429(ms, sentAgoMs) : c.on429Counted(ms, sent, sentAgoMs);
      if (down) this.share(down, () => (sent === undefined ? c.on429(ms, sentAgoMs) : c.on429Counted(ms, sent, sentAgoMs)));
    };
    (this.sharedJson === undefined ? Promise.reject(new Error('no shared state')) : this.opts.redis.eval(SENT, 1, this.countKey, Math.max(0, sentAgoMs)))
      .then(
        (n) => lower(Number(n) > 0 ? Number(n) : undefined),
        () => lower(undefined),
      )
      .finally(() => {
        this.decreasing = false;
      });
  }

  /** Another process changed the shared rate: read the state it wrote (once at a time). */
  private followShared(rate: string): void {
    if (this.updating) return;
    if (rate === '') {
      // Flushed or expired: the next permit seeds it again from this process's view.
      this.sharedJson = undefined;
      this.init = undefined;
      return;
    }
    if (Number(rate) === this.controller!.state.rate) return;
    this.updating = true;
    this.opts.redis
      .get(this.autoKeys[0])
      .then((json) => {
        if (json) this.adoptShared(json);
      })
      .catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'could not read the shared learned rate'))
      .finally(() => {
        this.updating = false;
      });
  }

  penalize(ms: number, sentAgoMs = 0): void {
    if (!(ms > 0)) return;
    // This process stops at once; the others learn it from Redis on their next permit.
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.fallback.penalize(ms);
    if (this.controller) this.backOff(ms, sentAgoMs);
    this.opts.redis.eval(PENALIZE, 2, ...this.keys, ms, this.tolerance).catch((err: unknown) => {
      this.log.debug({ err: errorMessage(err) }, 'could not share a 429 pause through Redis');
    });
  }
}

/** The worker's shared limiter as configured: LEELOO_RATE_LIMIT fixed, or `auto` seeded with what the mirror learned. */
export function sharedRateLimiter(
  env: { LEELOO_RATE_LIMIT: number | 'auto'; LEELOO_RATE_LIMIT_MAX: number; REDIS_PREFIX: string },
  redis: Redis,
  logger: Logger,
  learned?: LearnedRate | null,
): RedisRateLimiter {
  const fixed = env.LEELOO_RATE_LIMIT;
  return new RedisRateLimiter({
    redis,
    prefix: env.REDIS_PREFIX,
    rate: fixed === 'auto' ? env.LEELOO_RATE_LIMIT_MAX : fixed,
    auto: fixed === 'auto' ? { maxRate: env.LEELOO_RATE_LIMIT_MAX, learned } : undefined,
    logger,
  });
}
