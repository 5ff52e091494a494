/**
 * The relay between the outbox (SQLite, the source of truth) and a job queue, free of BullMQ
 * (jobs/writes.ts adapts a BullMQ Queue to WriteQueue).
 *
 * A relay round adds one job per pending row and only then marks the rows queued, so with the
 * queue down rows simply stay pending, and a crash between the two leaves rows whose jobs the
 * next round finds instead of adding twice. Reconciliation (at start, after every reconnect,
 * every reconcileMs) re-adds queued rows whose job is gone (Redis flushed or restarted) or
 * finished without settling the row.
 */
import type { Mirror } from '../db/connection.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { markQueued, openWriteIds, pendingWrites } from './outbox.js';

/** What the queue knows of a row's job. */
export type JobPresence =
  /** Waiting, delayed or running: it will deliver the row. */
  | 'live'
  /** Completed or failed; it stays (and blocks a new job for the row) until removed. */
  | 'finished'
  /** No such job. */
  | 'missing';

/** The job queue as the relay needs it: at most one job per outbox row. */
export interface WriteQueue {
  /** Whether the queue can be reached now (a relay round with it down would only fail). */
  ready(): Promise<boolean>;
  presence(rowId: number): Promise<JobPresence>;
  /** Drops a finished job, so the row can have a new one. */
  remove(rowId: number): Promise<void>;
  /** One job per row; a row whose job exists keeps that job (adding it again is a no-op). */
  add(rows: readonly { id: number; kind: string }[]): Promise<void>;
}

export interface RelayOptions {
  mirror: Mirror;
  queue: WriteQueue;
  logger: Logger;
  /** Rows per round. Default 100: small, so the first jobs start while a large backlog is still being relayed. */
  batch?: number;
}

interface RowToQueue {
  id: number;
  kind: string;
  /**
   * Never changed since it was inserted: the row cannot have had a job before, so a job left
   * by a crash before markQueued is exactly the job wanted, and it is added without a check.
   */
  fresh: boolean;
}

export class OutboxRelay {
  private readonly batch: number;
  private closed = false;
  private relaying: Promise<number> | undefined;
  private reconciling: Promise<number> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: RelayOptions) {
    this.batch = o.batch ?? 100;
  }

  /** Moves pending rows into the queue now; resolves with how many were handled. Never rejects. */
  relay(): Promise<number> {
    return (this.relaying ??= (async () => {
      let total = 0;
      try {
        for (let n = this.batch; n === this.batch; total += n) n = await this.relayOnce();
      } catch (err) {
        this.o.logger.warn({ err: errorMessage(err) }, 'relay failed; the rows stay pending and are tried again');
      } finally {
        this.relaying = undefined;
      }
      return total;
    })());
  }

  /** Re-adds queued rows whose job is missing or finished; resolves with how many were re-added. Never rejects. */
  reconcile(): Promise<number> {
    return (this.reconciling ??= (async () => {
      let readded = 0;
      try {
        if (this.closed || !(await this.o.queue.ready())) return 0;
        let batch: RowToQueue[] = [];
        for (const r of openWriteIds(this.o.mirror)) {
          if (r.status !== 'queued') continue;
          batch.push({ id: r.id, kind: r.kind, fresh: false });
          if (batch.length >= this.batch) {
            readded += await this.requeue(batch);
            batch = [];
          }
        }
        if (batch.length > 0) readded += await this.requeue(batch);
        if (readded > 0) this.o.logger.info({ readded }, 'queued writes whose jobs were gone (Redis flushed or restarted, worker crashed) are queued again');
      } catch (err) {
        this.o.logger.warn({ err: errorMessage(err) }, 'reconciling the write queue failed; trying again later');
      } finally {
        this.reconciling = undefined;
      }
      return readded;
    })());
  }

  /** Reconciles, then relays: what a (re)started worker or a reconnected queue needs. */
  async catchUp(): Promise<void> {
    await this.reconcile();
    await this.relay();
  }

  /** Starts the relay and reconcile timers (idempotent). */
  start(t: { pollMs: number; reconcileMs: number }): void {
    if (this.timers.length > 0 || this.closed) return;
    this.timers = [setInterval(() => void this.relay(), t.pollMs), setInterval(() => void this.reconcile(), t.reconcileMs)];
    for (const timer of this.timers) timer.unref();
  }

  /** Stops the timers and waits (at most `graceMs`: an add stuck behind an outage must not hold shutdown) for a round in progress. */
  async stop(graceMs = 2000): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.race([Promise.allSettled([this.relaying, this.reconciling]), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  get stopped(): boolean {
    return this.closed;
  }

  private async relayOnce(): Promise<number> {
    if (this.closed || !(await this.o.queue.ready())) return 0;
    const rows = pendingWrites(this.o.mirror, this.batch);
    if (rows.length === 0) return 0;
    await this.requeue(rows.map((r) => ({ id: r.id, kind: r.kind, fresh: r.updated_at === r.created_at })));
    // Only now: if the process dies before this line, the rows are still pending and the next
    // relay finds their jobs (one per row) instead of adding them twice.
    markQueued(
      this.o.mirror,
      rows.map((r) => r.id),
    );
    this.o.logger.debug({ rows: rows.length }, 'relayed pending writes to the queue');
    return rows.length;
  }

  /**
   * Gives each row a job unless it has a live one: the one re-queue routine of relay and
   * reconcile. A finished job (a row retried after it failed or was cancelled, or one that ended
   * without settling the row) would swallow the add, so it is removed first. Resolves with how
   * many non-fresh rows got a new job.
   */
  private async requeue(rows: readonly RowToQueue[]): Promise<number> {
    const toAdd = rows.filter((r) => r.fresh);
    const seen = rows.filter((r) => !r.fresh);
    const presence = await Promise.all(seen.map((r) => this.o.queue.presence(r.id)));
    let readded = 0;
    for (const [i, r] of seen.entries()) {
      if (presence[i] === 'live') continue;
      if (presence[i] === 'finished') await this.o.queue.remove(r.id);
      toAdd.push(r);
      readded++;
    }
    if (toAdd.length > 0) await this.o.queue.add(toAdd.map((r) => ({ id: r.id, kind: r.kind })));
    return readded;
  }
}
