import { Agent, FormData, type Dispatcher } from 'undici';
import { ApiError, ConfigError, type ApiErrorKind } from '../errors.js';
import { HEADER_SAFE, redact, registerSecret } from '../secrets.js';
import { DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from '../defaults.js';
import { Exchange, Redirect, TooLarge } from './exchange.js';
import { InFlight } from './in-flight.js';
import { parseRetryAfter } from './retry.js';

export { DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS };
export const EXCERPT_MAX = 200;

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface HttpRequest {
  method: HttpMethod;
  /** Path with ids filled in, e.g. `/api/v2/people/5e1c…`; used in errors (never the query). */
  path: string;
  /** Encoded query string without the leading `?`. */
  query?: string;
  json?: unknown;
  /** Sent as multipart/form-data; undefined values are left out. */
  form?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Whether the request changes state: its ambiguous failures are marked `maybeApplied`. */
  write: boolean;
}

export interface HttpResponse {
  status: number;
  /** The parsed JSON envelope, already known to be an object without `status: 0`. */
  body: Record<string, unknown>;
}

export interface HttpTransportOptions {
  /** Without the /api/v2 suffix; a trailing slash is fine. An empty string means the default. @defaultValue {@link DEFAULT_BASE_URL} */
  baseUrl: string;
  token: string;
  /** Whole exchange (connect, headers, body), in ms. @defaultValue {@link DEFAULT_TIMEOUT_MS} (30 s) */
  timeoutMs?: number;
  /** A body past this many bytes fails the call for good (LEELOO_MAX_RESPONSE_BYTES). @defaultValue {@link DEFAULT_MAX_RESPONSE_BYTES} (64 MiB) */
  maxResponseBytes?: number;
  /** For tests or a shared pool; the transport closes only an agent it created. */
  dispatcher?: Dispatcher;
}

/**
 * Errors thrown before the request could reach the server: DNS failure, refused or unreachable
 * connection, connect timeout, a closed client. Safe to resend any request after these.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * One HTTP exchange with the Leeloo API, turned into a parsed envelope or an ApiError. No
 * retries here (see client.ts). Everything that leaves this module in an error is scrubbed of
 * the token; headers are never included.
 */
export class HttpTransport {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** The same for every request (undici does not change the object it is given). */
  private readonly headers: Readonly<Record<string, string>>;
  private readonly target: Target;
  private readonly inFlight: InFlight;

  constructor(opts: HttpTransportOptions) {
    // The client appends /api/v2/…; tolerate `https://host/` and `https://host//`.
    this.baseUrl = (opts.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, '');
    if (opts.token && !HEADER_SAFE.test(opts.token)) {
      throw new ConfigError('the Leeloo API token contains a line break, a control character or a character outside Latin-1: it cannot be sent as a header');
    }
    this.token = opts.token;
    registerSecret(opts.token);
    this.headers = { 'x-leeloo-authtoken': opts.token, accept: 'application/json', 'user-agent': 'leeloo-sync' };
    this.target = targetOf(this.baseUrl);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.inFlight = new InFlight(this.timeoutMs);
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        // Our own deadline (below) covers the whole exchange; these only back it up.
        headersTimeout: this.timeoutMs + 1_000,
        bodyTimeout: this.timeoutMs + 1_000,
        // A connect timeout is reported separately because it proves the request was not sent.
        connect: { timeout: Math.min(this.timeoutMs, 10_000) },
      });
      this.ownsDispatcher = true;
    }
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const path = `${this.target.prefix}${req.path}${req.query ? `?${req.query}` : ''}`;
    let headers = this.headers;
    let body: string | FormData | undefined;
    if (req.form) {
      const fd = new FormData();
      for (const [k, v] of Object.entries(req.form)) if (v !== undefined) fd.append(k, v);
      body = fd; // undici sets the multipart content-type with its boundary
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers = { ...headers, 'content-type': 'application/json' };
    }

    req.signal?.throwIfAborted();
    // undici's dispatch API with a handler that collects the body itself: request() would wrap
    // every answer in a Readable stream, an AsyncResource and an AbortSignal.any, which cost
    // more CPU than parsing the body (bench/cpu-profile.ts, docs/benchmarks.md "CPU per request").
    // The deadline and the caller's abort are watched for all requests at once (in-flight.ts).
    const ex = new Exchange(this.maxResponseBytes);
    const watched = this.inFlight.add(ex, req.signal);
    try {
      if (this.target.error) throw this.target.error;
      // A bare dispatch follows no redirect: a 3xx comes back as is and fails below, so the
      // token header never goes where a Location points.
      this.dispatcher.dispatch({ origin: this.target.origin, path, method: req.method, headers, body }, ex);
      await ex.done;
    } catch (err) {
      if (err instanceof TooLarge) throw this.tooLarge(req, ex.status);
      if (err instanceof Redirect) throw this.redirectError(req, ex.status, ex.location);
      if (req.signal?.aborted) throw req.signal.reason;
      throw this.transportError(req, err, watched.timedOut);
    } finally {
      this.inFlight.done(watched);
    }
    return this.interpret(req, ex.status, ex.text(), ex.retryAfter);
  }

  private tooLarge(req: HttpRequest, status: number): ApiError {
    return new ApiError({
      kind: 'too_large',
      method: req.method,
      path: req.path,
      status,
      message: `response body of ${req.method} ${req.path} exceeds LEELOO_MAX_RESPONSE_BYTES (${this.maxResponseBytes} bytes)`,
      // The server answered: a 4xx refused the write, anything else may have applied it.
      maybeApplied: req.write && !(status >= 400 && status < 500),
    });
  }

  private redirectError(req: HttpRequest, status: number, location: string | string[] | undefined): ApiError {
    const loc = Array.isArray(location) ? location[0] : location;
    let to = 'without a Location';
    if (loc) {
      try {
        to = `to ${this.clean(new URL(loc, this.baseUrl).host.replace(/[^\w.:[\]-]/g, '?'), 100)}`;
      } catch {
        to = 'to an unparseable Location';
      }
    }
    return new ApiError({
      kind: 'redirect',
      method: req.method,
      path: req.path,
      status,
      message: `${req.method} ${req.path} answered HTTP ${status} redirect ${to}; redirects are not followed (check LEELOO_API_URL)`,
      // A 303 after a POST means the server did the work; any 3xx to a write may have.
      maybeApplied: req.write,
    });
  }

  private transportError(req: HttpRequest, err: unknown, timedOut: boolean): ApiError {
    const code = (err as { code?: unknown } | null)?.code;
    const c = typeof code === 'string' ? code : undefined;
    const notSent = c !== undefined && NOT_SENT_CODES.has(c);
    let kind: ApiErrorKind = 'network';
    let detail: string;
    if (timedOut || (c !== undefined && TIMEOUT_CODES.has(c))) {
      kind = 'timeout';
      detail = `no complete answer within ${this.timeoutMs} ms`;
    } else if (c === 'UND_ERR_CONNECT_TIMEOUT') {
      kind = 'timeout';
      detail = 'connect timeout';
    } else {
      const msg = err instanceof Error ? err.message : String(err);
      detail = c && !msg.includes(c) ? `${c}: ${msg}` : msg;
    }
    return new ApiError({
      kind,
      method: req.method,
      path: req.path,
      detail: this.clean(detail, 160),
      maybeApplied: req.write && !notSent,
      cause: err,
    });
  }

  private interpret(req: HttpRequest, status: number, text: string, retryAfterHeader: string | string[] | undefined): HttpResponse {
    // Only failures carry the excerpt: scrubbing a whole body of the token on every answer cost
    // as much as parsing it.
    if (status === 429 || status < 200 || status >= 300) return this.failed(req, status, text, retryAfterHeader);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // 2xx but not JSON: a body cut short by a dropped connection or a proxy page. The server
      // answered 2xx, so a write most likely was applied.
      return fail(new ApiError({ ...this.base(req, status, text), kind: 'bad_json', detail: text.length === 0 ? 'empty body' : 'not valid JSON', maybeApplied: req.write }));
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return fail(new ApiError({ ...this.base(req, status, text), kind: 'schema', detail: 'expected a JSON object {status, data}', maybeApplied: req.write }));
    }
    const env = parsed as Record<string, unknown>;
    // `{"status": 0, "error": {...}}` is a failure whatever the HTTP code (docs/leeloo-api.md, "Errors").
    if (env.status === 0 || env.status === '0' || env.status === false) {
      return fail(new ApiError({ ...this.base(req, status, text), kind: 'api', detail: apiErrorCode(env.error), maybeApplied: false }));
    }
    return { status, body: env };
  }

  private base(req: HttpRequest, status: number, text: string) {
    return { method: req.method, path: req.path, status, bodyExcerpt: this.excerpt(text) };
  }

  /** A 429 or a non-2xx answer. */
  private failed(req: HttpRequest, status: number, text: string, retryAfterHeader: string | string[] | undefined): never {
    const base = this.base(req, status, text);
    const retryAfterMs = parseRetryAfter(retryAfterHeader);
    if (status === 429) {
      // Plain text "Too many requests, please try again later." on the real API; refused before
      // processing, so even a non-idempotent write was not applied.
      return fail(new ApiError({ ...base, kind: 'rate_limited', retryAfterMs, maybeApplied: false }));
    }
    return fail(
      new ApiError({
        ...base,
        kind: 'http',
        retryAfterMs: status >= 500 || status === 408 ? retryAfterMs : undefined,
        // A 4xx is a refusal; a 5xx may come after the server did the work.
        maybeApplied: req.write && status >= 500,
      }),
    );
  }

  /** A single line of at most EXCERPT_MAX characters with the token removed. */
  excerpt(text: string): string | undefined {
    if (!text) return undefined;
    return this.clean(text, EXCERPT_MAX);
  }

  private clean(text: string, max: number): string {
    // Redacted before the whitespace is folded and before the cut, so no part of a secret survives.
    let t = this.token ? text.split(this.token).join('[REDACTED]') : text;
    t = redact(t).replace(/\s+/g, ' ').trim();
    return t.length > max ? `${t.slice(0, max - 1)}…` : t;
  }

  async close(): Promise<void> {
    this.inFlight.close();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

interface Target {
  /** `scheme://host:port` */
  origin: string;
  /** The base URL's own path (without a trailing slash), before /api/v2/… */
  prefix: string;
  error?: Error;
}

function targetOf(baseUrl: string): Target {
  try {
    const u = new URL(baseUrl);
    return { origin: u.origin, prefix: u.pathname.replace(/\/+$/, '') };
  } catch (err) {
    return { origin: '', prefix: '', error: err instanceof Error ? err : new Error(String(err)) };
  }
}

function fail(err: ApiError): never {
  throw err;
}

function apiErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return typeof error === 'string' ? error.slice(0, 80) : undefined;
}

export type QueryValue = string | number | readonly string[] | undefined | null;

/**
 * `key=value` pairs joined with `&`, keys with literal brackets as the docs write them
 * (`filter[last_message][from]`). An array value is one comma-separated list (`include=a,b`,
 * v1 `filter[tags]=a,b`) with literal commas; repeat a key for repeatable parameters.
 */
export function buildQuery(params: readonly (readonly [string, QueryValue])[]): string {
  const out: string[] = [];
  for (const [k, v] of params) {
    if (v === undefined || v === null) continue;
    const value = typeof v === 'string' || typeof v === 'number' ? encodeURIComponent(String(v)) : v.map((x) => encodeURIComponent(x)).join(',');
    out.push(`${encodeKey(k)}=${value}`);
  }
  return out.join('&');
}

function encodeKey(k: string): string {
  return encodeURIComponent(k).replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}
