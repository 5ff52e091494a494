/**
 * The outbox table (outbound_writes) and every status change of its rows. All SQL on the table
 * lives here, written once for both backends; each change is one statement (or one transaction)
 * guarded by the row's status or its attempt token, so the CLI, the relays and the processors
 * of several workers (several machines, on PostgreSQL) may race safely.
 */
import { randomBytes } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { nulFree } from '../db/pg-types.js';
import type { Store } from '../db/store/types.js';
import { ConfigError, ValidationError } from '../errors.js';
import { redact, redactDeep } from '../secrets.js';
import { CANCELLABLE_STATUSES, OPEN_STATUSES, RETRYABLE_STATUSES, WRITE_STATUSES, type WriteStatus } from './statuses.js';
import { normalizeWrite, storedPayload, tagsFor, type TagLookup, type WriteRequest } from './validate.js';

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
/**
 * An error text as last_error keeps it: redacted, and without U+0000 (PostgreSQL's text refuses
 * it, and an error quoting what the API answered may hold one; failing there would leave the
 * attempt's outcome unrecorded).
 */
const errorText = (s: string) => nulFree(redact(s));
/** The status lists are constants of statuses.ts, never input: inlined, so every statement stays one text. */
const inList = (s: readonly string[]) => sql.raw(s.map((x) => `'${x}'`).join(', '));
const p = (name: string) => sql.placeholder(name);

type Counts = { kind: string; status: WriteStatus; n: number };

/** Prepared statements, built once per store. */
class Statements {
  readonly get;
  readonly byKey;
  readonly insert;
  readonly claim;
  readonly open;
  readonly startAttempt;
  readonly finish;
  readonly retryLater;
  readonly close;
  readonly retry;
  readonly cancel;
  readonly counts;

  constructor(store: Store) {
    this.get = store.prepare<OutboxRow>(sql`SELECT * FROM outbound_writes WHERE id = ${p('id')}`);
    this.byKey = store.prepare<OutboxRow>(sql`SELECT * FROM outbound_writes WHERE idempotency_key = ${p('key')}`);
    this.insert = store.prepare<OutboxRow>(
      sql`INSERT INTO outbound_writes (kind, target_id, payload, idempotency_key, created_at, updated_at)
          VALUES (${p('kind')}, ${p('target')}, ${p('payload')}, ${p('key')}, ${p('now')}, ${p('now')}) RETURNING *`,
    );
    // One statement, so the claim is atomic on both backends: PostgreSQL's SKIP LOCKED hands
    // each relay rows no other relay is claiming; SQLite's single writer runs one at a time. The
    // outer status check is the guard of every other status change: only a row still pending
    // moves. MATERIALIZED: as a plain `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` PostgreSQL
    // may run the subquery again per row, each run skipping the rows the last one locked, and
    // claim far more than n.
    this.claim = store.prepare<{ id: number; kind: string }>(
      sql`WITH claim AS MATERIALIZED (SELECT id FROM outbound_writes WHERE status = 'pending' ORDER BY id LIMIT ${p('limit')}${store.skipLocked})
          UPDATE outbound_writes SET status = 'queued', updated_at = ${p('now')}
          WHERE status = 'pending' AND id IN (SELECT id FROM claim)
          RETURNING id, kind`,
    );
    this.open = store.prepare<{ id: number; kind: string; status: WriteStatus }>(
      sql`SELECT id, kind, status FROM outbound_writes WHERE status IN (${inList(OPEN_STATUSES)}) AND id > ${p('after')} ORDER BY id LIMIT ${p('limit')}`,
    );
    // Counts the attempt and records that its outcome is unknown until finish/retryLater. A 429 is
    // given back by retryLater (refused before processing, so not a delivery attempt).
    this.startAttempt = store.prepare(
      sql`UPDATE outbound_writes SET attempts = attempts + 1, inflight_at = ${p('token')}, updated_at = ${p('now')}
          WHERE id = ${p('id')} AND status IN (${inList(OPEN_STATUSES)}) AND inflight_at IS NOT DISTINCT FROM ${p('prev')}`,
    );
    // Matched on the attempt's token, not the status: if the row was cancelled while the request
    // was on its way, what the API did still wins.
    this.finish = store.prepare(
      sql`UPDATE outbound_writes SET status = ${p('status')}, inflight_at = NULL, last_error = coalesce(${p('error')}, last_error),
            api_response = coalesce(${p('response')}, api_response), updated_at = ${p('now')}, completed_at = ${p('now')}
          WHERE id = ${p('id')} AND inflight_at = ${p('token')}`,
    );
    this.retryLater = store.prepare(
      sql`UPDATE outbound_writes SET inflight_at = CASE WHEN ${p('keep')} = 1 THEN inflight_at ELSE NULL END, attempts = attempts - ${p('refund')},
            last_error = ${p('error')}, updated_at = ${p('now')}
          WHERE id = ${p('id')} AND inflight_at = ${p('token')}`,
    );
    this.close = store.prepare(
      sql`UPDATE outbound_writes SET status = ${p('status')}, inflight_at = NULL, last_error = ${p('error')}, updated_at = ${p('now')}, completed_at = ${p('now')}
          WHERE id = ${p('id')} AND status IN (${inList(OPEN_STATUSES)}) AND inflight_at IS NOT DISTINCT FROM ${p('prev')}`,
    );
    this.retry = store.prepare(
      sql`UPDATE outbound_writes SET status = 'pending', attempts = 0, inflight_at = NULL, completed_at = NULL, updated_at = ${p('now')}
          WHERE id = ${p('id')} AND status IN (${inList(RETRYABLE_STATUSES)})`,
    );
    this.cancel = store.prepare(
      sql`UPDATE outbound_writes SET status = 'cancelled', updated_at = ${p('now')}, completed_at = ${p('now')}
          WHERE id = ${p('id')} AND status IN (${inList(CANCELLABLE_STATUSES)})`,
    );
    this.counts = store.prepare<Counts>(sql`SELECT kind, status, count(*) AS n FROM outbound_writes GROUP BY kind, status`);
  }
}

