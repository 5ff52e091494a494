import { ApiError } from '../errors.js';

export interface BackoffOptions {
  /** Base delay of the first retry, in ms. @defaultValue {@link DEFAULT_RETRY_BASE_MS} (250 ms) */
  baseMs?: number;
  /** Upper bound of any computed backoff, in ms. @defaultValue {@link DEFAULT_RETRY_MAX_MS} (30 s) */
  maxMs?: number;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

export const DEFAULT_RETRY_BASE_MS = 250;
export const DEFAULT_RETRY_MAX_MS = 30_000;
/** A Retry-After beyond this is not honoured as is (a misconfigured proxy must not park a sync for hours). */
export const RETRY_AFTER_CAP_MS = 120_000;
/**
 * The real API's 429 is plain text and may carry no Retry-After (docs/leeloo-api.md, "When throttled"); full jitter
 * alone could then retry almost at once, so a throttled retry waits at least this long.
 */
export const RATE_LIMITED_FLOOR_MS = 1_000;

/**
 * "Full jitter" exponential backoff: uniform in [0, min(max, base·2^attempt)], attempt counting
 * from 0 for the first retry. Spreads retries of many clients instead of synchronising them.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? DEFAULT_RETRY_BASE_MS;
  const max = opts.maxMs ?? DEFAULT_RETRY_MAX_MS;
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from `now`: either delta-seconds ("120", tolerated with a
 * fraction) or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past means 0.
 * Capped at `cap`. Unparseable or absent → undefined.
 */
export function parseRetryAfter(value: string | string[] | undefined | null, now: number = Date.now(), cap = RETRY_AFTER_CAP_MS): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return undefined;
  const v = raw.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(cap, Math.round(Number(v) * 1000));
  // An HTTP-date always names a weekday or month; anything else is not one.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(cap, Math.max(0, at - now));
}

/**
 * Whether a write that is not idempotent may be sent again after `err`: only when the request
 * certainly was not applied. The transport marks every write failure that happened after the
 * request could have reached the server (timeout, reset, 5xx, truncated body) `maybeApplied`;
 * a 429 (refused before processing) or a connection that could not be opened is not.
 */
export function certainlyNotApplied(err: ApiError): boolean {
  return !err.maybeApplied;
}

export interface RetryDecision {
  retry: boolean;
  delayMs: number;
}

/**
 * What to do after attempt number `attempt` (0-based) failed with `err`.
 * `idempotent` writes and reads retry every transient failure; other writes only those that
 * certainly were not applied.
 */
export function decideRetry(err: unknown, attempt: number, maxRetries: number, idempotent: boolean, backoff: BackoffOptions = {}): RetryDecision {
  if (!(err instanceof ApiError) || err.permanent || attempt >= maxRetries) return { retry: false, delayMs: 0 };
  if (!idempotent && !certainlyNotApplied(err)) return { retry: false, delayMs: 0 };
  return { retry: true, delayMs: retryDelay(err, attempt, backoff) };
}

/** How long to wait before retry number `attempt + 1`: the server's Retry-After if it sent one, else backoff. */
export function retryDelay(err: ApiError, attempt: number, backoff: BackoffOptions = {}): number {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs;
  const jittered = backoffDelay(attempt, backoff);
  if (err.kind === 'rate_limited') return Math.max(jittered, Math.min(RATE_LIMITED_FLOOR_MS, backoff.maxMs ?? DEFAULT_RETRY_MAX_MS));
  return jittered;
}
