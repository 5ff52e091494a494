import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Env } from '../src/config.js';
import type { LeelooClientOptions } from '../src/leeloo/client.js';
import type { RateLimiter } from '../src/leeloo/rate-limit.js';
import type { Logger } from '../src/log.js';
import type { Metrics } from '../src/metrics.js';
import type { StreamLocks } from '../src/redis/lock.js';

/** Knobs of the BullMQ worker that tests turn down; production uses the defaults. */
export interface WorkerTuning {
  /**
   * BullMQ job lock and stream-lock TTL: how long a SIGKILLed worker's job and streams stay
   * claimed before another worker takes them over. Default 30 s.
   */
  lockMs: number;
  /** How often each worker looks for jobs whose worker died. Default 30 s. */
  stalledMs: number;
  /** How long a job waits before trying again when its streams are busy. Default lockMs / 2. */
  deferMs: number;
}

export const DEFAULT_TUNING: WorkerTuning = { lockMs: 30_000, stalledMs: 30_000, deferMs: 15_000 };

/** What a queue module gets from the composition root (jobs/runtime.ts). */
export interface ModuleContext {
  env: Env;
  logger: Logger;
  /** Shared worker-side Redis connection (maxRetriesPerRequest: null). */
  connection: Redis;
  /** REDIS_PREFIX: BullMQ's key prefix and the prefix of our own keys. */
  prefix: string;
  metrics: Metrics;
  /** One API budget shared by every worker process (Redis-backed). */
  rateLimiter: RateLimiter;
  locks: StreamLocks;
  /** DATABASE_URL: what the sync opens through the store (SQLite or PostgreSQL). */
  databaseUrl: string;
  /** Aborted when the process begins shutting down: running jobs stop after their current page. */
  shutdownSignal: AbortSignal;
  /** This process in job owner strings and bull-board, e.g. "host:1234". */
  workerName: string;
  tuning: WorkerTuning;
  /** Extra client options (tests shorten the client's retry backoff). */
  clientOptions?: Partial<LeelooClientOptions>;
}

/**
 * One queue and its worker. The sync queue is the first; the write-back outbox (jobs/writes.ts)
 * is meant to be the second: add its factory to QUEUE_MODULES in jobs/runtime.ts and it gets
 * the dashboard, queue-depth metrics, reconnect handling and graceful shutdown for free.
 */
export interface QueueModule {
  name: string;
  queue: Queue;
  worker: Worker;
  /** Idempotent; run at boot and after every Redis reconnect. */
  registerSchedulers(): Promise<void>;
}

/** May be async: a module opening its own database connection (jobs/writes.ts) awaits it. */
export type QueueModuleFactory = (ctx: ModuleContext) => QueueModule | Promise<QueueModule>;