const cache = new WeakMap<Store, Statements>();

function stmts(store: Store): Statements {
  let s = cache.get(store);
  if (!s) {
    s = new Statements(store);
    cache.set(store, s);
  }
  return s;
}

/**
 * Validates a write request (ids, phones, order status, required fields; tag names resolved
 * through the mirrored tags table) and adds it to the outbox as `pending`. Bad input throws a
 * ValidationError naming the field, and nothing is stored.
 */
export async function enqueueWrite(store: Store, req: WriteRequest, opts: EnqueueOptions = {}): Promise<OutboxRow> {
  return insertOne(store, req, opts, await tagsFor(store, [req.kind]));
}

/** Several requests at once: all are validated first, then stored in one transaction (all or none). */
export async function enqueueWrites(
  store: Store,
  reqs: readonly (WriteRequest & { idempotencyKey?: string })[],
  opts: Omit<EnqueueOptions, 'idempotencyKey'> = {},
): Promise<OutboxRow[]> {
  const tags = await tagsFor(
    store,
    reqs.map((r) => r.kind),
  );
  return store.transaction(async () => {
    const out: OutboxRow[] = [];
    for (const [i, r] of reqs.entries()) {
      try {
        out.push(await insertOne(store, r, { ...opts, idempotencyKey: r.idempotencyKey }, tags));
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(`[${i}].${err.field}`, err.detail);
        throw err;
      }
    }
    return out;
  });
}

