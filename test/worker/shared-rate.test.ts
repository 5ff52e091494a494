import { Redis } from 'ioredis';
import { FindingsStore } from '../../src/sync/findings.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../jobs/runtime.js';
import { openMirror } from '../../src/db/connection.js';
import { silentLogger } from '../../src/log.js';
import { storeLearnedRate } from '../../src/sync/rate-limit-finding.js';
import { tempDbPath } from '../helpers/mirror.js';
import { createRedis, waitForRedis } from '../../src/redis/connection.js';
import { RedisRateLimiter } from '../../src/redis/rate-limiter.js';
import { AIMD } from '../../src/leeloo/aimd.js';
import { AUTO_TOLERANCE_MS } from '../../src/leeloo/rate-limit.js';
import { cleanupPrefix, REDIS_URL, sleep, testPrefix, waitFor, workerEnv } from './helpers.js';
import { startSimulator } from '../../src/sim/index.js';

const prefix = testPrefix();
const clients: Redis[] = [];
const limiterClient = async () => {
  const c = createRedis(REDIS_URL, { name: 'test', logger: silentLogger, failFast: true });
  clients.push(c);
  await waitForRedis(c, 5000);
  return c;
};
const auto = async (p: string, learned: { rate: number; ceiling: number | null; learnedAt: string | null } | null = null, maxRate = 500) =>
  new RedisRateLimiter({ redis: await limiterClient(), prefix: p, rate: maxRate, auto: { maxRate, learned }, logger: silentLogger });

afterAll(async () => {
  await cleanupPrefix(prefix);
  for (const c of clients) c.disconnect();
});

