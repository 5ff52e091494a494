/**
 * The write-back queue: relays outbox rows (SQLite, the source of truth) into BullMQ and delivers
 * them with src/writes/deliver.ts.
 *
 * Contract with the worker (jobs/runtime.ts):
 *
 *   startWriteQueue(opts: {
 *     connection: ConnectionOptions | Redis;  // ioredis options or instance (maxRetriesPerRequest: null)
 *     prefix: string;                         // REDIS_PREFIX
 *     mirror: Mirror;                         // open mirror; stays the caller's to close
 *     client: LeelooClient;                   // with the shared (Redis-backed) rate limiter
 *     env: Env;                               // WRITE_MAX_ATTEMPTS
 *     logger: Logger;
 *     onOutcome?: (kind: string, outcome: string) => void;  // metrics: succeeded, retry, rate_limited, failed, dead, ambiguous
 *     // optional tuning, tests only: concurrency, pollMs, reconcileMs, lockMs, stalledMs, backoff
 *   }): Promise<{ queue: Queue; worker: Worker; relay(): Promise<number>; reconcile(): Promise<number>; close(): Promise<void> }>
 *
 * or, as a QueueModule of jobs/module.ts: `createWritesModule(ctx)` in QUEUE_MODULES (it opens
 * its own mirror and client, records `leeloo_sync_writes_total{kind,outcome}` and the outbox
 * gauge, and reconciles on every Redis reconnect through registerSchedulers).
 *
 * How rows move: a relay polls pending rows (every pollMs, and on demand via relay()), adds one
 * job per row with jobId `outbox-<id>` and only then marks the row queued, so with Redis down
 * rows simply stay pending. Reconciliation (at start, after every reconnect, every minute)
 * re-adds queued rows whose job is gone (Redis flushed or restarted) or finished without
 * settling the row. The processor re-reads the row and calls deliver(); a retry moves the job
 * to delayed (Retry-After or backoff; BullMQ's own attempts are not used, the row counts them),
 * a final failure marks the row and ends the job with UnrecoverableError so the dashboard lists it.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Env } from '../src/config.js';
import { openMirror, type Mirror } from '../src/db/connection.js';
import { errorMessage } from '../src/errors.js';
import { createClientFromEnv, type LeelooClient } from '../src/leeloo/client.js';
import type { Logger } from '../src/log.js';
import { redact } from '../src/secrets.js';
import { backoffDelay, DEFAULT_WRITE_BACKOFF, type WriteBackoff } from '../src/writes/backoff.js';
import { deliver, type DeliveryOutcome } from '../src/writes/deliver.js';
import { registerWriteMetrics } from '../src/writes/metrics.js';
import { jobIdOf, markQueued, openWriteIds, pendingWrites } from '../src/writes/store.js';
import type { ModuleContext, QueueModule } from './module.js';

export const WRITES_QUEUE = 'writes';

export interface WriteJobData {
  /** outbound_writes.id; everything else is read from the row when the job runs. */
  id: number;
}

/**
 * attempts 1: retries are moveToDelayed (the row counts attempts, and a re-created job must not
 * start its count over). Finished jobs are evicted by count and age; the row keeps the history.
 */
export const WRITE_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} as const satisfies JobsOptions;

export interface WriteQueueTuning {
  /** Jobs in progress at once; the client's limiter paces the requests. Default 8. */
  concurrency: number;
  /** Relay poll interval. Default 500 ms. */
  pollMs: number;
  /** Interval of the queued-rows-vs-jobs check (it also runs at start and after every reconnect). Default 60 s. */
  reconcileMs: number;
  /** BullMQ job lock: how long a SIGKILLed worker's jobs stay claimed. Default 30 s. */
  lockMs: number;
  /** Stalled-job check interval. Default min(30 s, lockMs). */
  stalledMs: number;
  backoff: WriteBackoff;
}

