import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { openStore, STORE_RETRY_MESSAGE } from '../src/db/store/index.js';
import { ConfigError, errorMessage } from '../src/errors.js';
import { createClientFromEnv, type ClientEvent } from '../src/leeloo/client.js';
import { redact, redactedError } from '../src/secrets.js';
import type { JobOutcome } from '../src/metrics.js';
import { countClientEvent } from '../src/sync/context.js';
import { resolveStreams, runSync, type RunResult } from '../src/sync/engine.js';
import type { ModuleContext, QueueModule } from './module.js';
import { SYNC_JOB_OPTIONS, SYNC_QUEUE, syncJobDataSchema, type SyncJobData, type SyncJobResult } from './queues.js';
import { registerSyncSchedulers } from './schedulers.js';

export type RunVerdict = { kind: 'ok' } | { kind: 'permanent'; message: string } | { kind: 'transient'; message: string };

/**
 * What a finished run means for its job. Permanent failures (bad token, a refused request)
 * would fail the same way on every retry, so the job fails at once; any transient failure
 * retries the whole job with backoff (streams that succeeded resume from their cursors, so a
 * retry costs little). Streams skipped or interrupted because another stream failed do not
 * count on their own.
 */
export function judgeRun(result: RunResult): RunVerdict {
  if (result.ok) return { kind: 'ok' };
  const failed = result.streams.filter((s) => s.status === 'failed');
  const describe = (list: typeof result.streams) => list.map((s) => `${s.stream}: ${s.error ?? s.status}`).join('; ');
  if (failed.length > 0 && failed.every((s) => s.permanent)) return { kind: 'permanent', message: describe(failed) };
  const bad = failed.length > 0 ? failed : result.streams.filter((s) => s.status !== 'succeeded');
  return { kind: 'transient', message: describe(bad) };
}

function summarize(result: RunResult): SyncJobResult {
  return {
    runId: result.runId,
    streams: result.streams.map((s) => ({
      stream: s.stream,
      status: s.status,
      inserted: s.counters.rowsInserted,
      updated: s.counters.rowsUpdated,
      ...(s.error ? { error: s.error } : {}),
    })),
  };
}

