import { STREAM, rngFor, type Rng } from './random.js';
import type { FaultKind, SimKnobs } from './types.js';

export interface Fault {
  kind: FaultKind;
  /** For writes faulted with 'drop' or '5xx': whether the write is applied before the failure. */
  applied: boolean;
  /** For '5xx'. */
  status: number;
}

/**
 * Fault decisions come from a PRNG stream of their own, so for a given seed and request order
 * the same requests fail the same way, and faults never disturb the data streams.
 */
export class FaultPlan {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = rngFor(seed, STREAM.faults);
  }

  decide(knobs: SimKnobs): Fault | null {
    if (knobs.faultRate <= 0 || knobs.faultKinds.length === 0) return null;
    if (!this.rng.chance(knobs.faultRate)) return null;
    return {
      kind: this.rng.pick(knobs.faultKinds),
      // A connection can break, or a gateway time out, before or after the backend did the work.
      applied: this.rng.chance(0.5),
      status: this.rng.pick([500, 502, 503, 504]),
    };
  }
}

/** Accepted requests over a sliding 1 s window. */
export class RateLimiter {
  private times: number[] = [];
  private head = 0;

  /** Whether a request at `now` is within `limit` per second; an accepted one is recorded. */
  admit(limit: number | null, now: number): boolean {
    while (this.head < this.times.length && (this.times[this.head] as number) <= now - 1000) this.head++;
    if (this.head > 1024) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    if (limit !== null && this.times.length - this.head >= limit) return false;
    this.times.push(now);
    return true;
  }

  /** Seconds until the oldest request in the window leaves it (at least 1). */
  retryAfter(now: number): number {
    const oldest = this.times[this.head];
    return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + 1000 - now) / 1000));
  }
}

export const TOO_MANY_REQUESTS = 'Too many requests, please try again later.';

/** Bodies of the 5xx fault: a JSON error from the app, or a gateway's HTML page. */
export function serverErrorBody(status: number): { contentType: string; body: string } {
  if (status === 500) return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ status: 0, error: { code: 'INTERNAL_ERROR' } }) };
  const title = status === 502 ? '502 Bad Gateway' : status === 503 ? '503 Service Temporarily Unavailable' : '504 Gateway Time-out';
  return { contentType: 'text/html', body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n` };
}