export interface StartWriteQueueOptions extends Partial<WriteQueueTuning> {
  connection: ConnectionOptions | Redis;
  prefix: string;
  mirror: Mirror;
  client: LeelooClient;
  env: Env;
  logger: Logger;
  onOutcome?: (kind: string, outcome: string) => void;
}

export interface WriteQueueHandle {
  queue: Queue<WriteJobData>;
  worker: Worker<WriteJobData>;
  /** Moves pending rows into the queue now; resolves with how many were handled. */
  relay(): Promise<number>;
  /** Re-adds queued rows whose job is missing; resolves with how many were re-added. */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

/** Rows per relay round: small, so the first jobs start while a large backlog is still being relayed. */
const RELAY_BATCH = 100;

interface Core extends WriteQueueHandle {
  /** Starts the relay and reconcile timers (idempotent). */
  startLoops(): void;
  stopLoops(): Promise<void>;
}

function buildCore(o: StartWriteQueueOptions & { autorun: boolean; watchReconnect: boolean }): Core {
  const t: WriteQueueTuning = {
    concurrency: o.concurrency ?? 8,
    pollMs: o.pollMs ?? 500,
    reconcileMs: o.reconcileMs ?? 60_000,
    lockMs: o.lockMs ?? 30_000,
    stalledMs: o.stalledMs ?? Math.min(30_000, o.lockMs ?? 30_000),
    backoff: o.backoff ?? DEFAULT_WRITE_BACKOFF,
  };
  const log = o.logger.child({ queue: WRITES_QUEUE });
  const queue = new Queue<WriteJobData>(WRITES_QUEUE, { connection: o.connection as ConnectionOptions, prefix: o.prefix, defaultJobOptions: WRITE_JOB_OPTIONS });

  const report = (kind: string, d: DeliveryOutcome) => {
    if (d.outcome === 'skipped') return;
    const outcome = d.outcome === 'retry' && d.rateLimited ? 'rate_limited' : d.outcome;
    try {
      o.onOutcome?.(kind, outcome);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'onOutcome threw');
    }
  };

