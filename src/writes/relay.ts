/**
 * The relay between the outbox (the database, the source of truth) and a job queue, free of
 * BullMQ (jobs/writes.ts adapts a BullMQ Queue to WriteQueue).
 *
 * A relay round claims pending rows (pending → queued in one statement, so relays of several
 * workers never take one row twice, see claimPending) and then gives each a job. With the queue
 * down no round starts and rows simply stay pending; a failed add gives the claimed rows back.
 * A crash between the claim and the add leaves queued rows without a job, which is what
 * reconciliation (at start, after every reconnect, every reconcileMs, on every worker) repairs:
 * it re-adds queued rows whose job is gone (Redis flushed or restarted, a relay died) or
 * finished without settling the row.
 */
import type { Store } from '../db/store/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { claimPending, openWriteIds, releaseClaims } from './outbox.js';

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
  store: Store;
  queue: WriteQueue;
  logger: Logger;
  /** Rows per round. Default 100: small, so the first jobs start while a large backlog is still being relayed. */
  batch?: number;
}

interface RowToQueue {
  id: number;
  kind: string;
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
        for await (const r of openWriteIds(this.o.store)) {
          if (r.status !== 'queued') continue;
          batch.push({ id: r.id, kind: r.kind });
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
    const rows = await claimPending(this.o.store, this.batch);
    if (rows.length === 0) return 0;
    try {
      await this.requeue(rows);
    } catch (err) {
      // If this fails too (the database gone as well), the rows stay queued without a job until
      // a reconciliation finds them; the add's error is the one reported.
      await releaseClaims(
        this.o.store,
        rows.map((r) => r.id),
      ).catch(() => undefined);
      throw err;
    }
    this.o.logger.debug({ rows: rows.length }, 'relayed pending writes to the queue');
    return rows.length;
  }

  /**
   * Gives each row a job unless it has a live one: the one re-queue routine of relay and
   * reconcile. Even a row just claimed may have a job: a retried row keeps the job of its first
   * round, and another worker's reconciliation may have seen the claim before our add. A finished
   * job (a row retried after it failed or was cancelled, or one that ended without settling the
   * row) would swallow the add, so it is removed first. Resolves with how many rows got a new job.
   */
  private async requeue(rows: readonly RowToQueue[]): Promise<number> {
    const presence = await Promise.all(rows.map((r) => this.o.queue.presence(r.id)));
    const toAdd: RowToQueue[] = [];
    for (const [i, r] of rows.entries()) {
      if (presence[i] === 'live') continue;
      if (presence[i] === 'finished') await this.o.queue.remove(r.id);
      toAdd.push(r);
    }
    if (toAdd.length > 0) await this.o.queue.add(toAdd.map((r) => ({ id: r.id, kind: r.kind })));
    return toAdd.length;
  }
}
