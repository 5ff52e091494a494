/**
 * The outbox table (outbound_writes) and every status change of its rows. All SQL on the table
 * lives here; each change is one statement (or one transaction), so the CLI, the worker's relay
 * and its processors may race safely across processes.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Mirror } from '../db/connection.js';
import { ConfigError, ValidationError } from '../errors.js';
import { redact, redactDeep } from '../secrets.js';
import { CANCELLABLE_STATUSES, OPEN_STATUSES, RETRYABLE_STATUSES, WRITE_STATUSES, type WriteStatus } from './statuses.js';
import { mirrorTags, normalizeWrite, storedPayload, type WriteRequest } from './validate.js';

/** A row as SQL users see it. */
export interface OutboxRow {
  id: number;
  kind: string;
  target_id: string | null;
  payload: string;
  status: WriteStatus;
  attempts: number;
  last_error: string | null;
  api_response: string | null;
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  inflight_at: string | null;
}

export interface EnqueueOptions {
  /** Caller's key: a second request with the same key is refused (or answered with the first row, see ifExists). */
  idempotencyKey?: string;
  /** What a repeated idempotency key does: 'error' (default) or 'return' the existing row. */
  ifExists?: 'error' | 'return';
}

const now = () => new Date().toISOString();
const inList = (s: readonly string[]) => s.map((x) => `'${x}'`).join(', ');

/** Prepared statements, built once per database handle. */
class Statements {
  readonly get;
  readonly byKey;
  readonly insert;
  readonly pending;
  readonly open;
  readonly markQueued;
  readonly startAttempt;
  readonly finish;
  readonly retryLater;
  readonly close;
  readonly retry;
  readonly cancel;
  readonly counts;

