import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Env } from '../config.js';
import type { Store } from '../db/store/types.js';
import { ApiError, ConfigError, LeelooSyncError, errorMessage } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Logger } from '../log.js';
import { redact } from '../secrets.js';
import { attribution, newCounters, type StreamCounters, type StreamDef, type StreamRun, type SyncContext } from './context.js';
import { Semaphore } from './pool.js';
import { noProgress, type Progress } from './progress.js';
import { STREAMS, STREAM_NAMES, streamByName } from './registry.js';
import { RunLog } from './run-log.js';
import { FindingsStore } from './findings.js';
import { StateStore } from './state.js';
import { storeLearnedRate } from './rate-limit-finding.js';
import { capHeapGrowth } from './heap.js';

/** How often a run stores the learned rate limit (and once at its end). */
const RATE_LIMIT_KEEP_MS = 30_000;

export interface SyncOptions {
  /** The mirror (openStore): SQLite or PostgreSQL. */
  store: Store;
  client: LeelooClient;
  env: Env;
  logger: Logger;
  /** Stream names. @defaultValue every stream enabled by default (+ accounts with SYNC_ACCOUNTS_V1) */
  streams?: string[];
  /** Ignore cursors and refetch everything, details included. @defaultValue `false` */
  full?: boolean;
  /** Lower bound overriding the stored cursor and SYNC_START_DATE. @defaultValue the stored cursor */
  since?: Date;
  /** See SyncContext.reconcile. @defaultValue `false` */
  reconcile?: boolean;
  /** What started the run, as `sync_runs.trigger` records it. @defaultValue `'cli'` */
  trigger?: string;
  signal?: AbortSignal;
  /** @defaultValue no progress display */
  progress?: Progress;
  /** @defaultValue a random UUID */
  runId?: string;
  /** Upper bound of the run's date windows. @defaultValue now */
  runStart?: Date;
}

export type StreamStatus = 'succeeded' | 'failed' | 'interrupted' | 'skipped';

export interface StreamResult {
  stream: string;
  status: StreamStatus;
  counters: StreamCounters;
  error?: string;
  permanent?: boolean;
  startedAt: string;
  finishedAt: string;
}

export interface RunResult {
  runId: string;
  ok: boolean;
  streams: StreamResult[];
  /** Mean API requests in flight over the run (≤ SYNC_CONCURRENCY). */
  meanInFlight: number;
}

