import type { Env } from '../config.js';
import { ApiError, errorMessage } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Page } from '../leeloo/endpoints.js';

/** One row of doctor's report. */
export interface Check {
  name: string;
  ok: boolean;
  /** What was observed. */
  detail: string;
  /** What the sync does about it. */
  action: string;
}

/** Doctor's hard limit on requests, retries included. */
export const MAX_REQUESTS = 100;

export class BudgetExhausted extends Error {
  constructor(used: number) {
    super(`request budget of ${MAX_REQUESTS} reached after ${used} requests; remaining checks skipped`);
    this.name = 'BudgetExhausted';
  }
}

/**
 * What the checks share: the client (GET requests only, paced by its rate limiter), the request
 * count (from the client's events, so retries count), and what earlier checks saw.
 */
export class DoctorContext {
  /** Ids and pages seen by the endpoint check, for the later checks. */
  readonly seen: {
    personId?: string;
    channelId?: string;
    channelPersonId?: string;
    orderId?: string;
    tunnelId?: string;
    userId?: string;
    people?: Page<unknown>;
    channels?: Page<unknown>;
    chat?: Page<unknown>;
  } = {};

  constructor(
    readonly client: LeelooClient,
    readonly env: Env,
    /** Most attempts one call may take (1 + retries). */
    readonly attemptsPerCall: number,
    /** Counted from the client's request events. */
    private readonly counter: { requests: number },
    readonly now = new Date(),
  ) {}

  get requests(): number {
    return this.counter.requests;
  }

  /** Runs one API call if the budget can absorb all its attempts. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.requests + this.attemptsPerCall > MAX_REQUESTS) throw new BudgetExhausted(this.requests);
    return fn();
  }

  get startDate(): Date {
    return new Date(`${this.env.SYNC_START_DATE}T00:00:00.000Z`);
  }

  /** Tomorrow's date: as a date-only `to` it covers now under either reading. */
  get tomorrow(): Date {
    return new Date(Math.floor(this.now.getTime() / 86_400_000) * 86_400_000 + 86_400_000);
  }
}

/** An answer in a few words: `404 NOT_FOUND`, `200`, `network error`. */
export function answerOf(err: unknown): string {
  if (!(err instanceof ApiError)) return errorMessage(err);
  const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(err.bodyExcerpt ?? '')?.[1];
  if (err.status !== undefined) return [String(err.status), code].filter(Boolean).join(' ');
  return err.kind === 'api' ? `status 0 ${code ?? ''}`.trim() : `${err.kind} error`;
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}

/** A made-up 24-hex id: no record has it. */
export function madeUpId(): string {
  let s = '';
  for (let i = 0; i < 24; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return `ffff${s.slice(4)}`;
}