  constructor(readonly sqlite: Database.Database) {
    this.get = sqlite.prepare<[number], OutboxRow>('SELECT * FROM outbound_writes WHERE id = ?');
    this.byKey = sqlite.prepare<[string], OutboxRow>('SELECT * FROM outbound_writes WHERE idempotency_key = ?');
    this.insert = sqlite.prepare<[string, string, string, string | null, string, string], OutboxRow>(
      `INSERT INTO outbound_writes (kind, target_id, payload, idempotency_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    this.pending = sqlite.prepare<[number], OutboxRow>(`SELECT * FROM outbound_writes WHERE status = 'pending' ORDER BY id LIMIT ?`);
    this.open = sqlite.prepare<[number, number], { id: number; kind: string; status: WriteStatus }>(
      `SELECT id, kind, status FROM outbound_writes WHERE status IN (${inList(OPEN_STATUSES)}) AND id > ? ORDER BY id LIMIT ?`,
    );
    this.markQueued = sqlite.prepare<[string, number]>(`UPDATE outbound_writes SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'pending'`);
    // Counts the attempt and records that its outcome is unknown until finish/retryLater. A 429 is
    // given back by retryLater (refused before processing, so not a delivery attempt).
    this.startAttempt = sqlite.prepare<{ id: number; token: string; prev: string | null; now: string }>(
      `UPDATE outbound_writes SET attempts = attempts + 1, inflight_at = :token, updated_at = :now
       WHERE id = :id AND status IN (${inList(OPEN_STATUSES)}) AND inflight_at IS :prev`,
    );
    // Matched on the attempt's token, not the status: if the row was cancelled while the request
    // was on its way, what the API did still wins.
    this.finish = sqlite.prepare<{ id: number; token: string; status: WriteStatus; error: string | null; response: string | null; now: string }>(
      `UPDATE outbound_writes SET status = :status, inflight_at = NULL, last_error = coalesce(:error, last_error),
         api_response = coalesce(:response, api_response), updated_at = :now, completed_at = :now
       WHERE id = :id AND inflight_at = :token`,
    );
    this.retryLater = sqlite.prepare<{ id: number; token: string; keep: number; refund: number; error: string; now: string }>(
      `UPDATE outbound_writes SET inflight_at = CASE WHEN :keep THEN inflight_at ELSE NULL END, attempts = attempts - :refund,
         last_error = :error, updated_at = :now
       WHERE id = :id AND inflight_at = :token`,
    );
    this.close = sqlite.prepare<{ id: number; prev: string | null; status: WriteStatus; error: string; now: string }>(
      `UPDATE outbound_writes SET status = :status, inflight_at = NULL, last_error = :error, updated_at = :now, completed_at = :now
       WHERE id = :id AND status IN (${inList(OPEN_STATUSES)}) AND inflight_at IS :prev`,
    );
    this.retry = sqlite.prepare<[string, number]>(
      `UPDATE outbound_writes SET status = 'pending', attempts = 0, inflight_at = NULL, completed_at = NULL, updated_at = ?
       WHERE id = ? AND status IN (${inList(RETRYABLE_STATUSES)})`,
    );
    this.cancel = sqlite.prepare<[string, string, number]>(
      `UPDATE outbound_writes SET status = 'cancelled', updated_at = ?, completed_at = ? WHERE id = ? AND status IN (${inList(CANCELLABLE_STATUSES)})`,
    );
    this.counts = sqlite.prepare<[], { kind: string; status: WriteStatus; n: number }>('SELECT kind, status, count(*) AS n FROM outbound_writes GROUP BY kind, status');
  }
}

const cache = new WeakMap<Database.Database, Statements>();

function stmts(m: Mirror): Statements {
  let s = cache.get(m.sqlite);
  if (!s) {
    s = new Statements(m.sqlite);
    cache.set(m.sqlite, s);
  }
  return s;
}

/**
 * Validates a write request (ids, phones, order status, required fields; tag names resolved
 * through the mirrored tags table) and adds it to the outbox as `pending`. Bad input throws a
 * ValidationError naming the field, and nothing is stored.
 */
export function enqueueWrite(mirror: Mirror, req: WriteRequest, opts: EnqueueOptions = {}): OutboxRow {
  return insertOne(mirror, req, opts, mirrorTags(mirror.sqlite));
}

/** Several requests at once: all are validated first, then stored in one transaction (all or none). */
export function enqueueWrites(mirror: Mirror, reqs: readonly (WriteRequest & { idempotencyKey?: string })[], opts: Omit<EnqueueOptions, 'idempotencyKey'> = {}): OutboxRow[] {
  const tags = mirrorTags(mirror.sqlite);
  const run = mirror.sqlite.transaction(() =>
    reqs.map((r, i) => {
      try {
        return insertOne(mirror, r, { ...opts, idempotencyKey: r.idempotencyKey }, tags);
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(`[${i}].${err.field}`, err.detail);
        throw err;
      }
    }),
  );
  return run();
}

function insertOne(mirror: Mirror, req: WriteRequest, opts: EnqueueOptions, tags: ReturnType<typeof mirrorTags>): OutboxRow {
  const s = stmts(mirror);
  const w = normalizeWrite(req.kind, req.target, req.payload, tags);
  const key = opts.idempotencyKey === undefined ? null : opts.idempotencyKey.trim();
  if (key === '') throw new ValidationError('idempotency_key', 'must not be empty');
  if (key !== null) {
    const existing = s.byKey.get(key);
    if (existing) {
      if (opts.ifExists === 'return') return existing;
      throw new ValidationError('idempotency_key', `"${key}" was already used by write #${existing.id} (${existing.status})`);
    }
  }
  const t = now();
  return s.insert.get(w.kind, w.target, JSON.stringify(storedPayload(w)), key, t, t) as OutboxRow;
}

export function getWrite(mirror: Mirror, id: number): OutboxRow | undefined {
  return stmts(mirror).get.get(id);
}

export interface ListFilter {
  status?: WriteStatus;
  kind?: string;
  limit?: number;
}

/** Newest first. */
export function listWrites(mirror: Mirror, f: ListFilter = {}): OutboxRow[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.status) {
    if (!(WRITE_STATUSES as readonly string[]).includes(f.status)) throw new ConfigError(`status must be one of ${WRITE_STATUSES.join(', ')} (got "${f.status}")`);
    where.push('status = ?');
    params.push(f.status);
  }
  if (f.kind) {
    where.push('kind = ?');
    params.push(f.kind);
  }
  const sql = `SELECT * FROM outbound_writes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return mirror.sqlite.prepare(sql).all(...params, f.limit ?? 50) as OutboxRow[];
}

/** Rows per kind and status (for metrics and the dashboard). */
export function countWrites(mirror: Mirror): { kind: string; status: WriteStatus; n: number }[] {
  return stmts(mirror).counts.all();
}

/**
 * `outbox retry ID`: a failed, dead, ambiguous or cancelled row goes back to pending with a
 * fresh round of attempts. For an ambiguous row this is the user's decision that sending it
 * again is right.
 */
export function retryWrite(mirror: Mirror, id: number): OutboxRow {
  const row = mustGet(mirror, id);
  if (stmts(mirror).retry.run(now(), id).changes === 0) {
    throw new ConfigError(`write #${id} is ${row.status}; only ${RETRYABLE_STATUSES.join(', ')} writes can be retried`);
  }
  return mustGet(mirror, id);
}

