import { ApiError } from '../errors.js';

export interface WriteBackoff {
  /** Delay before the second attempt (then doubling). Default 1 s. */
  baseMs: number;
  /** Upper bound of a computed delay. Default 5 min. */
  maxMs: number;
}

export const DEFAULT_WRITE_BACKOFF: WriteBackoff = { baseMs: 1_000, maxMs: 300_000 };

/**
 * The real API's 429 is plain text and may carry no Retry-After (docs/leeloo-api.md, "When throttled"):
 * a throttled write then waits at least this long.
 */
export const RATE_LIMITED_FLOOR_MS = 1_000;
/** A Retry-After beyond this is not honoured as is (a proxy's mistake must not park writes for a day). */
export const RETRY_AFTER_CAP_MS = 600_000;

/**
 * Exponential backoff with "equal jitter": half of base·2^(n-1) fixed, half random, capped. Unlike
 * full jitter it never retries at once, and it still spreads writes that failed together.
 * `attempts` counts the attempts made so far (≥ 1).
 */
export function backoffDelay(attempts: number, b: WriteBackoff = DEFAULT_WRITE_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempts - 1), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The server's Retry-After when it sent one (429, 503), else backoff. */
export function retryDelayFor(err: unknown, attempts: number, b: WriteBackoff = DEFAULT_WRITE_BACKOFF, random?: () => number): number {
  if (err instanceof ApiError && err.retryAfterMs !== undefined) return Math.min(RETRY_AFTER_CAP_MS, err.retryAfterMs);
  const d = backoffDelay(attempts, b, random);
  if (err instanceof ApiError && err.kind === 'rate_limited') return Math.max(d, RATE_LIMITED_FLOOR_MS);
  return d;
}
