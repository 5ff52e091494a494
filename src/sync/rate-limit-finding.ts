import { sql } from 'drizzle-orm';
import type { Store } from '../db/store/types.js';
import type { LearnedRate, RateLimitSnapshot } from '../leeloo/aimd.js';
import type { FindingsStore } from './findings.js';

/*
 * The rate limit learned with LEELOO_RATE_LIMIT=auto, kept in the mirror (api_findings
 * `rate_limit`) so that the next run starts near it instead of at the safe 5/s. The client never
 * touches SQL: it exposes its state (LeelooClient.rateLimit()), and the engine stores it here.
 */
export const RATE_LIMIT_FINDING = 'rate_limit';

type LearnedRow = { value: string; checked_at: string };

/** The stored rate limit, or null when none was learned or it is unreadable. */
export async function loadLearnedRate(store: Pick<Store, 'get'>): Promise<(LearnedRate & { checkedAt: string }) | null> {
  let f: LearnedRow | undefined;
  try {
    f = await store.get<LearnedRow>(sql`SELECT value, checked_at FROM api_findings WHERE name = ${RATE_LIMIT_FINDING}`);
  } catch {
    return null; // a mirror from before api_findings: nothing learned yet
  }
  return parseLearned(f);
}

function parseLearned(f: LearnedRow | undefined): (LearnedRate & { checkedAt: string }) | null {
  if (!f) return null;
  let v: Partial<Record<keyof LearnedRate, unknown>> | null;
  try {
    v = JSON.parse(f.value) as Partial<Record<keyof LearnedRate, unknown>> | null;
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (!ok(v.rate) || !(v.ceiling === null || ok(v.ceiling)) || !(v.learnedAt === null || typeof v.learnedAt === 'string')) return null;
  return { rate: v.rate as number, ceiling: v.ceiling as number | null, learnedAt: v.learnedAt as string | null, checkedAt: f.checked_at };
}

/** Stores an auto limiter's state; a fixed rate teaches nothing and is not stored. */
export async function storeLearnedRate(findings: FindingsStore, snap: RateLimitSnapshot | undefined, source: string): Promise<boolean> {
  if (!snap || snap.mode !== 'auto') return false;
  const value: LearnedRate = { rate: round(snap.rate), ceiling: snap.ceiling === null ? null : round(snap.ceiling), learnedAt: snap.learnedAt };
  const detail = snap.ceiling === null ? `no 429 yet; paced at ${value.rate}/s (max ${snap.max ?? '-'}/s)` : `429s above ~${value.ceiling}/s; paced at ${value.rate}/s`;
  await findings.put(RATE_LIMIT_FINDING, value, source, detail);
  return true;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
