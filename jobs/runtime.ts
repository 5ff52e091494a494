import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Env } from '../src/config.js';
import { QUEUES_PATH, startDashboard, type Dashboard } from '../src/dashboard/app.js';
import { dashboardAccess } from '../src/dashboard/auth.js';
import { lastSuccessFrom } from '../src/dashboard/mirror.js';
import { dashboardStore, type DashboardStore, type OpenMirror } from '../src/dashboard/store.js';
import { databaseKind, parseDatabaseUrl } from '../src/db/location.js';
import { openStore, type Store } from '../src/db/store/index.js';
import { errorMessage } from '../src/errors.js';
import type { LeelooClientOptions } from '../src/leeloo/client.js';
import type { Logger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { createRedis, withTimeout } from '../src/redis/connection.js';
import { StreamLocks } from '../src/redis/lock.js';
import { sharedRateLimiter } from '../src/redis/rate-limiter.js';
import { loadLearnedRate } from '../src/sync/rate-limit-finding.js';
import { lastSuccess } from '../src/sync/run-log.js';
import { queueBoard } from './board.js';
import { DEFAULT_TUNING, type ModuleContext, type QueueModule, type QueueModuleFactory, type WorkerTuning } from './module.js';
import { createSyncModule } from './sync.js';
import { createWritesModule } from './writes.js';

/** The queues this worker serves: scheduled and requested syncs, and the write-back outbox. */
export const QUEUE_MODULES: QueueModuleFactory[] = [createSyncModule, createWritesModule];

export interface WorkerRuntimeOptions {
  env: Env;
  logger: Logger;
  tuning?: Partial<WorkerTuning>;
  /** Default "<hostname>:<pid>". */
  name?: string;
  modules?: QueueModuleFactory[];
  /** Start the dashboard (default true). */
  dashboard?: boolean;
  clientOptions?: Partial<LeelooClientOptions>;
  /** SQLite: how the read-only store the scrape and the dashboard share is opened (tests count the opens). */
  openMirror?: OpenMirror;
}

export interface WorkerRuntime {
  name: string;
  modules: QueueModule[];
  queues: Queue[];
  metrics: Metrics;
  dashboard: Dashboard | undefined;
  /** Resolves once the schedulers are registered (i.e. Redis answered) and the workers run. */
  ready: Promise<void>;
  /**
   * Stops taking jobs, lets running ones checkpoint and hand their job back, closes
   * everything. `graceful` is false when the running jobs did not stop within `timeoutMs`.
   */
  close(timeoutMs?: number): Promise<{ graceful: boolean }>;
}

/** Logs BullMQ's repeated connection errors once per message per minute, not once per retry. */
function throttledErrorLog(logger: Logger, what: string) {
  const last = new Map<string, number>();
  return (err: Error) => {
    const msg = errorMessage(err);
    const now = Date.now();
    if ((last.get(msg) ?? 0) > now - 60_000) return;
    last.set(msg, now);
    if (/^Missing key for job/.test(msg)) {
      // The job vanished from Redis under a running worker: Redis restarted without persistence
      // or was flushed. What the run wrote is in the mirror; the next trigger continues from it.
      logger.warn({ err: msg }, 'a running job vanished from Redis (restarted without persistence?); its synced data is kept in the mirror');
      return;
    }
    logger.warn({ err: msg }, `${what} error`);
  };
}

/** The worker process: queues, workers, schedulers, shared rate limit, dashboard and metrics. */
export async function startWorker(opts: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const { env, logger } = opts;
  const lockMs = opts.tuning?.lockMs ?? DEFAULT_TUNING.lockMs;
  const tuning: WorkerTuning = {
    lockMs,
    stalledMs: opts.tuning?.stalledMs ?? Math.min(DEFAULT_TUNING.stalledMs, lockMs),
    deferMs: opts.tuning?.deferMs ?? Math.max(500, Math.min(DEFAULT_TUNING.deferMs, Math.floor(lockMs / 2))),
  };
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const withDashboard = opts.dashboard !== false;
  // Refuse an exposed dashboard before touching anything else (exit 2).
  if (withDashboard) dashboardAccess(env);

  // Create the database and apply migrations once, before any job opens it (on PostgreSQL under
  // an advisory lock, so workers booting together migrate once).
  const boot = await openStore(env.DATABASE_URL, { poolSize: 2 });
  // The shared learned rate lives in Redis; the mirror's copy seeds it after a Redis flush.
  const learned = await loadLearnedRate(boot);
  // PostgreSQL: the boot store (a small pool) stays open for the /metrics scrape, which would
  // otherwise connect and authenticate on every scrape. SQLite: the boot store (read-write) is
  // closed, and the scrape reads through the dashboard's read-only store, opened at the first
  // scrape or page that finds the file (and again if the file is replaced), not once per scrape.
  const isPg = databaseKind(env.DATABASE_URL) === 'postgres';
  const scrapeStore: Store | undefined = isPg ? boot : undefined;
  if (!isPg) await boot.close();
  // What the dashboard reads: the SQLite file, or the postgres:// URL.
  const parsed = parseDatabaseUrl(env.DATABASE_URL);
  const mirrorPath = isPg || 'problem' in parsed ? env.DATABASE_URL : parsed.path;
  // Owned here, not by the dashboard: the scrape needs it without a dashboard too.
  const sharedMirror: DashboardStore | undefined = isPg ? undefined : dashboardStore(mirrorPath, opts.openMirror);

  let modules: QueueModule[] = [];
  let reRegister: () => void = () => {};
  const connection = createRedis(env.REDIS_URL, { name: 'worker', logger, onReconnect: () => reRegister() });
  const limiterConnection = createRedis(env.REDIS_URL, { name: 'rate-limiter', logger, failFast: true });
  const metrics = new Metrics();
  const shutdown = new AbortController();
  // One listener per running job (every stream's sync, the write deliveries): more than Node's
  // default of 10 is normal here, each removed when its job ends.
  setMaxListeners(0, shutdown.signal);
  const ctx: ModuleContext = {
    env,
    logger,
    connection,
    prefix: env.REDIS_PREFIX,
    metrics,
    rateLimiter: sharedRateLimiter(env, limiterConnection, logger, learned),
    locks: new StreamLocks({ redis: connection, prefix: env.REDIS_PREFIX, ttlMs: tuning.lockMs, logger }),
    databaseUrl: env.DATABASE_URL,
    shutdownSignal: shutdown.signal,
    workerName: name,
    tuning,
    clientOptions: opts.clientOptions,
  };
  modules = await Promise.all((opts.modules ?? QUEUE_MODULES).map((make) => make(ctx)));
  const queues = modules.map((m) => m.queue);
  for (const m of modules) {
    const mlog = logger.child({ queue: m.name });
    m.queue.on('error', throttledErrorLog(mlog, 'queue'));
    m.worker.on('error', throttledErrorLog(mlog, 'worker'));
    m.worker.on('stalled', (jobId) => mlog.warn({ jobId }, 'job stalled (its worker stopped renewing the lock); re-queued for another worker'));
    m.worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
      if (final) mlog.error({ jobId: job.id, job: job.name, attempts: job.attemptsMade, err: err.message }, 'job failed for good');
    });
  }

  metrics.setSources({
    // Bounded: a scrape while Redis is down answers without queue depths instead of hanging.
    queueDepths: async () => {
      const out: Record<string, Record<string, number>> = {};
      for (const m of modules) {
        out[m.name] = await withTimeout(m.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'), 1000, 'queue depth');
      }
      return out;
    },
    // Bounded too: a PostgreSQL server that stopped answering must not hang the scrape.
    lastSuccess: () => (scrapeStore ? withTimeout(lastSuccess(scrapeStore), 1000, 'last success') : sharedMirror ? lastSuccessFrom(sharedMirror) : {}),
    rateLimit: () => ctx.rateLimiter.snapshot?.(),
  });
  if (env.LEELOO_RATE_LIMIT === 'auto') {
    logger.info({ startRate: ctx.rateLimiter.snapshot?.().rate, learned: learned?.ceiling ?? null, max: env.LEELOO_RATE_LIMIT_MAX }, 'rate limit: auto (learned from 429s, shared by all workers through Redis)');
  }

  const dashboard = withDashboard
    ? await startDashboard({ env, mirrorPath, mirror: sharedMirror, metrics, logger, board: queueBoard(queues, QUEUES_PATH) })
    : undefined;

  const registerAll = async () => {
    for (const m of modules) await m.registerSchedulers();
  };
  reRegister = () => {
    if (shutdown.signal.aborted) return;
    // Our running streams first, then the schedulers (which may enqueue work for them).
    ctx.locks
      .renewAll()
      .then(registerAll)
      .then(
      () => logger.info('job schedulers re-registered after reconnecting to Redis'),
      (err: unknown) => logger.error({ err: errorMessage(err) }, 'could not re-register job schedulers'),
    );
  };

  const ready = (async () => {
    await registerAll();
    for (const m of modules) {
      // run() resolves only when the worker closes.
      m.worker.run().catch((err: unknown) => logger.error({ queue: m.name, err: errorMessage(err) }, 'worker stopped'));
      await m.worker.waitUntilReady();
    }
    logger.info({ worker: name, queues: modules.map((m) => m.name), dashboard: dashboard?.url }, 'worker ready');
  })();

  let closing: Promise<{ graceful: boolean }> | undefined;
  const close = (timeoutMs = env.WORKER_SHUTDOWN_TIMEOUT_MS) =>
    (closing ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      logger.info({ timeoutMs }, 'shutting down: no new jobs; running syncs stop after their current page');
      shutdown.abort(new Error('worker shutting down'));
      // Leave a little of the budget for closing connections after the workers.
      const budget = Math.max(0, deadline - Date.now() - Math.min(1000, timeoutMs / 5));
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        Promise.all(modules.map((m) => m.worker.close())).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), budget);
        }),
      ]).finally(() => clearTimeout(timer));
      if (!graceful) {
        logger.error({ timeoutMs }, 'shutdown timed out: abandoning running jobs; another worker takes them over once their lock expires');
      }
      const left = () => Math.max(100, deadline - Date.now());
      await Promise.allSettled([
        ...modules.map((m) => withTimeout(m.queue.close(), left(), 'closing queue')),
        dashboard?.close(),
      ]);
      await Promise.allSettled([
        withTimeout(connection.quit(), left(), 'closing Redis'),
        withTimeout(limiterConnection.quit(), left(), 'closing Redis'),
        scrapeStore && withTimeout(scrapeStore.close(), left(), 'closing the database'),
        sharedMirror && withTimeout(sharedMirror.close(), left(), 'closing the database'),
      ]);
      connection.disconnect();
      limiterConnection.disconnect();
      logger.info({ graceful }, 'worker stopped');
      return { graceful };
    })());

  // A boot that cannot register (e.g. a bad cron) must not leave connections behind.
  ready.catch(() => undefined);
  return { name, modules, queues, metrics, dashboard, ready, close };
}
