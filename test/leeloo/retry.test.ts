import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { backoffDelay, decideRetry, parseRetryAfter, RATE_LIMITED_FLOOR_MS, RETRY_AFTER_CAP_MS } from '../../src/leeloo/retry.js';

const err = (init: Partial<ConstructorParameters<typeof ApiError>[0]> & { kind: ApiError['kind'] }) =>
  new ApiError({ method: 'GET', path: '/api/v2/tags', ...init });

describe('backoffDelay (full jitter)', () => {
  it('grows exponentially and stays within [0, min(max, base·2^n)]', () => {
    expect(backoffDelay(0, { baseMs: 250, random: () => 0.999999 })).toBe(249);
    expect(backoffDelay(3, { baseMs: 250, random: () => 0.999999 })).toBe(1999);
    expect(backoffDelay(20, { baseMs: 250, maxMs: 30_000, random: () => 0.999999 })).toBe(29_999);
    expect(backoffDelay(5, { random: () => 0 })).toBe(0);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, { baseMs: 100, maxMs: 1000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
    }
  });

  it('does not overflow for huge attempt numbers', () => {
    expect(backoffDelay(10_000, { random: () => 0.5 })).toBe(15_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2015-10-21T07:28:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000);
  });
  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0); // in the past
  });
  it('caps absurd values', () => {
    expect(parseRetryAfter('86400', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfter('Thu, 22 Oct 2015 07:28:00 GMT', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfter('10', now, 5000)).toBe(5000);
  });
  it('ignores junk', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('12 34', now)).toBeUndefined();
  });
});

describe('decideRetry', () => {
  it('never retries permanent errors', () => {
    for (const status of [400, 401, 403, 404, 422]) {
      expect(decideRetry(err({ kind: 'http', status }), 0, 6, true).retry).toBe(false);
    }
    expect(decideRetry(err({ kind: 'schema' }), 0, 6, true).retry).toBe(false);
    expect(decideRetry(err({ kind: 'api', status: 200 }), 0, 6, true).retry).toBe(false);
  });

  it('retries transient errors of reads until the budget is spent', () => {
    for (const e of [err({ kind: 'http', status: 503 }), err({ kind: 'http', status: 408 }), err({ kind: 'timeout' }), err({ kind: 'network' }), err({ kind: 'bad_json', status: 200 }), err({ kind: 'rate_limited', status: 429 })]) {
      expect(decideRetry(e, 0, 6, true).retry).toBe(true);
      expect(decideRetry(e, 6, 6, true).retry).toBe(false);
    }
    expect(decideRetry(new Error('x'), 0, 6, true).retry).toBe(false);
  });

  it('honours Retry-After over backoff', () => {
    expect(decideRetry(err({ kind: 'rate_limited', status: 429, retryAfterMs: 7000 }), 0, 6, true).delayMs).toBe(7000);
    expect(decideRetry(err({ kind: 'http', status: 503, retryAfterMs: 2000 }), 3, 6, true).delayMs).toBe(2000);
  });

  it('a 429 without Retry-After still waits a floor', () => {
    const d = decideRetry(err({ kind: 'rate_limited', status: 429 }), 0, 6, true, { random: () => 0 });
    expect(d.delayMs).toBe(RATE_LIMITED_FLOOR_MS);
  });

  it('non-idempotent writes retry only when the request certainly was not applied', () => {
    const w = (init: Parameters<typeof err>[0]) => err({ method: 'POST', path: '/api/v2/messages/send-message', ...init });
    expect(decideRetry(w({ kind: 'rate_limited', status: 429 }), 0, 6, false).retry).toBe(true);
    expect(decideRetry(w({ kind: 'network', maybeApplied: false }), 0, 6, false).retry).toBe(true); // refused
    expect(decideRetry(w({ kind: 'network', maybeApplied: true }), 0, 6, false).retry).toBe(false);
    expect(decideRetry(w({ kind: 'timeout', maybeApplied: true }), 0, 6, false).retry).toBe(false);
    expect(decideRetry(w({ kind: 'http', status: 502, maybeApplied: true }), 0, 6, false).retry).toBe(false);
    expect(decideRetry(w({ kind: 'bad_json', status: 200, maybeApplied: true }), 0, 6, false).retry).toBe(false);
  });
});
