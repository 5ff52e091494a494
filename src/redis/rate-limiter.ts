import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import { sleep, TokenBucketRateLimiter, type RateLimiter } from '../leeloo/rate-limit.js';
import type { Logger } from '../log.js';

/*
 * One API budget for every worker process that shares the Redis, so adding workers never adds
 * requests per second. The same GCRA as the in-process TokenBucketRateLimiter, with its state
 * ("theoretical arrival time" of the next permit) in Redis and the clock taken from Redis's TIME,
 * so machines with skewed clocks still agree. A 429 sets a shared pause key: every process waits
 * out the Retry-After, not only the one that was told.
 */

// KEYS[1] tat, KEYS[2] pause-until. ARGV[1] interval ms, ARGV[2] tolerance ms.
// Returns {kind, ms} as strings (Lua numbers would be truncated to integers):
//   kind 0: a permit is reserved, send after `ms`; kind 1: paused, ask again after `ms`.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {'1', tostring(paused - now)} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local newTat = start + interval
redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.ceil(newTat - now + tolerance) + 1000)
return {'0', tostring(start - tolerance - now)}
`;

// KEYS[1] tat, KEYS[2] pause-until. ARGV[1] pause ms, ARGV[2] tolerance ms.
// Pushes the pause end and the next permit past it, so the restart is paced, not a burst.
const PENALIZE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local untilMs = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if untilMs > paused then
  redis.call('SET', KEYS[2], tostring(untilMs), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local newTat = math.max(tat, untilMs + tonumber(ARGV[2]))
redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.ceil(newTat - now) + 1000)
return 1
`;

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
  /** Permits back to back after an idle spell. Default 2, as the in-process limiter. */
  burst?: number;
  logger: Logger;
}

export class RedisRateLimiter implements RateLimiter {
  readonly interval: number;
  private readonly tolerance: number;
  private readonly keys: [string, string];
  private readonly fallback: TokenBucketRateLimiter;
  private readonly log: Logger;
  /** Pauses this process already knows about, so it need not ask Redis while one lasts. */
  private pausedUntil = 0;
  private degraded = false;

  constructor(private readonly opts: RedisRateLimiterOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a positive number, got ${opts.rate}`);
    const burst = Math.max(1, Math.floor(opts.burst ?? 2));
    this.interval = 1000 / opts.rate;
    this.tolerance = (burst - 1) * this.interval;
    this.keys = [`${opts.prefix}:{ratelimit}:api:tat`, `${opts.prefix}:{ratelimit}:api:pause`];
    this.fallback = new TokenBucketRateLimiter({ rate: opts.rate, burst });
    this.log = opts.logger.child({ component: 'rate-limiter' });
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const local = this.pausedUntil - Date.now();
      if (local > 0) {
        await sleep(local, signal);
        continue;
      }
      let kind: number;
      let ms: number;
      // Release times are anchored to when we asked, not when Redis's answer got back: how long
      // the answer takes varies from call to call, and that variance would bunch permits up.
      const asked = performance.now();
      try {
        const [k, m] = (await this.opts.redis.eval(RESERVE, 2, ...this.keys, this.interval, this.tolerance)) as [string, string];
        kind = Number(k);
        ms = Number(m);
        if (this.degraded) {
          this.degraded = false;
          this.log.info('shared rate limit restored');
        }
      } catch (err) {
        if (!this.degraded) {
          this.degraded = true;
          this.log.warn({ err: errorMessage(err), rate: this.opts.rate }, 'Redis unavailable for the shared rate limit; pacing this process alone until it is back');
        }
        return this.fallback.acquire(signal);
      }
      if (kind === 1) {
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
        continue;
      }
      const wait = asked + ms - performance.now();
      if (wait > 0) await sleep(wait, signal);
      return;
    }
  }

  penalize(ms: number): void {
    if (!(ms > 0)) return;
    // This process stops at once; the others learn it from Redis on their next permit.
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.fallback.penalize(ms);
    this.opts.redis.eval(PENALIZE, 2, ...this.keys, ms, this.tolerance).catch((err: unknown) => {
      this.log.debug({ err: errorMessage(err) }, 'could not share a 429 pause through Redis');
    });
  }
}
