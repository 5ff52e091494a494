import type { z } from 'zod';
import { ApiError, type ApiErrorKind } from '../errors.js';
import type { Logger } from '../log.js';
import { buildQuery, type HttpMethod, type HttpTransport, type QueryValue } from './http.js';
import { sleep, type RateLimiter } from './rate-limit.js';
import { decideRetry, retryDelay, type BackoffOptions } from './retry.js';
import { compileCheck } from './check.js';

export type ClientEvent =
  | { type: 'request'; method: string; route: string; status: number; ms: number }
  | { type: 'retry'; route: string; attempt: number; delayMs: number; reason: string }
  | { type: 'rate_limited'; route: string; retryAfterMs: number }
  /** A call that failed for good (after its retries); `status` 0 when there was no HTTP answer. */
  | { type: 'error'; method: string; route: string; kind: ApiErrorKind; status: number; permanent: boolean };

export interface CallOptions {
  /** Retries for this call only; 0 sends exactly one request (an outbox worker retries itself). */
  retries?: number;
  signal?: AbortSignal;
}

export interface ClientStats {
  /** HTTP attempts, retries included. */
  requests: number;
  retries: number;
  /** 429 answers. */
  rateLimited: number;
  /** Calls that failed for good. */
  errors: number;
}

export interface CallSpec<S extends z.ZodType> {
  method: HttpMethod;
  route: string;
  path: string;
  query?: readonly (readonly [string, QueryValue])[];
  json?: unknown;
  form?: Record<string, string | undefined>;
  schema: S;
  /** Reads and idempotent writes retry every transient failure; other writes only certain non-deliveries. */
  idempotent: boolean;
  call?: CallOptions;
}

export interface ApiCallerOptions {
  transport: HttpTransport;
  limiter: RateLimiter;
  maxRetries: number;
  backoff: BackoffOptions;
  logger: Logger;
  onEvent?: ((e: ClientEvent) => void) | undefined;
}

/**
 * The request engine behind LeelooClient: rate limit, send, classify, retry per policy,
 * validate, and count/report everything on the way. Endpoint knowledge lives in client.ts.
 */
export class ApiCaller {
  readonly stats: ClientStats = { requests: 0, retries: 0, rateLimited: 0, errors: 0 };
  private readonly transport: HttpTransport;
  private readonly limiter: RateLimiter;
  private readonly maxRetries: number;
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;
  private readonly onEvent: ((e: ClientEvent) => void) | undefined;

  constructor(o: ApiCallerOptions) {
    this.transport = o.transport;
    this.limiter = o.limiter;
    this.maxRetries = o.maxRetries;
    this.backoff = o.backoff;
    this.log = o.logger;
    this.onEvent = o.onEvent;
  }

  /** One API call: rate limit, send, classify, retry per policy, validate. */
  async call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.infer<S>> {
    const signal = spec.call?.signal;
    const maxRetries = Math.max(0, Math.floor(spec.call?.retries ?? this.maxRetries));
    const write = spec.method !== 'GET';
    const query = spec.query && spec.query.length > 0 ? buildQuery(spec.query) : undefined;
    for (let attempt = 0; ; attempt++) {
      await this.limiter.acquire(signal);
      const started = performance.now();
      let body: Record<string, unknown>;
      let status: number;
      try {
        const res = await this.transport.send({ method: spec.method, path: spec.path, query, json: spec.json, form: spec.form, signal, write });
        this.countRequest(spec, res.status, started);
        body = res.body;
        status = res.status;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err; // aborted by the caller, or a bug
        this.countRequest(spec, err.status ?? 0, started);
        const d = decideRetry(err, attempt, maxRetries, spec.idempotent, this.backoff);
        if (err.kind === 'rate_limited') {
          const delay = d.retry ? d.delayMs : retryDelay(err, attempt, this.backoff);
          this.stats.rateLimited++;
          this.emit({ type: 'rate_limited', route: spec.route, retryAfterMs: delay });
          // Everyone sharing the limiter waits, not just this caller; auto mode learns from when it was sent.
          this.limiter.penalize?.(delay, performance.now() - started);
        }
        if (!d.retry) throw this.fail(spec, err);
        this.stats.retries++;
        const reason = err.status !== undefined ? `${err.kind} ${err.status}` : err.kind;
        this.emit({ type: 'retry', route: spec.route, attempt: attempt + 1, delayMs: d.delayMs, reason });
        this.log.warn({ method: spec.method, route: spec.route, attempt: attempt + 1, delayMs: d.delayMs, reason, error: err.message }, 'leeloo request failed; retrying');
        await sleep(d.delayMs, signal);
        continue;
      }
      // The check-only twin first (check.ts): zod's parse copies the whole payload. Only when the
      // twin says no does zod decide, and name the issues.
      const check = compileCheck(spec.schema);
      const parsed = check?.(body) ? null : spec.schema.safeParse(body);
      if (parsed && !parsed.success) {
        const err = new ApiError({
          kind: 'schema',
          method: spec.method,
          path: spec.path,
          status,
          detail: describeIssues(parsed.error.issues),
          // The server accepted the write; only its answer is unexpected.
          maybeApplied: write,
        });
        throw this.fail(spec, err);
      }
      // Validation only: hand back the payload as received (key order and all), never zod's copy.
      return body as z.infer<S>;
    }
  }

  private countRequest(spec: CallSpec<z.ZodType>, status: number, started: number): void {
    const ms = Math.round(performance.now() - started);
    this.stats.requests++;
    this.emit({ type: 'request', method: spec.method, route: spec.route, status, ms });
    this.log.debug({ method: spec.method, route: spec.route, status, ms }, 'leeloo request');
  }

  private fail(spec: CallSpec<z.ZodType>, err: ApiError): ApiError {
    this.stats.errors++;
    this.emit({ type: 'error', method: spec.method, route: spec.route, kind: err.kind, status: err.status ?? 0, permanent: err.permanent });
    return err;
  }

  private emit(e: ClientEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(e);
    } catch (err) {
      // Metrics must never break a sync.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'onEvent callback threw');
    }
  }
}


function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (issues.length > 3) shown.push(`+${issues.length - 3} more`);
  return shown.join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || '(root)';
}
