/**
 * Error types shared by every layer. Each error knows whether retrying can help (`permanent`),
 * so the queues (jobs/) can turn permanent ones into BullMQ's UnrecoverableError without
 * inspecting messages.
 */
import { redact } from './secrets.js';

export abstract class LeelooSyncError extends Error {
  abstract readonly permanent: boolean;
  constructor(message: string, options?: ErrorOptions) {
    // Redacted at construction: the message goes on to logs, sync_runs, the outbox and Redis.
    super(redact(message), options);
  }
}

/** Bad configuration or CLI input: the user must fix something. */
export class ConfigError extends LeelooSyncError {
  readonly permanent = true;
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Input to an outbound write that must never reach the API. The field and what is wrong with it
 * are kept apart, so callers that name the field differently (the CLI says `--person`) never
 * take the message apart; the message is `field: detail`.
 */
export class ValidationError extends LeelooSyncError {
  readonly permanent = true;
  /** What is wrong, without the field: "must be a 24-hex id". Redacted like the message. */
  readonly detail: string;
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'ValidationError';
    this.detail = redact(detail);
  }
}

export type ApiErrorKind =
  | 'http' // non-2xx answer
  | 'api' // HTTP 2xx but {"status": 0, ...}
  | 'rate_limited' // 429
  | 'timeout'
  | 'network' // connection refused/reset/dropped
  | 'bad_json' // truncated or non-JSON body where JSON was expected
  | 'schema' // JSON that does not match the documented shape
  | 'redirect' // a 3xx: never followed, the token must not go to another host
  | 'too_large'; // a body past LEELOO_MAX_RESPONSE_BYTES

/** HTTP statuses the API uses for requests that will fail the same way every time. */
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 409, 410, 413, 422]);

export function isPermanentStatus(status: number): boolean {
  if (PERMANENT_STATUSES.has(status)) return true;
  if (status === 408 || status === 429) return false;
  if (status >= 500) return false;
  return status >= 400;
}

export interface ApiErrorInit {
  kind: ApiErrorKind;
  method: string;
  path: string;
  status?: number;
  bodyExcerpt?: string;
  retryAfterMs?: number;
  /** Whether the request may have been applied by the server before failing (matters for non-idempotent writes). */
  maybeApplied?: boolean;
  detail?: string;
  /** Replaces the composed `METHOD path failed: …` message. */
  message?: string;
  cause?: unknown;
}

/**
 * A failed API call. `path` is the request path without the query's secrets (the token is a
 * header, never part of the path); the body excerpt is capped.
 */
export class ApiError extends LeelooSyncError {
  readonly kind: ApiErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly maybeApplied: boolean;
  readonly permanent: boolean;

  constructor(init: ApiErrorInit) {
    const status = init.status !== undefined ? ` HTTP ${init.status}` : '';
    const bodyExcerpt = init.bodyExcerpt === undefined ? undefined : redact(init.bodyExcerpt);
    const excerpt = bodyExcerpt ? `: ${bodyExcerpt}` : '';
    const detail = init.detail ? ` (${init.detail})` : '';
    super(init.message ?? `${init.method} ${init.path} failed: ${init.kind}${status}${detail}${excerpt}`, {
      cause: init.cause,
    });
    this.name = 'ApiError';
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.bodyExcerpt = bodyExcerpt;
    this.retryAfterMs = init.retryAfterMs;
    this.maybeApplied = init.maybeApplied ?? false;
    this.permanent = ApiError.isPermanentKind(init.kind, init.status);
  }

  static isPermanentKind(kind: ApiErrorKind, status: number | undefined): boolean {
    switch (kind) {
      case 'http':
        return status !== undefined && isPermanentStatus(status);
      case 'api':
        // {"status":0} with HTTP 2xx is the API refusing the request (e.g. FORMAT_ERROR);
        // with a 5xx it is a server fault.
        return status === undefined || status < 500;
      case 'schema':
      case 'redirect':
      case 'too_large':
        return true;
      default:
        return false;
    }
  }
}

/** Whether an unknown thrown value is known to be permanent. Unknown errors are treated as transient. */
export function isPermanent(err: unknown): boolean {
  return err instanceof LeelooSyncError ? err.permanent : false;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