/** Validates stream names (one error listing every unknown name) and orders them by dependency. */
export function resolveStreams(names: string[] | undefined, env: Env): StreamDef[] {
  if (!names || names.length === 0) return STREAMS.filter((s) => s.enabledByDefault?.(env) ?? true);
  const unknown = names.filter((n) => !streamByName(n));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown stream${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${STREAM_NAMES.join(', ')})`);
  }
  return STREAMS.filter((s) => names.includes(s.name));
}

export async function runSync(opts: SyncOptions): Promise<RunResult> {
  capHeapGrowth();
  const defs = resolveStreams(opts.streams, opts.env);
  const runId = opts.runId ?? randomUUID();
  const runStart = opts.runStart ?? new Date();
  const abort = new AbortController();
  // Every worker (SYNC_CONCURRENCY, up to 64) waits on this one signal at once: in the rate
  // limiter's sleep, the request pool, the transport. Node's default of 10 listeners would print
  // a MaxListenersExceededWarning on every run above concurrency 10; each wait removes its own
  // listener when it ends (test/leeloo/in-flight.test.ts), so there is no leak to warn about.
  setMaxListeners(0, abort.signal);
  const onOuterAbort = () => abort.abort(opts.signal?.reason ?? new Error('sync interrupted'));
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const { store } = opts;
  const findings = await FindingsStore.load(store);
  const ctx: SyncContext = {
    store,
    client: opts.client,
    env: opts.env,
    logger: opts.logger,
    runId,
    runStart,
    full: opts.full ?? false,
    reconcile: opts.reconcile ?? false,
    since: opts.since,
    pool: new Semaphore(opts.env.SYNC_CONCURRENCY),
    state: new StateStore(store, opts.logger),
    findings,
    progress: opts.progress ?? noProgress,
    signal: abort.signal,
    selected: new Set(defs.map((d) => d.name)),
  };
  const runLog = new RunLog(store);
  await runLog.markInterrupted(defs.map((d) => d.name), runStart.toISOString());
  opts.logger.info({ runId, streams: defs.map((d) => d.name), full: ctx.full, reconcile: ctx.reconcile, since: opts.since?.toISOString(), runStart: runStart.toISOString() }, 'sync started');

  const results = new Map<string, Promise<StreamResult>>();
  const runOne = async (def: StreamDef): Promise<StreamResult> => {
    const deps = (def.dependsOn ?? []).filter((d) => ctx.selected.has(d));
    const depResults = await Promise.all(deps.map((d) => results.get(d)!));
    const startedAt = new Date().toISOString();
    const counters = newCounters();
    const failedDep = depResults.find((r) => r.status !== 'succeeded');
    if (failedDep) {
      return { stream: def.name, status: 'skipped', counters, error: `${failedDep.stream} did not succeed`, startedAt, finishedAt: startedAt };
    }
    // A reconcile run says so in its trigger (`nightly+reconcile`): status and the dashboard show it.
    await runLog.start(runId, def.name, `${opts.trigger ?? 'cli'}${ctx.reconcile ? '+reconcile' : ''}`, startedAt);
    ctx.progress.start(def.name);
    const log = opts.logger.child({ stream: def.name });
    const s: StreamRun = {
      name: def.name,
      counters,
      log,
      call: (fn) => ctx.pool.run(() => attribution.run(counters, fn)),
      upstream: undefined,
    };
    const feeder = def.feedsFrom && ctx.selected.has(def.feedsFrom) ? results.get(def.feedsFrom) : undefined;
    s.upstream = feeder?.then((r) => {
      if (r.status !== 'succeeded') throw new Error(`${r.stream} did not succeed`);
    });
    s.upstream?.catch(() => undefined); // observed by the stream; a rejection here is not unhandled
    let status: StreamStatus = 'succeeded';
    let error: string | undefined;
    let permanent: boolean | undefined;
    try {
      await attribution.run(counters, () => def.run(ctx, s));
    } catch (err) {
      // Stopped on request (shutdown, SIGINT): whatever the in-flight call threw, nothing failed.
      status = ctx.signal.aborted && !(err instanceof ApiError && err.status === 401) ? 'interrupted' : 'failed';
      // Any error, ours or not, is redacted before it reaches sync_runs, the logs and the job.
      error = redact(errorMessage(err));
      permanent = err instanceof LeelooSyncError ? err.permanent : undefined;
      // A refused token or permission fails every stream the same way: stop the others now.
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) abort.abort(err);
      log.error({ err: error, permanent }, 'stream failed');
    }
    const finishedAt = new Date().toISOString();
    await runLog.finish(runId, def.name, finishedAt, status, counters, error ?? null);
    log.info({ status, ...counters, ms: Date.parse(finishedAt) - Date.parse(startedAt) }, 'stream finished');
    ctx.progress.finish(def.name, status);
    return { stream: def.name, status, counters, error, permanent, startedAt, finishedAt };
  };
  const keepRate = async () => {
    try {
      await storeLearnedRate(findings, opts.client.rateLimit?.(), opts.trigger ?? 'cli');
    } catch (err) {
      opts.logger.warn({ err: errorMessage(err) }, 'could not store the learned rate limit');
    }
  };
  const rateTimer = setInterval(() => void keepRate(), RATE_LIMIT_KEEP_MS);
  rateTimer.unref();
  let streams: StreamResult[];
  try {
    for (const def of defs) results.set(def.name, runOne(def));
    streams = await Promise.all(results.values());
  } finally {
    clearInterval(rateTimer);
  }
  await keepRate();
  opts.signal?.removeEventListener('abort', onOuterAbort);
  ctx.progress.stop();
  const ok = streams.every((r) => r.status === 'succeeded');
  const meanInFlight = ctx.pool.meanInFlight();
  opts.logger.info({ runId, ok, meanInFlight, streams: Object.fromEntries(streams.map((r) => [r.stream, r.status])) }, 'sync finished');
  return { runId, ok, streams, meanInFlight };
}