async function insertOne(store: Store, req: WriteRequest, opts: EnqueueOptions, tags: TagLookup): Promise<OutboxRow> {
  const s = stmts(store);
  const w = normalizeWrite(req.kind, req.target, req.payload, tags);
  const key = opts.idempotencyKey === undefined ? null : opts.idempotencyKey.trim();
  if (key === '') throw new ValidationError('idempotency_key', 'must not be empty');
  if (key !== null) {
    const existing = await s.byKey.get({ key });
    if (existing) {
      if (opts.ifExists === 'return') return existing;
      throw new ValidationError('idempotency_key', `"${key}" was already used by write #${existing.id} (${existing.status})`);
    }
  }
  const row = await s.insert.get({ kind: w.kind, target: w.target, payload: JSON.stringify(storedPayload(w)), key, now: now() });
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export function getWrite(store: Store, id: number): Promise<OutboxRow | undefined> {
  return stmts(store).get.get({ id });
}

export interface ListFilter {
  status?: WriteStatus;
  kind?: string;
  limit?: number;
}

/** Newest first. */
export function listWrites(store: Store, f: ListFilter = {}): Promise<OutboxRow[]> {
  const where: SQL[] = [];
  if (f.status) {
    if (!(WRITE_STATUSES as readonly string[]).includes(f.status)) throw new ConfigError(`status must be one of ${WRITE_STATUSES.join(', ')} (got "${f.status}")`);
    where.push(sql`status = ${f.status}`);
  }
  if (f.kind) where.push(sql`kind = ${f.kind}`);
  const filter = where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql.empty();
  return store.all<OutboxRow>(sql`SELECT * FROM outbound_writes ${filter} ORDER BY id DESC LIMIT ${f.limit ?? 50}`);
}

/** Rows per kind and status (for metrics and the dashboard). */
export function countWrites(store: Store): Promise<Counts[]> {
  return stmts(store).counts.all();
}

/**
 * `outbox retry ID`: a failed, dead, ambiguous or cancelled row goes back to pending with a
 * fresh round of attempts. For an ambiguous row this is the user's decision that sending it
 * again is right.
 */
export async function retryWrite(store: Store, id: number): Promise<OutboxRow> {
  const row = await mustGet(store, id);
  if ((await stmts(store).retry.run({ id, now: now() })) === 0) {
    throw new ConfigError(`write #${id} is ${row.status}; only ${RETRYABLE_STATUSES.join(', ')} writes can be retried`);
  }
  return mustGet(store, id);
}

/** `outbox cancel ID`: the worker will not send it (an attempt already on its way still records its outcome). */
export async function cancelWrite(store: Store, id: number): Promise<OutboxRow> {
  const row = await mustGet(store, id);
  if ((await stmts(store).cancel.run({ id, now: now() })) === 0) {
    throw new ConfigError(`write #${id} is ${row.status}; only ${CANCELLABLE_STATUSES.join(', ')} writes can be cancelled`);
  }
  return mustGet(store, id);
}

async function mustGet(store: Store, id: number): Promise<OutboxRow> {
  const row = await getWrite(store, id);
  if (!row) throw new ConfigError(`no write #${id} in the outbox`);
  return row;
}

// ---------------------------------------------------------------- used by the worker

/**
 * Claims up to `limit` of the oldest pending rows for this relay: pending → queued in one
 * statement, so two relays (two machines on one PostgreSQL, or two processes on one SQLite
 * file) never claim one row twice. Oldest first.
 */
export async function claimPending(store: Store, limit: number): Promise<{ id: number; kind: string }[]> {
  const rows = await stmts(store).claim.all({ limit, now: now() });
  // RETURNING gives the rows in no promised order.
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Gives claimed rows back (queued → pending) when their jobs could not be added, so the next
 * round claims them again; a row that moved on meanwhile (cancelled, or delivered by a job that
 * another relay's reconciliation added) is left alone. Returns how many went back.
 */
export function releaseClaims(store: Store, ids: readonly number[]): Promise<number> {
  // One statement, not a transaction of many: a SQLite transaction would hold the file's only
  // writer across awaits (rare path, so not a prepared statement).
  return store.run(
    sql`UPDATE outbound_writes SET status = 'pending', updated_at = ${now()} WHERE status = 'queued' AND id IN (${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )})`,
  );
}

/** Ids of every pending or queued row (reconciliation with the queue), in pages. */
export async function* openWriteIds(store: Store, page = 1000): AsyncGenerator<{ id: number; kind: string; status: WriteStatus }> {
  let after = 0;
  for (;;) {
    const rows = await stmts(store).open.all({ after, limit: page });
    yield* rows;
    if (rows.length < page) return;
    after = (rows.at(-1) as { id: number }).id;
  }
}

/**
 * Claims an attempt: counts it and sets inflight_at to a fresh token, only if the row is still
 * open and nobody claimed it since `prev` (its inflight_at as read). Returns the token or null.
 */
export async function startAttempt(store: Store, id: number, prev: string | null): Promise<string | null> {
  const t = now();
  const token = `${t} ${randomBytes(4).toString('hex')}`;
  return (await stmts(store).startAttempt.run({ id, token, prev, now: t })) > 0 ? token : null;
}

/** Records an attempt's final outcome; `apply` (the mirror update) runs in the same transaction. */
export function finishAttempt(
  store: Store,
  id: number,
  token: string,
  status: Exclude<WriteStatus, 'pending' | 'queued' | 'cancelled'>,
  detail: { error?: string; response?: unknown },
  apply?: () => Promise<void>,
): Promise<boolean> {
  const s = stmts(store);
  return store.transaction(async () => {
    const changed = await s.finish.run({
      id,
      token,
      status,
      // Redacted: an answer may echo the token back, and these columns are read by anyone.
      error: detail.error === undefined ? null : errorText(detail.error),
      response: detail.response === undefined ? null : JSON.stringify(redactDeep(detail.response)),
      now: now(),
    });
    if (changed > 0 && apply) await apply();
    return changed > 0;
  });
}

/** Gives an open row a final status without sending anything (bad input, attempts used up). */
export async function closeWithoutAttempt(store: Store, id: number, prev: string | null, status: 'failed' | 'dead' | 'ambiguous', error: string): Promise<boolean> {
  return (await stmts(store).close.run({ id, prev, status, error: errorText(error), now: now() })) > 0;
}

/**
 * Records a failed attempt that will be retried. `unknown`: the request may have been applied
 * (inflight_at stays set, so the next attempt checks before resending); `refund`: it was refused
 * before processing (429) and does not count as an attempt.
 */
export async function retryAttemptLater(store: Store, id: number, token: string, error: string, o: { unknown: boolean; refund: boolean }): Promise<boolean> {
  return (await stmts(store).retryLater.run({ id, token, keep: o.unknown ? 1 : 0, refund: o.refund ? 1 : 0, error: errorText(error), now: now() })) > 0;
}
