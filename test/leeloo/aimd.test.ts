import { describe, expect, it } from 'vitest';
import { AIMD, AimdController, decrease, increase, initialState, parseAimdState, type AimdState, type LearnedRate } from '../../src/leeloo/aimd.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { AutoRateLimiter, TokenBucketRateLimiter } from '../../src/leeloo/rate-limit.js';
import { loadConfig } from '../../src/config.js';

/** A controller on a fake clock, fed permits as a limiter-bound caller would. */
function fake(o: { maxRate?: number; learned?: LearnedRate | null; countsAll?: boolean } = {}) {
  let t = 1_000_000;
  const c = new AimdController({ maxRate: o.maxRate ?? 1000, learned: o.learned ?? null, countsAll: o.countsAll ?? true, now: () => t });
  /** Grants permits at the controller's rate for `ms`, each having waited (`bound`) or not; applies raises. */
  const run = (ms: number, bound = true) => {
    const end = t + ms;
    while (t < end) {
      t += 1000 / c.state.rate;
      const up = c.onPermit(bound ? 1000 / c.state.rate : 0);
      if (up) c.adopt(up);
    }
  };
  const hit429 = (pauseMs: number, sentAgoMs = 0) => {
    const down = c.on429(pauseMs, sentAgoMs);
    if (down) c.adopt(down);
    return down;
  };
  return { c, run, hit429, advance: (ms: number) => (t += ms), now: () => t };
}

