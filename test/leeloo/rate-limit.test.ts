import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenBucketRateLimiter } from '../../src/leeloo/rate-limit.js';

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
