import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucketRateLimiter } from '../../src/leeloo/rate-limit.js';
import { silentLogger } from '../../src/log.js';
import { createRedis, waitForRedis } from '../../src/redis/connection.js';
import { StreamLocks } from '../../src/redis/lock.js';
import { RedisRateLimiter } from '../../src/redis/rate-limiter.js';
import { cleanupPrefix, REDIS_URL, sleep, testPrefix } from './helpers.js';

const prefix = testPrefix();
const clients: Redis[] = [];
const client = (failFast = false) => {
  const c = createRedis(REDIS_URL, { name: 'test', logger: silentLogger, failFast });
  clients.push(c);
  return c;
};
/** A fail-fast client (as the worker's limiter uses), connected. */
const limiterClient = async () => {
  const c = client(true);
  await waitForRedis(c, 5000);
  return c;
};

/** One stream's lock taken by `owner` through a client of its own, with a `ttlMs` TTL. */
const heldLock = async (ttlMs: number, stream: string, owner: string) => {
  const redis = client();
  const locks = new StreamLocks({ redis, prefix, ttlMs, logger: silentLogger });
  const got = await locks.acquire([stream], owner);
  if (!got.ok) throw new Error('expected the lock');
  return { redis, locks, got };
};
/** The lease's renewal timer stopped, as when its worker dies. */
const stopRenewing = (lease: object) => clearInterval((lease as { timer: NodeJS.Timeout }).timer);

beforeAll(async () => {
  await client().ping();
});
afterAll(async () => {
  await cleanupPrefix(prefix);
  for (const c of clients) c.disconnect();
});

describe('StreamLocks', () => {
  it('takes all streams or none, and says who holds the busy ones', async () => {
    const a = new StreamLocks({ redis: client(), prefix, ttlMs: 5000, logger: silentLogger });
    const b = new StreamLocks({ redis: client(), prefix, ttlMs: 5000, logger: silentLogger });
    const first = await a.acquire(['people', 'chat_messages'], 'job 1 on A');
    expect(first.ok).toBe(true);
    const second = await b.acquire(['tags', 'people'], 'job 2 on B');
    expect(second).toEqual({ ok: false, held: [{ stream: 'people', owner: 'job 1 on A' }] });
    // All or nothing: the free stream was not taken by the refused attempt.
    expect(await b.holders(['tags'])).toEqual([]);
    if (!first.ok) throw new Error('unreachable');
    await first.lease.release();
    const third = await b.acquire(['tags', 'people'], 'job 2 on B');
    expect(third.ok).toBe(true);
    if (third.ok) await third.lease.release();
  });

  it('releases only its own lock, and a dead holder\'s lock expires with its TTL', async () => {
    const { locks, got } = await heldLock(300, 'orders', 'dying worker');
    // Simulate death: stop renewing without releasing.
    stopRenewing(got.lease);
    expect((await locks.acquire(['orders'], 'other')).ok).toBe(false);
    await sleep(450);
    const other = await locks.acquire(['orders'], 'other');
    expect(other.ok).toBe(true);
    // The dead holder's late release must not delete the new owner's lock.
    await got.lease.release();
    expect(await locks.holders(['orders'])).toEqual([{ stream: 'orders', owner: 'other' }]);
    if (other.ok) await other.lease.release();
  });

  it('keeps a lock alive past its TTL by renewing, and reports a takeover as lost', async () => {
    const { redis, locks, got } = await heldLock(400, 'users', 'long run');
    await sleep(1000);
    expect(await locks.holders(['users'])).toEqual([{ stream: 'users', owner: 'long run' }]);
    // From here on renewals are explicit, so the timer cannot report the takeover first.
    stopRenewing(got.lease);
    const lost: string[][] = [];
    got.lease.onLost((s) => lost.push(s));
    await redis.set(locks.key('users'), 'intruder-token someone else', 'PX', 5000);
    expect(await got.lease.renew()).toEqual(['users']);
    expect(lost).toEqual([['users']]);
    expect(got.lease.lost).toEqual(['users']);
    // A vanished key (Redis restarted without persistence) is taken back, not reported lost.
    await redis.del(locks.key('users'));
    expect(await got.lease.renew()).toEqual([]);
    expect(await locks.holders(['users'])).toEqual([{ stream: 'users', owner: 'long run' }]);
    await got.lease.release();
    expect(await locks.holders(['users'])).toEqual([]);
  });
});

/** Most permits granted in any window of `windowMs`. */
function peak(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('RedisRateLimiter', () => {
  const rate = 40;

  async function hammer(limiters: { acquire(): Promise<void> }[], ms: number): Promise<number[]> {
    const times: number[] = [];
    const until = Date.now() + ms;
    // Four callers per "process", as SYNC_CONCURRENCY would make.
    await Promise.all(
      limiters.flatMap((l) =>
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            await l.acquire();
            times.push(Date.now());
          }
        }),
      ),
    );
    return times;
  }

  it('gives several processes one budget together, where separate buckets would each take the full rate', async () => {
    const shared = await Promise.all([0, 1, 2].map(async () => new RedisRateLimiter({ redis: await limiterClient(), prefix: `${prefix}:rl1`, rate, logger: silentLogger })));
    const sharedTimes = await hammer(shared, 1200);
    // 40/s with a burst of 2 in any 1 s window, plus slack for timers that fire late on a busy machine.
    expect(peak(sharedTimes, 1000)).toBeLessThanOrEqual(rate * 1.2);
    expect(sharedTimes.length).toBeGreaterThan(rate); // and it does let requests through

    const separate = [0, 1, 2].map(() => new TokenBucketRateLimiter({ rate }));
    const separateTimes = await hammer(separate, 1200);
    expect(peak(separateTimes, 1000)).toBeGreaterThan(2 * rate);
  });

  it('pauses every process for a 429 Retry-After told to one of them', async () => {
    const p = `${prefix}:rl2`;
    const a = new RedisRateLimiter({ redis: await limiterClient(), prefix: p, rate: 1000, logger: silentLogger });
    const b = new RedisRateLimiter({ redis: await limiterClient(), prefix: p, rate: 1000, logger: silentLogger });
    await b.acquire();
    a.penalize(400);
    await sleep(30); // the pause travels through Redis
    const t0 = Date.now();
    await b.acquire();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('paces the process alone while Redis is unreachable instead of failing requests', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { name: 'dead', logger: silentLogger, failFast: true });
    clients.push(dead);
    const l = new RedisRateLimiter({ redis: dead, prefix, rate: 50, logger: silentLogger });
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) await l.acquire();
    const ms = Date.now() - t0;
    // 12 permits at 50/s with a burst of 2: ~200 ms, paced, not refused.
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(2000);
  });
});