describe('AIMD controller', () => {
  it('slow start: multiplies the rate while callers queue, from 5/s to 400/s in under 3 s', () => {
    const f = fake();
    expect(f.c.state).toMatchObject({ rate: 5, slowStart: true, ceiling: null });
    let ms = 0;
    while (f.c.state.rate < 400) {
      f.run(50);
      ms += 50;
      expect(ms).toBeLessThan(3000);
    }
    expect(f.c.state.slowStart).toBe(true);
  });

  it('does not raise the rate while the limiter holds nobody back (a sync waiting on latency)', () => {
    const f = fake();
    f.run(5000, false);
    expect(f.c.state.rate).toBe(5);
  });

  it('a 429 sets the ceiling to what was sent over the second before it, backs off ×0.7, and holds for the Retry-After', () => {
    const f = fake();
    while (f.c.state.rate < 100) f.run(50);
    f.run(1000); // a second at ~100-150/s
    const sent = f.c.sentRate(f.now());
    const before = f.c.state;
    const down = f.hit429(1000);
    expect(down).not.toBeNull();
    expect(down!.slowStart).toBe(false);
    expect(down!.ceiling).toBeCloseTo(Math.min(before.rate, sent), 5);
    expect(down!.rate).toBeCloseTo(down!.ceiling! * AIMD.decrease, 5);
    expect(down!.holdUntil).toBe(f.now() + 1000 + AIMD.graceMs);
    // The other requests refused in the same burst are the same event: no second cut.
    expect(f.hit429(1000)).toBeNull();
    // Nothing grows during the pause.
    const held = f.c.state.rate;
    f.run(1000);
    expect(f.c.state.rate).toBe(held);
  });

  it('counts what the server saw before the refused request was sent, not the rate it was climbing to', () => {
    const f = fake();
    f.run(2500); // slow start: the rate now is well above what the last second carried
    const rateBefore = f.c.state.rate;
    const age = 200;
    const seen = f.c.sentRate(f.now() - age);
    expect(seen).toBeLessThan(f.c.sentRate(f.now()));
    expect(seen).toBeLessThan(rateBefore * 0.8);
    const down = f.hit429(1000, age);
    expect(down!.ceiling).toBeCloseTo(seen, 5);
  });

  it('climbs back additively to 97 % of the ceiling and stays there, re-probing rarely', () => {
    const f = fake();
    f.c.adopt({ ...f.c.state, slowStart: false, ceiling: 100, rate: 70, probeAt: f.now() + 10_000, probeEveryMs: 10_000 });
    f.run(2000);
    expect(f.c.state.rate).toBeCloseTo(97, 5);
    f.run(5000);
    expect(f.c.state.rate).toBeCloseTo(97, 5); // no sawtooth above the limit
    expect(f.c.state.ceiling).toBe(100);
    f.run(4000); // past probeAt: look 3 % above the ceiling
    expect(f.c.state.ceiling!).toBeGreaterThan(100);
    expect(f.c.state.probeFrom).toBe(100);
    // The probe finds the limit where it was: milder cut, and the next probe waits twice as long.
    const down = f.hit429(1000);
    expect(down!.probeFrom).toBeNull();
    expect(down!.probeEveryMs).toBe(20_000);
    expect(down!.rate).toBeCloseTo(down!.ceiling! * AIMD.decreaseAtCap, 5);
    expect(down!.probeAt).toBe(down!.holdUntil + 20_000);
  });

  it('the rest of the same burst of 429s can only refine the ceiling down, and only right after the back-off', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: true, rate: 150 };
    const first = decrease(s, 10_000, 1000, 51, 70)!; // answered first, refused second: one refused request counted
    expect(first.ceiling).toBe(51);
    const refined = decrease(first, 10_020, 1000, 50, 70)!;
    expect(refined.ceiling).toBe(50);
    expect(refined.rate).toBeCloseTo(50 * AIMD.decrease, 5);
    expect(refined.holdUntil).toBe(first.holdUntil);
    expect(decrease(refined, 10_030, 1000, 52, 70)).toBeNull(); // never up
    expect(decrease(refined, 10_000 + AIMD.graceMs + 1, 1000, 40, 70)).toBeNull(); // later: the same pause, no new cut
  });

  it('a 429 while sending far less than allowed keeps the learned limit and re-grows fast up to it', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: false, ceiling: 100, rate: 97, probeAt: 1e12 };
    const d = decrease(s, 10_000, 1000, 10, 97)!; // 10/s sent while 97/s were allowed
    expect(d).toMatchObject({ ceiling: 100, slowStart: true });
    expect(d.rate).toBeCloseTo(7, 5);
    let x = d;
    let t = d.holdUntil;
    while (x.slowStart) x = increase(x, (t += AIMD.intervalMs), 1000)!;
    expect(x.rate).toBeCloseTo(97, 5); // back at the cap in a few intervals, not by +5 %/step
    expect((t - d.holdUntil) / AIMD.intervalMs).toBeLessThan(10);
  });

  it('a lone 429 at the cap while sending at the pace narrows the ceiling 2 % and resumes at the new pace after the Retry-After, without a cut', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: false, ceiling: 100, rate: 97, probeAt: 1e12, learnedAt: 'then' };
    const d = decrease(s, 100_000, 1000, 96, 97)!;
    expect(d).toMatchObject({ slowStart: false, learnedAt: new Date(100_000).toISOString(), jitterAt: 100_000 });
    expect(d.ceiling).toBeCloseTo(100 * AIMD.capCeilingShrink, 9);
    expect(d.rate).toBeCloseTo(100 * AIMD.capCeilingShrink * AIMD.capShare, 9); // not 97 × decreaseAtCap
    expect(d.holdUntil).toBe(100_000 + 1000 + AIMD.graceMs);
    // The rest of its burst, even counted lower, neither cuts nor narrows again (the send rate was capped).
    expect(decrease(d, 100_020, 1000, 90, 97)).toBeNull();
    // No probe during the pause; after it the pace is already the cap: nothing to climb back.
    expect(increase({ ...d, probeAt: 0 }, 100_500, 1000)).toBeNull();
    expect(increase(d, d.holdUntil + AIMD.intervalMs, 1000)).toBeNull();
  });

  it('a second 429 at the cap within the jitter window also cuts the rate; after a quiet window one is jitter again', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: false, ceiling: 100, rate: 97, probeAt: 1e12 };
    const first = decrease(s, 100_000, 1000, 97, 97)!;
    // Back at the (narrowed) pace after the pause, then refused again.
    const second = decrease(first, 110_000, 1000, first.rate, first.rate)!;
    expect(second.ceiling).toBeCloseTo(first.ceiling! * AIMD.capCeilingShrink, 9);
    expect(second.rate).toBeCloseTo(first.rate * AIMD.decreaseAtCap, 9);
    expect(second.jitterAt).toBe(110_000);
    const atCap = { ...second, rate: second.ceiling! * AIMD.capShare };
    const later = decrease(atCap, 110_000 + AIMD.jitterWindowMs + 1, 1000, atCap.rate, atCap.rate)!;
    expect(later.ceiling).toBeCloseTo(second.ceiling! * AIMD.capCeilingShrink, 9);
    expect(later.rate).toBeCloseTo(later.ceiling! * AIMD.capShare, 9);
  });

  it('the first 429 at the cap is lone jitter even when the clock reads less than the jitter window', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: false, ceiling: 100, rate: 97, probeAt: 1e12 };
    const d = decrease(s, AIMD.jitterWindowMs / 2, 1000, 97, 97)!;
    expect(d.ceiling).toBeCloseTo(100 * AIMD.capCeilingShrink, 9);
    expect(d.rate).toBeCloseTo(100 * AIMD.capCeilingShrink * AIMD.capShare, 9); // no cut
    expect(d.jitterAt).toBe(AIMD.jitterWindowMs / 2);
  });

  it('a 429 at the cap while sending clearly less than the pace learns the lower limit at once', () => {
    const s: AimdState = { ...initialState({ maxRate: 1000 }, 0), slowStart: false, ceiling: 100, rate: 97, probeAt: 1e12 };
    const d = decrease(s, 100_000, 1000, 70, 97)!;
    expect(d.ceiling).toBe(70);
    expect(d.rate).toBeCloseTo(70 * AIMD.decreaseAtCap, 5);
  });

  it.each([
    [50, 40, 3, 10],
    // Close below the pace: the first 429 reads as jitter (2 % narrower), the repeat finds it.
    [50, 46, 5, 15],
    [100, 60, 3, 10],
  ])('a limit that drops from %i to %i/s under a steady pace is found within %i 429s and %i s, then holds', (from, to, most, withinS) => {
    const f = fake({ learned: { rate: from, ceiling: from, learnedAt: null } });
    f.run(3000);
    expect(f.c.state.rate).toBeCloseTo(from * AIMD.capShare, 5);
    // A server counting accepted requests over a sliding second, now at the lower limit.
    const accepted: number[] = [];
    const admit = (t: number) => {
      while (accepted.length > 0 && accepted[0]! <= t - 1000) accepted.shift();
      if (accepted.length >= to) return false;
      accepted.push(t);
      return true;
    };
    let refused = 0;
    let lastRefusedAt = 0;
    const end = f.now() + 30_000;
    while (f.now() < end) {
      f.advance(1000 / f.c.state.rate);
      const up = f.c.onPermit(1000 / f.c.state.rate);
      if (up) f.c.adopt(up);
      if (admit(f.now())) continue;
      refused++;
      lastRefusedAt = f.now();
      f.hit429(1000);
      f.advance(1000); // the Retry-After pause: nothing is sent
    }
    expect(refused).toBeLessThanOrEqual(most);
    expect(end - lastRefusedAt).toBeGreaterThan(30_000 - withinS * 1000);
    // Pacing at most at the limit (no jitter here: exactly at it holds), the ceiling close above.
    expect(f.c.state.ceiling!).toBeLessThanOrEqual(to / AIMD.capShare + 1e-9);
    expect(f.c.state.rate).toBeLessThanOrEqual(to + 1e-9);
    expect(f.c.state.rate).toBeGreaterThan(to * 0.85);
  });

  it('never exceeds LEELOO_RATE_LIMIT_MAX, and does not probe when the cap is the max', () => {
    const f = fake({ maxRate: 50 });
    f.run(5000);
    expect(f.c.state.rate).toBe(50);
    const s: AimdState = { ...f.c.state, slowStart: false, ceiling: 60, probeAt: 0 };
    expect(increase(s, f.now() + 10_000, 50)).toBeNull();
    expect(increase({ ...s, rate: 40 }, f.now() + 10_000, 50)!.rate).toBeLessThanOrEqual(50);
  });

  it('starts near what the last run learned', () => {
    const s = initialState({ maxRate: 200, learned: { rate: 95, ceiling: 100, learnedAt: '2026-01-01T00:00:00.000Z' } }, 0);
    expect(s).toMatchObject({ rate: 90, ceiling: 100, slowStart: false, learnedAt: '2026-01-01T00:00:00.000Z' });
    // No 429 seen last time: slow start again, from the rate it had reached.
    expect(initialState({ maxRate: 200, learned: { rate: 40, ceiling: null, learnedAt: null } }, 0)).toMatchObject({ rate: 36, slowStart: true });
    // A learned limit above today's max is capped.
    expect(initialState({ maxRate: 50, learned: { rate: 300, ceiling: 400, learnedAt: null } }, 0).rate).toBe(50);
  });

  it('parses only well-formed shared states', () => {
    const s = initialState({ maxRate: 10 }, 5);
    expect(parseAimdState(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(parseAimdState({ ...s, rate: -1 })).toBeNull();
    expect(parseAimdState({ ...s, ceiling: 'x' })).toBeNull();
    expect(parseAimdState('nope')).toBeNull();
  });
});