  const processor = async (job: Job<WriteJobData>, token?: string): Promise<{ outcome: string }> => {
    const id = Number(job.data?.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new UnrecoverableError(redact(`bad job data: ${JSON.stringify(job.data)}`));
    let d: DeliveryOutcome;
    try {
      d = await deliver(o.mirror, o.client, id, { maxAttempts: o.env.WRITE_MAX_ATTEMPTS, backoff: t.backoff });
    } catch (err) {
      // Not the API (deliver handles it): e.g. the database locked for longer than busy_timeout.
      // The row records nothing; try the job again later.
      d = { outcome: 'retry', delayMs: backoffDelay(job.attemptsStarted ?? 1, t.backoff), error: errorMessage(err), rateLimited: false };
      log.warn({ jobId: job.id, err: d.error }, 'write delivery crashed; retrying');
    }
    report(job.name, d);
    const jlog = log.child({ jobId: job.id, kind: job.name });
    switch (d.outcome) {
      case 'succeeded':
      case 'skipped':
        return { outcome: d.outcome };
      case 'retry':
        jlog.info({ delayMs: d.delayMs, err: d.error }, d.rateLimited ? 'write rate limited; waiting for Retry-After' : 'write failed; retrying with backoff');
        await job.moveToDelayed(Date.now() + d.delayMs, token);
        throw new DelayedError();
      default:
        jlog.warn({ outcome: d.outcome, err: d.error }, `write ${d.outcome}`);
        // failedReason lands in Redis and on the dashboard: redacted like everything stored.
        throw new UnrecoverableError(redact(`${d.outcome}: ${d.error}`));
    }
  };

  const worker = new Worker<WriteJobData>(WRITES_QUEUE, processor, {
    connection: o.connection as ConnectionOptions,
    prefix: o.prefix,
    concurrency: t.concurrency,
    autorun: o.autorun,
    lockDuration: t.lockMs,
    stalledInterval: t.stalledMs,
    // A stalled write is safe to run again (deliver checks inflight_at), so stalls never fail a job.
    maxStalledCount: 1_000_000,
    removeOnComplete: WRITE_JOB_OPTIONS.removeOnComplete,
    removeOnFail: WRITE_JOB_OPTIONS.removeOnFail,
  });
  worker.on('error', (err) => log.debug({ err: errorMessage(err) }, 'write worker error'));
  queue.on('error', (err) => log.debug({ err: errorMessage(err) }, 'write queue error'));

  let closed = false;
  const redisReady = async () => (await queue.getBackend().client).status === 'ready';

  /**
   * Adds one job per row. A job left by an earlier round (a row retried after it failed or was
   * cancelled) would swallow the add (same jobId), so finished ones are removed first. Only rows
   * changed since they were inserted can have one; a fresh row's job, if a crash left it behind,
   * is exactly the job wanted, and adding it again is a no-op.
   */
  const addJobs = async (rows: { id: number; kind: string; fresh: boolean }[]): Promise<void> => {
    const toAdd = rows.filter((r) => r.fresh);
    const seen = rows.filter((r) => !r.fresh);
    const states = await Promise.all(seen.map((r) => queue.getJobState(jobIdOf(r.id))));
    for (const [i, r] of seen.entries()) {
      const s = states[i];
      if (s === 'completed' || s === 'failed') await queue.remove(jobIdOf(r.id));
      if (s === 'unknown' || s === 'completed' || s === 'failed') toAdd.push(r);
    }
    if (toAdd.length > 0) await queue.addBulk(toAdd.map((r) => ({ name: r.kind, data: { id: r.id }, opts: { jobId: jobIdOf(r.id) } })));
  };

  let relaying: Promise<number> | undefined;
  const relayOnce = async (): Promise<number> => {
    if (closed || !(await redisReady())) return 0;
    const rows = pendingWrites(o.mirror, RELAY_BATCH);
    if (rows.length === 0) return 0;
    await addJobs(rows.map((r) => ({ id: r.id, kind: r.kind, fresh: r.updated_at === r.created_at })));
    // Only now: if the process dies before this line, the rows are still pending and the next
    // relay finds their jobs (same jobId) instead of adding them twice.
    markQueued(
      o.mirror,
      rows.map((r) => r.id),
    );
    log.debug({ rows: rows.length }, 'relayed pending writes to the queue');
    return rows.length;
  };
  const relay = () =>
    (relaying ??= (async () => {
      let total = 0;
      try {
        for (let n = RELAY_BATCH; n === RELAY_BATCH; total += n) n = await relayOnce();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'relay failed; the rows stay pending and are tried again');
      } finally {
        relaying = undefined;
      }
      return total;
    })());

