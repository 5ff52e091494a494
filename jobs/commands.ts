import { Command } from 'commander';
import { EXIT_FAILED, parsePositiveInt, parseStreams, reportFatal } from '../src/cli/common.js';
import type { Env } from '../src/config.js';
import { ConfigError, errorMessage } from '../src/errors.js';
import { DEFAULT_TUNING } from './module.js';
import type { SyncJobData, SyncJobResult } from './queues.js';
import type { startWorker } from './runtime.js';

// bullmq, the runtime (express, bull-board, the engine) and the rest load inside the actions, so
// that defining the commands (`leeloo-sync --help`) costs next to nothing.

export function workerCommand(): Command {
  return new Command('worker')
    .description('run the queue worker: nightly and frequent syncs, sync-now requests, dashboard and /metrics (needs Redis)')
    .option('--lock-ms <ms>', `job and stream lock TTL: how soon a dead worker's job is taken over (default ${DEFAULT_TUNING.lockMs})`)
    .option('--stalled-ms <ms>', `how often to look for jobs of dead workers (default: the lock TTL, at most ${DEFAULT_TUNING.stalledMs})`)
    .action(async (o: { lockMs?: string; stalledMs?: string }) => {
      let runtime: Awaited<ReturnType<typeof startWorker>> | undefined;
      let stopping = false;
      try {
        const lockMs = parsePositiveInt('--lock-ms', o.lockMs, 3_600_000);
        const stalledMs = parsePositiveInt('--stalled-ms', o.stalledMs, 3_600_000);
        if (lockMs !== undefined && lockMs < 500) throw new ConfigError(`--lock-ms must be at least 500 (got ${lockMs})`);
        const [{ loadConfig }, { createLogger }, { startWorker }] = await Promise.all([
          import('../src/config.js'),
          import('../src/log.js'),
          import('./runtime.js'),
        ]);
        const env = loadConfig(process.env, { requireToken: true });
        const logger = createLogger({ level: env.LOG_LEVEL });
        runtime = await startWorker({ env, logger, tuning: { lockMs, stalledMs } });
        const rt = runtime;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(EXIT_FAILED);
          }
          stopping = true;
          logger.info({ signal }, 'signal received');
          // Backstop: whatever hangs, the process is gone shortly after its timeout.
          setTimeout(() => process.exit(EXIT_FAILED), env.WORKER_SHUTDOWN_TIMEOUT_MS + 2000).unref();
          void rt.close(env.WORKER_SHUTDOWN_TIMEOUT_MS).then(
            ({ graceful }) => process.exit(graceful ? 0 : EXIT_FAILED),
            () => process.exit(EXIT_FAILED),
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        await rt.ready;
      } catch (err) {
        // A boot cut short by a signal is not an error: the signal handler reports and exits.
        if (stopping) return;
        await runtime?.close(2000).catch(() => undefined);
        reportFatal(err);
      }
    });
}

/** Adds one sync job for the workers; returns its id and whether an identical request was already queued. */
export async function enqueueSyncNow(env: Env, opts: { streams?: string[]; full?: boolean; reconcile?: boolean }): Promise<{ id: string; deduplicated: boolean }> {
  const [{ Queue }, { silentLogger }, { createRedis, redactRedisUrl, waitForRedis }, { resolveStreams }, { SYNC_JOB_OPTIONS, SYNC_QUEUE, syncNowDeduplicationId }] =
    await Promise.all([import('bullmq'), import('../src/log.js'), import('../src/redis/connection.js'), import('../src/sync/engine.js'), import('./queues.js')]);
  resolveStreams(opts.streams, env); // unknown names are bad input (exit 2), not a failed job later
  const redis = createRedis(env.REDIS_URL, { name: 'sync-now', logger: silentLogger, failFast: true });
  try {
    await waitForRedis(redis, 5000).catch((err: unknown) => {
      throw new Error(`Redis unavailable at ${redactRedisUrl(env.REDIS_URL)}: ${errorMessage(err)}`);
    });
    const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: redis, prefix: env.REDIS_PREFIX, defaultJobOptions: SYNC_JOB_OPTIONS });
    try {
      const data: SyncJobData = { trigger: 'manual', ...(opts.streams ? { streams: opts.streams } : {}), ...(opts.full ? { full: true } : {}), ...(opts.reconcile ? { reconcile: true } : {}) };
      const jobId = `sync-now-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      const job = await queue.add('sync-now', data, {
        jobId,
        // At most one waiting request per stream set and mode; one asked for while the same
        // runs is kept and starts when that run ends (it may have started before the change
        // the user wants to see).
        deduplication: { id: syncNowDeduplicationId(opts.streams, opts.full ?? false, opts.reconcile ?? false), keepLastIfActive: true },
      });
      return { id: String(job.id), deduplicated: job.id !== jobId };
    } finally {
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}

export function syncNowCommand(): Command {
  return new Command('sync-now')
    .description('ask the worker for an immediate sync; prints the job id (needs Redis and a running worker)')
    .option('--streams <names>', 'comma-separated streams (table names) to sync; default all')
    .option('--full', 'ignore cursors and refetch everything, details included')
    .option('--reconcile', 'also list people and channels over all time and re-read the oldest person details (as the nightly job does)')
    .action(async (o: { streams?: string; full?: boolean; reconcile?: boolean }) => {
      try {
        const streams = await parseStreams(o.streams);
        const { loadConfig } = await import('../src/config.js');
        const env = loadConfig(process.env);
        const { id, deduplicated } = await enqueueSyncNow(env, { streams, full: o.full, reconcile: o.reconcile });
        process.stdout.write(`${id}\n`);
        if (deduplicated) process.stderr.write(`leeloo-sync: the same sync was already queued as job ${id}; not added twice\n`);
      } catch (err) {
        reportFatal(err);
      }
    });
}
