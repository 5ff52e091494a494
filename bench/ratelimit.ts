/**
 * LEELOO_RATE_LIMIT=auto against a simulator whose limit the client does not know (requests per
 * sliding second, the simulator's `rateLimitRps`; every 429 says Retry-After ≥ 1 s, which pauses
 * all callers). A load of `concurrency` callers reading GET /tags (a cheap answer: the limiter is
 * what is measured, not JSON) runs for `seconds`. Measured from the answers the client got:
 * - learning time: until the end of the first rolling second that starts after the first 429 and
 *   has ≥ 90 % of the limit answered 2xx (a run that starts from a learned rate may never see a
 *   429: then the first such second);
 * - after it, to the end: 2xx answers per second ÷ the limit, and the share answered 429.
 * A second run per limit starts from what the first learned (as the mirror hands it to the next
 * run) and reports how fast it is back at the limit.
 */
import { setMaxListeners } from 'node:events';
import type { LearnedRate } from '../src/leeloo/aimd.js';
import { LeelooClient } from '../src/leeloo/client.js';
import { startSimProcess } from './sim-process.js';

export interface RateLimitScenario {
  limit: number;
  /** Seconds from start until the limit was reached after the first back-off. */
  learnSeconds: number | null;
  /** 2xx per second after learning ÷ limit. */
  ratio: number;
  /** 429 answers ÷ all answers after learning. */
  share429: number;
  /** 429 answers ÷ all answers over the whole run, learning included. */
  share429All: number;
  requests: number;
  finalRate: number;
  ceiling: number | null;
  /** The same limit, starting from what this run learned: seconds until ≥ 90 % of the limit. */
  restartSeconds: number | null;
  restartRatio: number;
  restartShare429: number;
}

export interface BenchRateLimitOptions {
  limits?: number[];
  /** Length of each run. Default 20 s. */
  seconds?: number;
  /** Length of each restart run. Default 8 s. */
  restartSeconds?: number;
  concurrency?: number;
  latencyMs?: number;
  /** LEELOO_RATE_LIMIT_MAX of the client. Default 1000 (above every limit tried). */
  maxRate?: number;
}

interface Answer {
  at: number;
  status: number;
}

export async function benchRateLimit(o: BenchRateLimitOptions = {}): Promise<RateLimitScenario[]> {
  const limits = o.limits ?? [20, 100, 400];
  const sim = await startSimProcess(['--people', '20', '--seed', '3', '--latency', String(o.latencyMs ?? 10)]);
  const ctl = async (body: unknown) => {
    const res = await fetch(`${sim.url}/__sim/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`simulator knobs: HTTP ${res.status}`);
  };
  const out: RateLimitScenario[] = [];
  try {
    for (const limit of limits) {
      await ctl({ rateLimitRps: limit });
      await new Promise((r) => setTimeout(r, 1100)); // the window forgets the previous scenario
      const first = await load(sim.url, sim.token, limit, o.seconds ?? 20, o.concurrency ?? 16, o.maxRate ?? 1000, null);
      await new Promise((r) => setTimeout(r, 1100));
      const again = await load(sim.url, sim.token, limit, o.restartSeconds ?? 8, o.concurrency ?? 16, o.maxRate ?? 1000, first.learned);
      out.push({
        limit,
        learnSeconds: first.learnSeconds,
        ratio: first.ratio,
        share429: first.share429,
        share429All: first.share429All,
        requests: first.requests,
        finalRate: first.learned.rate,
        ceiling: first.learned.ceiling,
        restartSeconds: again.learnSeconds,
        restartRatio: again.ratio,
        restartShare429: again.share429All,
      });
    }
  } finally {
    await sim.stop();
  }
  return out;
}

async function load(url: string, token: string, limit: number, seconds: number, concurrency: number, maxRate: number, learned: LearnedRate | null) {
  const answers: Answer[] = [];
  const client = new LeelooClient({
    baseUrl: url,
    token,
    rateLimit: 'auto',
    rateLimitMax: maxRate,
    learnedRate: learned,
    maxRetries: 1000,
    onEvent: (e) => {
      if (e.type === 'request') answers.push({ at: performance.now(), status: e.status });
    },
  });
  const start = performance.now();
  const end = start + seconds * 1000;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // all the callers wait on it at once, as the sync's workers do
  const timer = setTimeout(() => stop.abort(new Error('bench over')), seconds * 1000);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await client.listTags({ signal: stop.signal });
        } catch (err) {
          if (stop.signal.aborted) return;
          throw err;
        }
      }
    }),
  );
  clearTimeout(timer);
  const snap = client.rateLimit();
  await client.close();
  const t = (a: Answer) => a.at - start;
  const first429 = answers.find((a) => a.status === 429);
  // Rolling one-second windows of 2xx answers, stepped every 100 ms.
  const ok = answers.filter((a) => a.status >= 200 && a.status < 300).map(t);
  let learnedAt: number | null = null;
  const from = first429 ? t(first429) : 0;
  for (let w = 1000; w <= seconds * 1000; w += 100) {
    if (w - 1000 < from) continue; // the whole second after the first back-off
    let n = 0;
    for (const x of ok) if (x > w - 1000 && x <= w) n++;
    if (n >= 0.9 * limit) {
      learnedAt = w;
      break;
    }
  }
  const after = learnedAt === null ? [] : answers.filter((a) => t(a) > learnedAt!);
  const span = learnedAt === null ? 0 : seconds - learnedAt / 1000;
  const ok2 = after.filter((a) => a.status >= 200 && a.status < 300).length;
  const n429 = after.filter((a) => a.status === 429).length;
  return {
    learnSeconds: learnedAt === null ? null : learnedAt / 1000,
    ratio: span > 0 ? ok2 / span / limit : 0,
    share429: after.length === 0 ? 0 : n429 / after.length,
    share429All: answers.length === 0 ? 0 : answers.filter((a) => a.status === 429).length / answers.length,
    requests: answers.length,
    learned: { rate: snap?.rate ?? 0, ceiling: snap?.ceiling ?? null, learnedAt: snap?.learnedAt ?? null },
  };
}

/** `node --import tsx bench/ratelimit.ts [limits]`: this part of `npm run bench` alone. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const limits = process.argv[2] ? process.argv[2].split(',').map(Number) : undefined;
  for (const r of await benchRateLimit({ limits })) console.log(JSON.stringify(r));
}