/** `outbox cancel ID`: the worker will not send it (an attempt already on its way still records its outcome). */
export function cancelWrite(mirror: Mirror, id: number): OutboxRow {
  const row = mustGet(mirror, id);
  const t = now();
  if (stmts(mirror).cancel.run(t, t, id).changes === 0) {
    throw new ConfigError(`write #${id} is ${row.status}; only ${CANCELLABLE_STATUSES.join(', ')} writes can be cancelled`);
  }
  return mustGet(mirror, id);
}

function mustGet(mirror: Mirror, id: number): OutboxRow {
  const row = getWrite(mirror, id);
  if (!row) throw new ConfigError(`no write #${id} in the outbox`);
  return row;
}

// ---------------------------------------------------------------- used by the worker

/** Oldest pending rows, for the relay. */
export function pendingWrites(mirror: Mirror, limit = 500): OutboxRow[] {
  return stmts(mirror).pending.all(limit);
}

/** Ids of every pending or queued row (reconciliation with the queue), in pages. */
export function* openWriteIds(mirror: Mirror, page = 1000): Generator<{ id: number; kind: string; status: WriteStatus }> {
  let after = 0;
  for (;;) {
    const rows = stmts(mirror).open.all(after, page);
    yield* rows;
    if (rows.length < page) return;
    after = (rows.at(-1) as { id: number }).id;
  }
}

/** pending → queued once its job exists; a row that moved on meanwhile is left alone. */
export function markQueued(mirror: Mirror, ids: readonly number[]): number {
  const s = stmts(mirror);
  const t = now();
  let n = 0;
  mirror.sqlite.transaction(() => {
    for (const id of ids) n += s.markQueued.run(t, id).changes;
  })();
  return n;
}

/**
 * Claims an attempt: counts it and sets inflight_at to a fresh token, only if the row is still
 * open and nobody claimed it since `prev` (its inflight_at as read). Returns the token or null.
 */
export function startAttempt(mirror: Mirror, id: number, prev: string | null): string | null {
  const t = now();
  const token = `${t} ${randomBytes(4).toString('hex')}`;
  return stmts(mirror).startAttempt.run({ id, token, prev, now: t }).changes > 0 ? token : null;
}

/** Records an attempt's final outcome; `apply` (the mirror update) runs in the same transaction. */
export function finishAttempt(
  mirror: Mirror,
  id: number,
  token: string,
  status: Exclude<WriteStatus, 'pending' | 'queued' | 'cancelled'>,
  detail: { error?: string; response?: unknown },
  apply?: () => void,
): boolean {
  const s = stmts(mirror);
  let applied = false;
  mirror.sqlite.transaction(() => {
    const r = s.finish.run({
      id,
      token,
      status,
      // Redacted: an answer may echo the token back, and these columns are read by anyone.
      error: detail.error === undefined ? null : redact(detail.error),
      response: detail.response === undefined ? null : JSON.stringify(redactDeep(detail.response)),
      now: now(),
    });
    applied = r.changes > 0;
    if (applied && apply) apply();
  })();
  return applied;
}

/** Gives an open row a final status without sending anything (bad input, attempts used up). */
export function closeWithoutAttempt(mirror: Mirror, id: number, prev: string | null, status: 'failed' | 'dead' | 'ambiguous', error: string): boolean {
  return stmts(mirror).close.run({ id, prev, status, error: redact(error), now: now() }).changes > 0;
}

/**
 * Records a failed attempt that will be retried. `unknown`: the request may have been applied
 * (inflight_at stays set, so the next attempt checks before resending); `refund`: it was refused
 * before processing (429) and does not count as an attempt.
 */
export function retryAttemptLater(mirror: Mirror, id: number, token: string, error: string, o: { unknown: boolean; refund: boolean }): boolean {
  return stmts(mirror).retryLater.run({ id, token, keep: o.unknown ? 1 : 0, refund: o.refund ? 1 : 0, error: redact(error), now: now() }).changes > 0;
}