  let reconciling: Promise<number> | undefined;
  const reconcile = () =>
    (reconciling ??= (async () => {
      let readded = 0;
      try {
        if (closed || !(await redisReady())) return 0;
        let batch: { id: number; kind: string }[] = [];
        const flush = async () => {
          const states = await Promise.all(batch.map((r) => queue.getJobState(jobIdOf(r.id))));
          // Gone (Redis lost it), or finished without settling the row (a race with retry/cancel).
          const finished = batch.filter((_, i) => states[i] === 'completed' || states[i] === 'failed');
          for (const r of finished) await queue.remove(jobIdOf(r.id));
          const lost = batch.filter((_, i) => states[i] === 'unknown').concat(finished);
          if (lost.length > 0) await queue.addBulk(lost.map((r) => ({ name: r.kind, data: { id: r.id }, opts: { jobId: jobIdOf(r.id) } })));
          readded += lost.length;
          batch = [];
        };
        for (const r of openWriteIds(o.mirror)) {
          if (r.status !== 'queued') continue;
          batch.push({ id: r.id, kind: r.kind });
          if (batch.length >= RELAY_BATCH) await flush();
        }
        if (batch.length > 0) await flush();
        if (readded > 0) log.info({ readded }, 'queued writes whose jobs were gone (Redis flushed or restarted, worker crashed) are queued again');
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'reconciling the write queue failed; trying again later');
      } finally {
        reconciling = undefined;
      }
      return readded;
    })());

  let relayTimer: NodeJS.Timeout | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  let readyClient: { off(e: string, l: () => void): unknown } | undefined;
  const startLoops = () => {
    if (relayTimer || closed) return;
    relayTimer = setInterval(() => void relay(), t.pollMs);
    reconcileTimer = setInterval(() => void reconcile(), t.reconcileMs);
    relayTimer.unref();
    reconcileTimer.unref();
    if (!o.watchReconnect) return;
    // A restarted Redis may have lost every job: check as soon as it is back.
    void queue
      .getBackend()
      .client.then((c) => {
        if (closed) return;
        // Every (re)connection, the first one too when Redis was down at start.
        onReady = () => {
          log.info('connected to Redis; reconciling queued writes with the queue');
          void reconcile().then(() => relay());
        };
        c.on('ready', onReady);
        readyClient = c;
      })
      .catch(() => undefined);
  };
  const stopLoops = async () => {
    closed = true;
    clearInterval(relayTimer);
    clearInterval(reconcileTimer);
    if (onReady) readyClient?.off('ready', onReady);
    // An add stuck behind a Redis outage must not hold shutdown forever.
    await Promise.race([Promise.allSettled([relaying, reconciling]), new Promise((r) => setTimeout(r, 2000).unref())]);
  };

  const close = async () => {
    await stopLoops();
    await worker.close();
    await queue.close();
  };
  return { queue, worker, relay, reconcile, close, startLoops, stopLoops };
}

/** Starts relay, reconciliation and the worker; see the contract at the top of this file. */
export async function startWriteQueue(opts: StartWriteQueueOptions): Promise<WriteQueueHandle> {
  const core = buildCore({ ...opts, autorun: true, watchReconnect: true });
  core.startLoops();
  // Rows left pending or queued by a previous run (crash, Redis flush) are queued again at start,
  // unless Redis is down: then the ready listener does it when it is back.
  void core.reconcile().then(() => core.relay());
  const { queue, worker, relay, reconcile, close } = core;
  return { queue, worker, relay, reconcile, close };
}

/** The write queue as a QueueModule of the worker runtime (jobs/runtime.ts, QUEUE_MODULES). */
export function createWritesModule(ctx: ModuleContext): QueueModule {
  const mirror = openMirror(ctx.mirrorPath);
  const metrics = registerWriteMetrics(ctx.metrics.registry, mirror);
  const client = createClientFromEnv(ctx.env, {
    ...ctx.clientOptions,
    rateLimiter: ctx.rateLimiter,
    logger: ctx.logger.child({ queue: WRITES_QUEUE }),
    onEvent: (e) => ctx.metrics.onClientEvent(e),
  });
  const core = buildCore({
    connection: ctx.connection,
    prefix: ctx.prefix,
    mirror,
    client,
    env: ctx.env,
    logger: ctx.logger,
    onOutcome: metrics.onOutcome,
    lockMs: ctx.tuning.lockMs,
    stalledMs: ctx.tuning.stalledMs,
    // The runtime calls worker.run() and closes worker and queue; the loops follow the worker, and
    // its reconnect handling calls registerSchedulers.
    autorun: false,
    watchReconnect: false,
  });
  core.worker.once('closing', () => void core.stopLoops());
  core.worker.once('closed', () => {
    void client.close();
    mirror.close();
  });
  return {
    name: WRITES_QUEUE,
    queue: core.queue as unknown as Queue,
    worker: core.worker as unknown as Worker,
    // Runs at boot and after every Redis reconnect: exactly when queued rows may have lost their jobs.
    async registerSchedulers() {
      core.startLoops();
      await core.reconcile();
      await core.relay();
    },
  };
}
