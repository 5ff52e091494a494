import { afterEach, describe, expect, it, vi } from 'vitest';
import { AutoRateLimiter, TokenBucketRateLimiter, WARM_MS, WARM_SHARE, WarmStart } from '../../src/leeloo/rate-limit.js';

describe('TokenBucketRateLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spaces permits evenly after a small burst', async () => {
    vi.useFakeTimers({ now: 0 });
    const rl = new TokenBucketRateLimiter({ rate: 10, burst: 2, now: () => Date.now() });
    const at: number[] = [];
    const all = Array.from({ length: 10 }, () => rl.acquire().then(() => at.push(Date.now())));
    await vi.runAllTimersAsync();
    await Promise.all(all);
    expect(at).toEqual([0, 0, 100, 200, 300, 400, 500, 600, 700, 800]);
  });

  it('refills while idle, but never beyond the burst', async () => {
    vi.useFakeTimers({ now: 0 });
    const rl = new TokenBucketRateLimiter({ rate: 10, burst: 3, now: () => Date.now() });
    await rl.acquire();
    await vi.advanceTimersByTimeAsync(10_000);
    const at: number[] = [];
    const all = Array.from({ length: 5 }, () => rl.acquire().then(() => at.push(Date.now() - 10_000)));
    await vi.runAllTimersAsync();
    await Promise.all(all);
    expect(at).toEqual([0, 0, 0, 100, 200]);
  });

  it('penalize holds every caller, including those already waiting, then restarts smoothly', async () => {
    vi.useFakeTimers({ now: 0 });
    const rl = new TokenBucketRateLimiter({ rate: 10, burst: 1, now: () => Date.now() });
    await rl.acquire(); // t=0
    const at: number[] = [];
    const waiting = Array.from({ length: 3 }, () => rl.acquire().then(() => at.push(Date.now())));
    await vi.advanceTimersByTimeAsync(50);
    rl.penalize(1000); // until t=1050
    await vi.runAllTimersAsync();
    await Promise.all(waiting);
    expect(at.every((t) => t >= 1050)).toBe(true);
    // spaced after the pause, not released all at once
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(100);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(100);
  });

  it('an aborted acquire rejects with the reason and gives its slot back', async () => {
    vi.useFakeTimers({ now: 0 });
    const rl = new TokenBucketRateLimiter({ rate: 10, burst: 1, now: () => Date.now() });
    await rl.acquire();
    const ac = new AbortController();
    const p = rl.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    const t0 = Date.now();
    const next = rl.acquire().then(() => Date.now() - t0);
    await vi.runAllTimersAsync();
    expect(await next).toBe(100);
  });

  it('holds the rate in real time', async () => {
    const rl = new TokenBucketRateLimiter({ rate: 50, burst: 1 });
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => rl.acquire()));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBucketRateLimiter({ rate: 0 })).toThrow(RangeError);
  });
});

describe('AutoRateLimiter warm start', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // 40/s learned restarts at 36/s, which is also the max: no raise or probe moves the rate.
  const limiter = () => new AutoRateLimiter({ maxRate: 36, learned: { rate: 40, ceiling: 40, learnedAt: null }, now: () => Date.now(), clock: () => Date.now() });

  /** Six callers asking back to back from now until `ms` later; the release times, from now. */
  async function demand(l: AutoRateLimiter, ms: number): Promise<number[]> {
    const t0 = Date.now();
    const at: number[] = [];
    const callers = Array.from({ length: 6 }, async () => {
      while (Date.now() - t0 < ms) {
        await l.acquire();
        at.push(Date.now() - t0);
      }
    });
    // The callers queued at the end still get their permits, after `ms`.
    await vi.runAllTimersAsync();
    await Promise.all(callers);
    return at;
  }
  const within = (at: number[], from: number, to: number) => at.filter((t) => t >= from && t < to).length;

  it('after an idle gap it paces its first second at 90 % of the rate, then the whole rate', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const l = limiter();
    expect(l.snapshot().rate).toBe(36);
    await l.acquire();
    await vi.advanceTimersByTimeAsync(1100);
    const at = await demand(l, 1900);
    // 0.9 × 36 = 32.4/s: one every 30.9 ms, 33 in the first second (at 36/s: 37).
    expect(within(at, 0, 1000)).toBe(33);
    // Then the whole rate: callers queued all along, so no new warm-up (28 or 29 in 0.8 s; warm, 25 or 26).
    expect(within(at, 1100, 1900)).toBeGreaterThanOrEqual(28);
    expect(l.snapshot().rate).toBe(36);
  });

  it('after a 429 pause the first second is warm too', async () => {
    // Epoch ms, as the controller's clock is: its "no jitter 429 yet" is 0, 30 s before no real now.
    vi.useFakeTimers({ now: 1_000_000 });
    // 40/s learned: from 36/s the queued callers raise it to its cap, 97 % of 40 = 38.8/s.
    const l = new AutoRateLimiter({ maxRate: 100, learned: { rate: 40, ceiling: 40, learnedAt: null }, now: () => Date.now(), clock: () => Date.now() });
    // At that pace a lone 429 pauses everyone for 500 ms. Jitter at the cap: the ceiling narrows
    // 2 % and the pace resumes at 97 % of it, 38.02/s, where it stays (the next probe is 30 s off).
    setTimeout(() => l.penalize(500), 2500);
    const at = await demand(l, 4000);
    expect(l.snapshot().ceiling).toBeCloseTo(39.2, 6);
    expect(l.snapshot().rate).toBeCloseTo(38.024, 6);
    expect(within(at, 2500, 3000)).toBe(0);
    // The second before it at 38.8/s: 39; the second after the pause at 90 % of 38.02/s (34.2/s):
    // 35, where straight back at the pace it would be 39.
    expect(within(at, 1500, 2500)).toBe(39);
    expect(within(at, 3000, 4000)).toBe(35);
  });

  it('WarmStart (shared with the Redis limiter): a gap of 3 unused slots, not a stall of queued callers', () => {
    const w = new WarmStart();
    w.onAsk(0, 10, false); // the first ask of the process
    expect(w.share(0)).toBe(WARM_SHARE);
    w.onPermit(WARM_MS);
    expect(w.share(WARM_MS)).toBe(1);
    // Nobody queued, but fewer than 3 slots went unused: demand did not stop.
    w.onAsk(WARM_MS + 29, 10, false);
    expect(w.share(WARM_MS + 29)).toBe(1);
    // An event-loop stall: long past the last permit, but the caller waited behind another.
    w.onAsk(WARM_MS + 500, 10, true);
    expect(w.share(WARM_MS + 500)).toBe(1);
    w.onAsk(WARM_MS + 500, 10, false);
    expect(w.share(WARM_MS + 500)).toBe(WARM_SHARE);
    expect(w.share(2 * WARM_MS + 499)).toBe(WARM_SHARE);
    expect(w.share(2 * WARM_MS + 500)).toBe(1);
    // A pause ending at 5000 warms the second after it, not one that starts when it was told.
    w.afterPause(5000);
    expect(w.share(5000 + WARM_MS - 1)).toBe(WARM_SHARE);
    expect(w.share(5000 + WARM_MS)).toBe(1);
  });
});
