/**
 * One delivery attempt of one outbox row: the whole decision logic of the write path, free of
 * BullMQ (jobs/writes.ts maps deliverJob's outcome onto the queue). Exactly one request per
 * attempt (the client is called with `retries: 0`); the outbox row is the source of truth for
 * attempts.
 */
import type { Store } from '../db/store/types.js';
import { ApiError, ValidationError, errorMessage } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Logger } from '../log.js';
import { backoffDelay, DEFAULT_WRITE_BACKOFF, retryDelayFor, type WriteBackoff } from './backoff.js';
import { KIND_INFO } from './operations.js';
import { OPEN_STATUSES } from './statuses.js';
import { operationOf } from './operations.js';
import { reflectWrite } from './reflect.js';
import { closeWithoutAttempt, finishAttempt, getWrite, retryAttemptLater, startAttempt, type OutboxRow } from './outbox.js';
import { normalizeWrite, tagsFor, type NormalizedWrite } from './validate.js';

export type DeliveryOutcome =
  | { outcome: 'succeeded'; response: unknown; /** confirmed by reading the API after an interrupted attempt, not resent */ verified: boolean }
  /** Try again after `delayMs`; `rateLimited`: a 429, which does not count as an attempt. */
  | { outcome: 'retry'; delayMs: number; error: string; rateLimited: boolean }
  | { outcome: 'failed' | 'dead' | 'ambiguous'; error: string }
  /** Nothing to do: the row is gone, finished, cancelled, or another worker claimed it. */
  | { outcome: 'skipped'; status: string };

export interface DeliverOptions {
  /** WRITE_MAX_ATTEMPTS: after this many attempts a retryable failure makes the row `dead`. */
  maxAttempts: number;
  backoff?: WriteBackoff;
  signal?: AbortSignal;
}

const AMBIGUOUS_HINT = 'it may have been applied: check Leeloo, then `leeloo-sync outbox retry ID` to send it again or `outbox cancel ID`';

export async function deliver(store: Store, client: LeelooClient, rowOrId: OutboxRow | number, opts: DeliverOptions): Promise<DeliveryOutcome> {
  // Always re-read: the job may be older than the row's last change (cancel, retry, another worker).
  const row = await getWrite(store, typeof rowOrId === 'number' ? rowOrId : rowOrId.id);
  if (!row) return { outcome: 'skipped', status: 'missing' };
  if (!OPEN_STATUSES.includes(row.status)) return { outcome: 'skipped', status: row.status };

  let w: NormalizedWrite;
  try {
    w = normalizeWrite(row.kind, row.target_id, row.payload, await tagsFor(store, [row.kind]));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // A row inserted by SQL with bad input: refused without a request, like the CLI would.
    return finishWithoutAttempt(store, row, 'failed', err.message);
  }
  const idempotent = KIND_INFO[w.kind].idempotent;
  const op = operationOf(w);

  // inflight_at set: the last attempt's outcome is unknown (the worker died mid-request, or the
  // request failed in a way that may have come after the server did the work).
  const unknown = row.inflight_at !== null;
  if (unknown && !idempotent) {
    return finishWithoutAttempt(store, row, 'ambiguous', `an attempt was interrupted (worker stopped mid-request); ${AMBIGUOUS_HINT}`);
  }
  if (row.attempts >= opts.maxAttempts) {
    return finishWithoutAttempt(store, row, 'dead', `gave up after ${row.attempts} attempts${row.last_error ? `; last error: ${row.last_error}` : ''}`);
  }

  const token = await startAttempt(store, row.id, row.inflight_at);
  if (token === null) return { outcome: 'skipped', status: (await getWrite(store, row.id))?.status ?? 'missing' };
  const attempts = row.attempts + 1;
  const c = { retries: 0, signal: opts.signal };
  try {
    if (unknown && op.verify && (await verified(client, w, op.verify, c))) return succeed(store, row.id, token, w, { verified: true }, true);
  } catch (err) {
    // A failed check leaves the outcome as unknown as before: try again later.
    const error = `checking whether an interrupted attempt took effect failed: ${errorMessage(err)}`;
    const rateLimited = err instanceof ApiError && err.kind === 'rate_limited';
    if (!rateLimited && attempts >= opts.maxAttempts) {
      await finishAttempt(store, row.id, token, 'dead', { error: `gave up after ${attempts} attempts; last error: ${error}` });
      return { outcome: 'dead', error };
    }
    await retryAttemptLater(store, row.id, token, error, { unknown: true, refund: rateLimited });
    return { outcome: 'retry', delayMs: retryDelayFor(err, attempts, opts.backoff), error, rateLimited };
  }
  try {
    const response = await op.send(client, w, c);
    return succeed(store, row.id, token, w, response ?? {}, false);
  } catch (err) {
    return failedAttempt(store, row, token, attempts, err, { idempotent, maxAttempts: opts.maxAttempts, backoff: opts.backoff ?? DEFAULT_WRITE_BACKOFF });
  }
}

