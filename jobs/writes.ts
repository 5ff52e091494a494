/**
 * The write-back queue on BullMQ: the adapter between src/writes/ (the outbox relay of relay.ts
 * and the delivery of deliver.ts, both free of BullMQ) and a Queue and its Worker.
 *
 * The WriteQueue port: one job per row, jobId `outbox-<id>`. The processor calls deliverJob()
 * and maps its outcome onto BullMQ: a retry moves the job to delayed (Retry-After or backoff;
 * BullMQ's own attempts are not used, the row counts them), a final failure ends the job with
 * UnrecoverableError so the dashboard lists it.
 *
 * Two ways to run it: startWriteQueue(opts) starts relay, reconciliation and worker at once (it
 * watches Redis reconnects itself); createWritesModule(ctx), in QUEUE_MODULES of
 * jobs/runtime.ts, opens its own store (DATABASE_URL: SQLite or PostgreSQL) and client, records
 * `leeloo_sync_writes_total{kind,outcome}` and the outbox gauge, and reconciles on every Redis reconnect through registerSchedulers.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Env } from '../src/config.js';
import { openStore } from '../src/db/store/index.js';
import type { Store } from '../src/db/store/types.js';
import { errorMessage } from '../src/errors.js';
import { createClientFromEnv, type LeelooClient } from '../src/leeloo/client.js';
import type { Logger } from '../src/log.js';
import { redact } from '../src/secrets.js';
import { DEFAULT_WRITE_BACKOFF, type WriteBackoff } from '../src/writes/backoff.js';
import { deliverJob } from '../src/writes/deliver.js';
import { registerWriteMetrics } from '../src/writes/metrics.js';
import { OutboxRelay, type WriteQueue } from '../src/writes/relay.js';
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

/** The tuning is for tests only. */
export interface StartWriteQueueOptions extends Partial<WriteQueueTuning> {
  /** ioredis options or instance (maxRetriesPerRequest: null). */
  connection: ConnectionOptions | Redis;
  /** REDIS_PREFIX. */
  prefix: string;
  /** An open store; it stays the caller's to close. */
  store: Store;
  /** This process in BullMQ (a job's processedBy, bull-board), as the sync worker's name. */
  workerName?: string;
  /** With the shared (Redis-backed) rate limiter. */
  client: LeelooClient;
  /** WRITE_MAX_ATTEMPTS. */
  env: Env;
  logger: Logger;
  /** Metrics: succeeded, retry, rate_limited, failed, dead, ambiguous. */
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

interface Core extends WriteQueueHandle {
  outbox: OutboxRelay;
  /** Starts the relay and reconcile timers (idempotent). */
  startLoops(): void;
}

/** The BullMQ job id of a row: one job per row, so a row is never queued twice. */
export function jobIdOf(id: number): string {
  return `outbox-${id}`;
}

/** The relay's port onto a BullMQ queue: a row's job is the job with jobId `outbox-<id>`. */
function bullWriteQueue(queue: Queue<WriteJobData>): WriteQueue {
  return {
    ready: async () => (await queue.getBackend().client).status === 'ready',
    async presence(rowId) {
      const s = await queue.getJobState(jobIdOf(rowId));
      return s === 'unknown' ? 'missing' : s === 'completed' || s === 'failed' ? 'finished' : 'live';
    },
    remove: async (rowId) => void (await queue.remove(jobIdOf(rowId))),
    add: async (rows) => void (await queue.addBulk(rows.map((r) => ({ name: r.kind, data: { id: r.id }, opts: { jobId: jobIdOf(r.id) } })))),
  };
}

function buildCore(o: StartWriteQueueOptions & { autorun: boolean }): Core {
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
  const outbox = new OutboxRelay({ store: o.store, queue: bullWriteQueue(queue), logger: log });

  const processor = async (job: Job<WriteJobData>, token?: string): Promise<{ outcome: string }> => {
    const id = Number(job.data?.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new UnrecoverableError(redact(`bad job data: ${JSON.stringify(job.data)}`));
    const jlog = log.child({ jobId: job.id, kind: job.name });
    const d = await deliverJob(o.store, o.client, id, job.name, {
      maxAttempts: o.env.WRITE_MAX_ATTEMPTS,
      backoff: t.backoff,
      run: job.attemptsStarted ?? 1,
      logger: jlog,
      onOutcome: o.onOutcome,
    });
    switch (d.outcome) {
      case 'succeeded':
      case 'skipped':
        return { outcome: d.outcome };
      case 'retry':
        // BullMQ's own attempts are not used (the row counts them): a retry is a delayed job.
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
    ...(o.workerName ? { name: o.workerName } : {}),
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

  const close = async () => {
    await outbox.stop();
    await worker.close();
    await queue.close();
  };
  return { queue, worker, relay: () => outbox.relay(), reconcile: () => outbox.reconcile(), close, outbox, startLoops: () => outbox.start(t) };
}

/** Every (re)connection of the queue's Redis client, the first one too when Redis was down at start. */
function onRedisReady(queue: Queue<WriteJobData>, outbox: OutboxRelay, log: Logger): () => void {
  let off = () => {};
  void queue
    .getBackend()
    .client.then((c) => {
      if (outbox.stopped) return;
      // A restarted Redis may have lost every job: check as soon as it is back.
      const onReady = () => {
        log.info('connected to Redis; reconciling queued writes with the queue');
        void outbox.catchUp();
      };
      c.on('ready', onReady);
      off = () => c.off('ready', onReady);
    })
    .catch(() => undefined);
  return () => off();
}

/** Starts relay, reconciliation and the worker (see the top of this file). */
export async function startWriteQueue(opts: StartWriteQueueOptions): Promise<WriteQueueHandle> {
  const core = buildCore({ ...opts, autorun: true });
  core.startLoops();
  const unwatch = onRedisReady(core.queue, core.outbox, opts.logger.child({ queue: WRITES_QUEUE }));
  // Rows left pending or queued by a previous run (crash, Redis flush) are queued again at start,
  // unless Redis is down: then the ready listener does it when it is back.
  void core.outbox.catchUp();
  const { queue, worker, relay, reconcile } = core;
  return {
    queue,
    worker,
    relay,
    reconcile,
    async close() {
      unwatch();
      await core.close();
    },
  };
}

/** The write queue as a QueueModule of the worker runtime (jobs/runtime.ts, QUEUE_MODULES). */
export async function createWritesModule(ctx: ModuleContext): Promise<QueueModule> {
  // Its own store (connection, or pool), like the sync module's: deliveries do not queue behind a sync's transactions.
  const store = await openStore(ctx.databaseUrl);
  const metrics = registerWriteMetrics(ctx.metrics.registry, store);
  const client = createClientFromEnv(ctx.env, {
    ...ctx.clientOptions,
    rateLimiter: ctx.rateLimiter,
    logger: ctx.logger.child({ queue: WRITES_QUEUE }),
    onEvent: (e) => ctx.metrics.onClientEvent(e),
  });
  const core = buildCore({
    connection: ctx.connection,
    prefix: ctx.prefix,
    store,
    workerName: ctx.workerName,
    client,
    env: ctx.env,
    logger: ctx.logger,
    onOutcome: metrics.onOutcome,
    lockMs: ctx.tuning.lockMs,
    stalledMs: ctx.tuning.stalledMs,
    // The runtime calls worker.run() and closes worker and queue; the loops follow the worker, and
    // its reconnect handling calls registerSchedulers.
    autorun: false,
  });
  core.worker.once('closing', () => void core.outbox.stop());
  core.worker.once('closed', () => {
    void client.close();
    void core.outbox
      .stop()
      .then(() => store.close())
      .catch((err: unknown) => ctx.logger.warn({ queue: WRITES_QUEUE, err: errorMessage(err) }, 'closing the write queue store failed'));
  });
  return {
    name: WRITES_QUEUE,
    queue: core.queue as unknown as Queue,
    worker: core.worker as unknown as Worker,
    // Runs at boot and after every Redis reconnect: exactly when queued rows may have lost their jobs.
    async registerSchedulers() {
      core.startLoops();
      await core.outbox.catchUp();
    },
  };
}