export function createSyncProcessor(ctx: ModuleContext) {
  const log = ctx.logger.child({ queue: SYNC_QUEUE });
  const onEvent = (e: ClientEvent) => {
    countClientEvent(e);
    ctx.metrics.onClientEvent(e);
  };

  return async function processSyncJob(job: Job<SyncJobData, SyncJobResult>, token?: string, cancel?: AbortSignal): Promise<SyncJobResult> {
    const started = performance.now();
    const jlog = log.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
    const finish = (outcome: JobOutcome) => ctx.metrics.recordJob(SYNC_QUEUE, job.name, outcome, (performance.now() - started) / 1000);

    const parsed = syncJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      finish('failed');
      throw new UnrecoverableError(redact(`bad job data: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'data'} ${i.message}`).join('; ')}`));
    }
    const data = parsed.data;
    let streams: string[];
    try {
      streams = resolveStreams(data.streams, ctx.env).map((d) => d.name);
    } catch (err) {
      finish('failed');
      throw new UnrecoverableError(redact(errorMessage(err)));
    }
    const since = data.since ? new Date(data.since) : undefined;
    if (since && Number.isNaN(since.getTime())) {
      finish('failed');
      throw new UnrecoverableError(redact(`bad job data: since "${data.since}" is not a date`));
    }

    // One run of a stream at a time, across every worker: all of this job's streams or none.
    const owner = `job ${job.id} (${job.name}) on ${ctx.workerName}`;
    const got = await ctx.locks.acquire(streams, owner);
    if (!got.ok) {
      const heldBy = got.held;
      if (!data.full && heldBy.length === streams.length) {
        // Every stream is being synced right now by another run: this trigger adds nothing.
        jlog.info({ heldBy }, 'sync job skipped: its streams are already being synced');
        finish('skipped');
        return { skipped: { reason: 'streams already being synced by another run', heldBy } };
      }
      // Some streams are busy: wait for them rather than sync only part of what was asked.
      jlog.info({ heldBy, retryInMs: ctx.tuning.deferMs }, 'sync job deferred: some of its streams are being synced by another run');
      finish('deferred');
      await job.moveToDelayed(Date.now() + ctx.tuning.deferMs, token);
      throw new DelayedError();
    }

    const lease = got.lease;
    const abort = new AbortController();
    const stop = (reason: string) => () => {
      if (!abort.signal.aborted) {
        jlog.warn({ reason }, 'stopping the sync after the current page');
        abort.abort(new Error(reason));
      }
    };
    const onShutdown = stop('worker shutting down');
    const onCancel = stop('job cancelled');
    ctx.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    cancel?.addEventListener('abort', onCancel, { once: true });
    lease.onLost(stop('stream lock lost'));
    if (ctx.shutdownSignal.aborted) onShutdown();

    jlog.info({ streams, full: data.full ?? false, reconcile: data.reconcile ?? false, trigger: data.trigger }, 'sync job started');
    let result: RunResult;
    try {
      const store = await openStore(ctx.databaseUrl, { onRetry: (r) => jlog.info(r, STORE_RETRY_MESSAGE) });
      try {
        const client = createClientFromEnv(ctx.env, { ...ctx.clientOptions, rateLimiter: ctx.rateLimiter, logger: jlog, onEvent });
        try {
          result = await runSync({
            store,
            client,
            env: ctx.env,
            logger: jlog,
            streams,
            full: data.full,
            reconcile: data.reconcile,
            since,
            trigger: data.trigger,
            signal: abort.signal,
          });
          await store.refreshDerivedViews();
        } finally {
          await client.close();
        }
      } finally {
        await store.close();
      }
    } catch (err) {
      // The engine reports stream failures in its result; a throw here is the database or a
      // bug. Bad configuration never gets better by retrying.
      finish(err instanceof ConfigError ? 'failed' : 'retry');
      // BullMQ keeps the message and stack in Redis (failedReason, stacktrace): redacted first.
      throw err instanceof ConfigError ? new UnrecoverableError(redact(err.message)) : redactedError(err);
    } finally {
      ctx.shutdownSignal.removeEventListener('abort', onShutdown);
      cancel?.removeEventListener('abort', onCancel);
      await lease.release();
    }

    ctx.metrics.recordStreams(result.streams);
    const verdict = judgeRun(result);
    if (verdict.kind === 'ok') {
      jlog.info({ runId: result.runId, ms: Math.round(performance.now() - started) }, 'sync job completed');
      finish('completed');
      return summarize(result);
    }
    if (ctx.shutdownSignal.aborted) {
      // Checkpointed: hand the job straight back to the queue (no attempt used) for the next
      // worker, instead of leaving it to the stalled-job check.
      jlog.info({ runId: result.runId }, 'sync job interrupted by shutdown; returned to the queue');
      finish('interrupted');
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (lease.lost.length > 0) {
      finish('deferred');
      await job.moveToDelayed(Date.now() + ctx.tuning.deferMs, token);
      throw new DelayedError();
    }
    if (verdict.kind === 'permanent') {
      jlog.error({ runId: result.runId, error: verdict.message }, 'sync job failed permanently; it will not be retried');
      finish('failed');
      throw new UnrecoverableError(redact(`permanent failure: ${verdict.message}`));
    }
    const willRetry = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    jlog.warn({ runId: result.runId, error: verdict.message, willRetry }, willRetry ? 'sync job failed; retrying with backoff' : 'sync job failed; no attempts left');
    finish(willRetry ? 'retry' : 'failed');
    throw new Error(redact(verdict.message));
  };
}

export function createSyncModule(ctx: ModuleContext): QueueModule {
  const queue = new Queue<SyncJobData, SyncJobResult>(SYNC_QUEUE, { connection: ctx.connection, prefix: ctx.prefix, defaultJobOptions: SYNC_JOB_OPTIONS });
  const worker = new Worker<SyncJobData, SyncJobResult>(SYNC_QUEUE, createSyncProcessor(ctx), {
    connection: ctx.connection,
    prefix: ctx.prefix,
    name: ctx.workerName,
    // One sync at a time per process: the engine already runs SYNC_CONCURRENCY requests in
    // parallel, and SQLite has one writer. More processes add parallelism across streams.
    concurrency: 1,
    lockDuration: ctx.tuning.lockMs,
    stalledInterval: ctx.tuning.stalledMs,
    // A job whose worker died twice (e.g. a crash loop during a deploy) still gets another go.
    maxStalledCount: 2,
    removeOnComplete: SYNC_JOB_OPTIONS.removeOnComplete,
    removeOnFail: SYNC_JOB_OPTIONS.removeOnFail,
    autorun: false,
  });
  return {
    name: SYNC_QUEUE,
    queue,
    worker,
    registerSchedulers: () => registerSyncSchedulers(queue, ctx.env),
  };
}