export interface DeliverJobOptions extends DeliverOptions {
  /** The how-many-th time the job runs (1 the first time): the backoff of a crashed delivery. */
  run: number;
  logger: Logger;
  /** Metrics: succeeded, retry, rate_limited, failed, dead, ambiguous (nothing for skipped). */
  onOutcome?: (kind: string, outcome: string) => void;
}

/** deliver() as a queue's job runs it: a crash below the API becomes a retry, and the outcome is reported. */
export async function deliverJob(store: Store, client: LeelooClient, id: number, kind: string, o: DeliverJobOptions): Promise<DeliveryOutcome> {
  let d: DeliveryOutcome;
  try {
    d = await deliver(store, client, id, o);
  } catch (err) {
    // Not the API (deliver handles it): e.g. the database locked for longer than busy_timeout, or unreachable.
    // The row records nothing; try the job again later.
    d = { outcome: 'retry', delayMs: backoffDelay(o.run, o.backoff ?? DEFAULT_WRITE_BACKOFF), error: errorMessage(err), rateLimited: false };
    o.logger.warn({ err: d.error }, 'write delivery crashed; retrying');
  }
  if (d.outcome !== 'skipped') {
    try {
      o.onOutcome?.(kind, d.outcome === 'retry' && d.rateLimited ? 'rate_limited' : d.outcome);
    } catch (err) {
      o.logger.warn({ err: errorMessage(err) }, 'onOutcome threw');
    }
  }
  return d;
}

/**
 * Reads the API before resending an idempotent write whose last attempt may have landed, so it is
 * not sent twice. A permanent refusal of the read (e.g. 404) proves nothing: the write is sent and
 * its own answer decides.
 */
async function verified(client: LeelooClient, w: NormalizedWrite, verify: NonNullable<ReturnType<typeof operationOf>['verify']>, c: { retries: number; signal?: AbortSignal }): Promise<boolean> {
  try {
    return await verify(client, w, c);
  } catch (err) {
    if (err instanceof ApiError && err.permanent) return false;
    throw err;
  }
}

async function succeed(store: Store, id: number, token: string, w: NormalizedWrite, response: unknown, verified: boolean): Promise<DeliveryOutcome> {
  const at = new Date().toISOString();
  const ok = await finishAttempt(store, id, token, 'succeeded', { response }, () => reflectWrite(store, w, response, { outboxId: id, at }));
  if (!ok) return { outcome: 'skipped', status: (await getWrite(store, id))?.status ?? 'missing' };
  return { outcome: 'succeeded', response, verified };
}

async function finishWithoutAttempt(store: Store, row: OutboxRow, status: 'failed' | 'dead' | 'ambiguous', error: string): Promise<DeliveryOutcome> {
  // Conditional on the row as read, so a concurrent cancel or worker is not overwritten.
  if (!(await closeWithoutAttempt(store, row.id, row.inflight_at, status, error))) return { outcome: 'skipped', status: (await getWrite(store, row.id))?.status ?? 'missing' };
  return { outcome: status, error };
}

interface FailureContext {
  idempotent: boolean;
  maxAttempts: number;
  backoff: WriteBackoff;
}

async function failedAttempt(store: Store, row: OutboxRow, token: string, attempts: number, err: unknown, x: FailureContext): Promise<DeliveryOutcome> {
  const message = errorMessage(err);
  if (err instanceof ValidationError) {
    await finishAttempt(store, row.id, token, 'failed', { error: message });
    return { outcome: 'failed', error: message };
  }
  if (err instanceof ApiError && err.permanent) {
    // 4xx other than 408/429, or {"status":0} with a 2xx: the API refused it; resending cannot help.
    await finishAttempt(store, row.id, token, 'dead', { error: message, response: apiAnswer(err) });
    return { outcome: 'dead', error: message };
  }
  // Not an ApiError: aborted or a bug somewhere below; whether the request left is unknown.
  const maybeApplied = err instanceof ApiError ? err.maybeApplied : true;
  if (maybeApplied && !x.idempotent) {
    const error = `${message}; ${AMBIGUOUS_HINT}`;
    await finishAttempt(store, row.id, token, 'ambiguous', { error });
    return { outcome: 'ambiguous', error };
  }
  const rateLimited = err instanceof ApiError && err.kind === 'rate_limited';
  if (!rateLimited && attempts >= x.maxAttempts) {
    const error = `gave up after ${attempts} attempts; last error: ${message}`;
    await finishAttempt(store, row.id, token, 'dead', { error, response: err instanceof ApiError ? apiAnswer(err) : undefined });
    return { outcome: 'dead', error };
  }
  // maybeApplied (idempotent here): inflight_at stays set, so the next attempt checks before resending.
  await retryAttemptLater(store, row.id, token, message, { unknown: maybeApplied, refund: rateLimited });
  return { outcome: 'retry', delayMs: retryDelayFor(err, attempts, x.backoff), error: message, rateLimited };
}

/** What the API answered to a refused write, for api_response. */
function apiAnswer(err: ApiError): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: err.kind };
  if (err.status !== undefined) out.http_status = err.status;
  if (err.bodyExcerpt !== undefined) {
    try {
      out.body = JSON.parse(err.bodyExcerpt) as unknown;
    } catch {
      out.body = err.bodyExcerpt;
    }
  }
  return out;
}