describe('LEELOO_RATE_LIMIT=auto through Redis', () => {
  it('one worker seeds the learned rate; the next adopts it instead of its own start', async () => {
    const p = `${prefix}:seed`;
    const a = await auto(p, { rate: 60, ceiling: 60, learnedAt: '2026-01-01T00:00:00.000Z' });
    await a.acquire();
    expect(a.snapshot()).toMatchObject({ mode: 'auto', rate: 54, ceiling: 60 });
    const b = await auto(p); // would start at 5/s in slow start on its own
    await b.acquire();
    expect(b.snapshot()).toMatchObject({ rate: 54, ceiling: 60, learnedAt: '2026-01-01T00:00:00.000Z' });
    const r = clients[0]!;
    expect(Number(await r.get(`${p}:{ratelimit}:api:rate`))).toBe(54);
  });

  it("one worker's 429 lowers the rate of all, once per event, and pauses them", async () => {
    const p = `${prefix}:down`;
    const a = await auto(p, { rate: 100, ceiling: 100, learnedAt: null });
    const b = await auto(p);
    await a.acquire();
    await b.acquire();
    expect(b.snapshot().rate).toBe(90);
    a.penalize(300);
    a.penalize(300); // another refusal of the same burst: no second cut
    // The back-off asks Redis what every worker sent before the refused request.
    await waitFor('a backs off', async () => a.snapshot().rate < 90, 3000, 10);
    const lowered = a.snapshot().rate;
    const t0 = Date.now();
    await b.acquire(); // waits out the shared pause, then reads the shared rate
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    // At the lowered rate (about 1/s) b's permit also waits for the second before it to hold
    // room (RESERVE's window check): past the hold, so that wait may raise the rate one step.
    const shared = async () => Number(await clients[0]!.get(`${p}:{ratelimit}:api:rate`));
    await waitFor('b follows the shared rate', async () => b.snapshot().rate === (await shared()), 3000, 20);
    await sleep(50);
    const now = await shared();
    expect(now === lowered || now === lowered * AIMD.slowStartFactor).toBe(true);
    await a.acquire(); // a reads the shared rate with its next permit
    await waitFor('a follows the shared rate', async () => a.snapshot().rate === (await shared()), 3000, 20);
    expect(b.snapshot().ceiling).toBe(a.snapshot().ceiling);
  });

  it('late asks catch up missed slots, yet all workers together never exceed the rate over any second', async () => {
    const p = `${prefix}:catchup`;
    // A learned limit of 40/s restarts at 36/s; a max of 36 keeps it there for the whole test.
    const learned = { rate: 40, ceiling: 40, learnedAt: null };
    const limiters = await Promise.all([auto(p, learned, 36), auto(p, learned, 36), auto(p, learned, 36)]);
    const until = performance.now() + 2500;
    let granted = 0;
    // Every 400 ms the event loop stalls for 150 ms (a loaded machine): past the permits reserved
    // before it, every caller asks late, and catches up with back-to-back permits.
    const stall = setInterval(() => {
      const t = performance.now();
      while (performance.now() - t < 150);
    }, 400);
    try {
      await Promise.all(
        limiters.flatMap((l) =>
          [0, 1].map(async () => {
            while (performance.now() < until) {
              await l.acquire();
              granted++;
            }
          }),
        ),
      );
    } finally {
      clearInterval(stall);
    }
    const slots = new Map(Object.entries(await clients[0]!.hgetall(`${p}:{ratelimit}:api:sent`)).map(([k, v]) => [Number(k), Number(v)]));
    const keys = [...slots.keys()];
    const [lo, hi] = [Math.min(...keys), Math.max(...keys)];
    let worst = 0;
    for (let a = lo - 100; a <= hi; a++) {
      let n = 0;
      for (let s = a; s <= a + 100; s++) n += slots.get(s) ?? 0;
      worst = Math.max(worst, n);
    }
    const interval = 1000 / 36;
    // What plain GCRA allows in a second: 1 + (1000 + tolerance) / interval = 37 permits.
    expect(worst).toBeLessThanOrEqual(Math.floor(1 + (1000 + AUTO_TOLERANCE_MS) / interval));
    expect([...slots.values()].reduce((x, y) => x + y, 0)).toBe(granted);
    // Two permits within 10 ms are a catch-up (paced ones are an interval apart, 5 ms early at most).
    expect(Math.max(...slots.values())).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['an idle spell', false],
    ['a pause', true],
  ])('callers arriving together after %s are paced from then on, not handed the slots gone by', async (_, pause) => {
    const p = `${prefix}:idle-${String(pause)}`;
    // 40/s learned restarts at 36/s: an interval of 28 ms, a catch-up of up to 3 of them.
    const a = await auto(p, { rate: 40, ceiling: 40, learnedAt: null }, 36);
    for (let i = 0; i < 3; i++) await a.acquire();
    if (pause) {
      // A 429: everyone waits, then resumes, late (the event loop busy as the pause ends).
      a.penalize(200);
      setTimeout(() => {
        const t = performance.now();
        while (performance.now() - t < 120);
      }, 180);
    } else {
      await sleep(300);
    }
    // Six callers at once (the first write jobs after the syncs' reads, or the jobs delayed by a
    // 429 and the ones waiting on it), as a process starting work would.
    const at: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => a.acquire().then(() => at.push(performance.now()))));
    at.sort((x, y) => x - y);
    const interval = 1000 / 36;
    // Paced: the first four span three intervals (less the 5 ms early release each may have).
    expect(at[3]! - at[0]!).toBeGreaterThanOrEqual(3 * (interval - AUTO_TOLERANCE_MS) - 2);
  });

  it('when demand resumes after a gap a worker warms up: its first second at 90 % of the shared rate, then the whole rate', async () => {
    const p = `${prefix}:warm`;
    const a = await auto(p, { rate: 40, ceiling: 40, learnedAt: null }, 36); // 36/s, the cap: no probe
    await a.acquire();
    await sleep(1100);
    const t0 = performance.now();
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (performance.now() - t0 < 1900) {
          await a.acquire();
          at.push(performance.now() - t0);
        }
      }),
    );
    const within = (from: number, to: number) => at.filter((t) => t >= from && t < to).length;
    // 0.9 × 36 = 32.4/s, and the window check's bound at that pace is 33 (36/s would give 37).
    expect(within(0, 1000)).toBeLessThanOrEqual(34);
    expect(within(0, 1000)).toBeGreaterThanOrEqual(28);
    // Then the whole rate: callers queued all along, so no new warm-up (28.8 in 0.8 s; warm, 25.9).
    expect(within(1100, 1900)).toBeGreaterThanOrEqual(27);
  });

  it('a permit reserved before a 429 is not released during its pause', async () => {
    const p = `${prefix}:held`;
    // 10/s learned restarts at 9/s: the second permit is reserved about 111 ms ahead.
    const a = await auto(p, { rate: 10, ceiling: 10, learnedAt: null }, 9);
    // A fresh schedule may catch up a slot or two; after three permits the next is an interval ahead.
    for (let i = 0; i < 3; i++) await a.acquire();
    const t0 = Date.now();
    const second = a.acquire().then(() => Date.now());
    await sleep(30); // it has its slot and sleeps towards it
    a.penalize(400);
    expect((await second) - t0).toBeGreaterThanOrEqual(30 + 400 - 5);
  });

  it('a limiter-bound worker raises the shared rate for the others, and never above the max', async () => {
    const p = `${prefix}:up`;
    const a = await auto(p, null, 80);
    const b = await auto(p, null, 80);
    await b.acquire();
    const until = Date.now() + 2500;
    // Eight callers queue on A: it is limiter-bound, so slow start raises the shared rate.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < until) await a.acquire();
      }),
    );
    expect(a.snapshot().rate).toBeGreaterThan(20);
    expect(a.snapshot().rate).toBeLessThanOrEqual(80);
    await b.acquire();
    await waitFor('b follows the raised rate', async () => b.snapshot().rate === a.snapshot().rate, 3000, 20);
  });
});

describe('the worker with LEELOO_RATE_LIMIT=auto', () => {
  it("starts from the rate the mirror learned and shows current and learned rates on /metrics", async () => {
    const db = tempDbPath('ls-shared-rate-');
    const sim = await startSimulator({ seed: 3, people: 5 });
    const p = `${prefix}:worker`;
    const m = openMirror(db.path);
    await storeLearnedRate(await FindingsStore.load(new SqliteStore(m)), { mode: 'auto', rate: 70, ceiling: 80, max: 200, learnedAt: '2026-01-02T00:00:00.000Z' }, 'test');
    m.close();
    const rt = await startWorker({ env: workerEnv(sim, db.path, p, { LEELOO_RATE_LIMIT: 'auto', DASHBOARD_PORT: '0' }), logger: silentLogger, tuning: { lockMs: 2000 } });
    try {
      await rt.ready;
      const res = await fetch(`${rt.dashboard!.url}/metrics`);
      const text = await res.text();
      expect(text).toMatch(/^leeloo_sync_rate_limit_current\{mode="auto"\} 72$/m); // 90 % of the learned 80/s
      expect(text).toMatch(/^leeloo_sync_rate_limit_learned\{mode="auto"\} 80$/m);
    } finally {
      await rt.close(5000);
      await sim.close();
      db.cleanup();
    }
  });
});
