import type Database from 'better-sqlite3';
import type { LearnedRate, RateLimitSnapshot } from '../leeloo/aimd.js';
import { FindingsStore, type Finding } from './findings.js';

/*
 * The rate limit learned with LEELOO_RATE_LIMIT=auto, kept in the mirror (api_findings
 * `rate_limit`) so that the next run starts near it instead of at the safe 5/s. The client never
 * touches SQL: it exposes its state (LeelooClient.rateLimit()), and the engine stores it here.
 */
export const RATE_LIMIT_FINDING = 'rate_limit';

export function readLearnedRate(sqlite: Database.Database): (LearnedRate & { checkedAt: string }) | null {
  let f: Finding<unknown> | null;
  try {
    f = new FindingsStore(sqlite).get<unknown>(RATE_LIMIT_FINDING);
  } catch {
    return null; // a mirror from before api_findings: nothing learned yet
  }
  return learnedRateOf(f);
}

/** The learned rate a `rate_limit` finding holds, or null when it holds none (or nonsense); shared with status-read.ts's Store read. */
export function learnedRateOf(f: Pick<Finding<unknown>, 'value' | 'checkedAt'> | null): (LearnedRate & { checkedAt: string }) | null {
  const v = f?.value as Partial<Record<keyof LearnedRate, unknown>> | undefined;
  if (!f || typeof v !== 'object' || v === null) return null;
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (!ok(v.rate) || !(v.ceiling === null || ok(v.ceiling)) || !(v.learnedAt === null || typeof v.learnedAt === 'string')) return null;
  return { rate: v.rate as number, ceiling: v.ceiling as number | null, learnedAt: v.learnedAt as string | null, checkedAt: f.checkedAt };
}

/** Stores an auto limiter's state; a fixed rate teaches nothing and is not stored. */
export function storeLearnedRate(sqlite: Database.Database, snap: RateLimitSnapshot | undefined, source: string): boolean {
  if (!snap || snap.mode !== 'auto') return false;
  const value: LearnedRate = { rate: round(snap.rate), ceiling: snap.ceiling === null ? null : round(snap.ceiling), learnedAt: snap.learnedAt };
  const detail = snap.ceiling === null ? `no 429 yet; paced at ${value.rate}/s (max ${snap.max ?? '-'}/s)` : `429s above ~${value.ceiling}/s; paced at ${value.rate}/s`;
  new FindingsStore(sqlite).put(RATE_LIMIT_FINDING, value, source, detail);
  return true;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
