import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import { AimdController, parseAimdState, type AimdState, type LearnedRate, type RateLimitSnapshot } from '../leeloo/aimd.js';
import { AUTO_TOLERANCE_MS, SerialGate, sleep, TokenBucketRateLimiter, type RateLimiter } from '../leeloo/rate-limit.js';
import type { Logger } from '../log.js';

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

// KEYS[1] tat, KEYS[2] pause-until, KEYS[3] (auto mode) the shared rate, KEYS[4] (auto mode) the
// permit counts. ARGV[1] interval ms, ARGV[2] tolerance ms, ARGV[3] (auto mode) the tolerance in ms
// (as AutoRateLimiter's), ARGV[4] (auto mode) the catch-up ms.
// Returns {kind, ms, rate} as strings (Lua numbers would be truncated to integers):
//   kind 0: a permit is reserved, send after `ms`; kind 1: paused, ask again after `ms`.
//
// Catch-up (auto mode): plain GCRA gives a slot away when its permit is asked for after it. Under
// load that is often (a timer woken 40-60 ms late, a Redis round trip behind a busy event loop):
// measured in bench/writes.ts, 40-50 such slots per 1,000 writes lost 1.7-2.5 s of a 23 s run, a
// tenth of the budget. So a late ask may take a slot up to the catch-up ms in the past. What makes
// that safe for every process together is the window check on every permit: the permits released
// in the second (and 10 ms) before this one's release stay within what plain GCRA allows in a
// second, 1 + (1000 + tolerance) / interval. Releases are monotone (a catch-up only happens when
// no permit is reserved ahead), so checking the window that ends at each release bounds them all.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local rate = ''
if KEYS[3] then
  rate = redis.call('GET', KEYS[3]) or ''
  local r = tonumber(rate)
  if r and r > 0 then
    interval = 1000 / r
    tolerance = math.min(tonumber(ARGV[3]), 2 * interval)
  end
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {'1', tostring(paused - now), rate} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local release = math.max(now, start - tolerance)
if KEYS[4] then
  local cap = math.floor(1 + (1000 + tolerance) / interval)
  local function window(at)
    local n = 0
    local first = math.floor((at - 1000) / 10)
    local oldest = nil
    for slot = first, math.floor(at / 10) do
      local c = tonumber(redis.call('HGET', KEYS[4], slot) or '0')
      if c > 0 and not oldest then oldest = slot end
      n = n + c
    end
    return n, oldest
  end
  local catchUp = math.min(tonumber(ARGV[4]), 3 * interval)
  if tat < now - tolerance and catchUp > 0 then
    start = math.max(tat, now - catchUp)
    release = now
  end
  for _ = 1, 8 do
    local n, oldest = window(release)
    if n + 1 <= cap or not oldest then break end
    -- Full: wait for the oldest permit counted to leave the window, and pace the next from there.
    release = (oldest + 1) * 10 + 1000
    start = math.max(start, release + tolerance)
  end
  -- Permits per 10 ms of release time: the window above, and what every process sent before a 429.
  local slot = math.floor(release / 10)
  redis.call('HINCRBY', KEYS[4], slot, 1)
  redis.call('HDEL', KEYS[4], slot - 300)
  redis.call('PEXPIRE', KEYS[4], 5000)
end
local newTat = start + interval
redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.ceil(newTat - now + tolerance) + 1000)
return {'0', tostring(release - now), rate}
`;

// KEYS[1] the permit counts of RESERVE. ARGV[1] how long ago the refused request was sent (ms).
// Returns the permits released by all processes in the second before it, as a string.
const SENT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local last = math.floor((now - tonumber(ARGV[1])) / 10) - 1
local n = 0
for slot = last - 99, last do n = n + tonumber(redis.call('HGET', KEYS[1], slot) or '0') end
return tostring(n)
`;

// KEYS[1] AIMD state (JSON), KEYS[2] rate. ARGV[1] initial JSON, ARGV[2] its rate, ARGV[3] ttl ms.
// The first process to arrive seeds the shared state; later ones (and restarts) adopt it.
const INIT = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return ARGV[1]
`;

// KEYS as INIT. ARGV[1] the JSON the change was computed from, ARGV[2] new JSON, ARGV[3] its
// rate, ARGV[4] ttl ms. Returns {1, new} when applied, {0, current} when another process changed
// it first (or it vanished: then it is written, a Redis flush must not stop learning).
const UPDATE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return {'0', cur} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return {'1', ARGV[2]}
`;

/** How far back a late ask may take a missed slot (RESERVE, auto mode; at most 3 intervals). */
const CATCH_UP_MS = 100;

/** The learned rate outlives quiet weeks, not forever (the API's limit may change meanwhile). */
const STATE_TTL_MS = 30 * 24 * 3600 * 1000;

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
    await this.gate.enter(signal);
    try {
      await this.reserve(signal);
    } finally {
      this.gate.leave();
    }
    const up = this.controller.onPermit(performance.now() - asked);
    if (up) this.share(up);
  }

  private async reserve(signal?: AbortSignal): Promise<void> {
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
        continue;
      }
      let kind: number;
      let ms: number;
      let sharedRate: string;
      // Release times are anchored to when we asked, not when Redis's answer got back: how long
      // the answer takes varies from call to call, and that variance would bunch permits up.
      const asked = performance.now();
      try {
        const [k, m, r] = (this.controller
          ? await this.opts.redis.eval(RESERVE, 4, ...this.keys, this.autoKeys[1], this.countKey, this.interval, this.tolerance, AUTO_TOLERANCE_MS, CATCH_UP_MS)
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
        continue;
      }
      const wait = asked + ms - performance.now();
      if (wait > 0) await sleep(wait, signal);
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