describe('limiters', () => {
  it('a fixed LEELOO_RATE_LIMIT stays fixed: no controller, a 429 pauses without changing the rate', () => {
    const env = loadConfig({ LEELOO_API_TOKEN: 't', LEELOO_RATE_LIMIT: '12' });
    expect(env.LEELOO_RATE_LIMIT).toBe(12);
    const client = createClientFromEnv(env);
    expect(client.rateLimit()).toEqual({ mode: 'fixed', rate: 12, ceiling: null, max: null, learnedAt: null });
    const b = new TokenBucketRateLimiter({ rate: 12 });
    b.penalize(50);
    expect(b.snapshot().rate).toBe(12);
  });

  it('auto is the default and takes the max from LEELOO_RATE_LIMIT_MAX', () => {
    const env = loadConfig({ LEELOO_API_TOKEN: 't' });
    expect(env.LEELOO_RATE_LIMIT).toBe('auto');
    expect(env.LEELOO_RATE_LIMIT_MAX).toBe(200);
    expect(createClientFromEnv(env).rateLimit()).toMatchObject({ mode: 'auto', rate: 5, ceiling: null, max: 200 });
    expect(() => loadConfig({ LEELOO_RATE_LIMIT: 'fast', LEELOO_RATE_LIMIT_MAX: '0' })).toThrow(
      /LEELOO_RATE_LIMIT must be auto or a number.*LEELOO_RATE_LIMIT_MAX/,
    );
  });

  it('setRate respaces the permits that follow', async () => {
    const b = new TokenBucketRateLimiter({ rate: 1000, burst: 1 });
    await b.acquire();
    b.setRate(40);
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) await b.acquire();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(70); // 3-4 intervals of 25 ms
    expect(b.snapshot().rate).toBe(40);
  });

  it('AutoRateLimiter: a 429 lowers the rate its bucket paces to, and pauses', async () => {
    const l = new AutoRateLimiter({ maxRate: 100, learned: { rate: 50, ceiling: 50, learnedAt: null } });
    expect(l.snapshot().rate).toBe(45);
    for (let i = 0; i < 5; i++) await l.acquire();
    l.penalize(200);
    expect(l.snapshot().rate).toBeLessThan(45);
    const t0 = performance.now();
    await l.acquire();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });
});
