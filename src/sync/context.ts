import { AsyncLocalStorage } from 'node:async_hooks';
import type { Env } from '../config.js';
import type { Store } from '../db/store/types.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Logger } from '../log.js';
import type { Semaphore } from './pool.js';
import type { FindingsStore } from './findings.js';
import type { StateStore } from './state.js';
import type { Progress } from './progress.js';

export interface StreamCounters {
  windows: number;
  pages: number;
  rowsInserted: number;
  rowsUpdated: number;
  requests: number;
  retries: number;
  rateLimited: number;
}

export const newCounters = (): StreamCounters => ({
  windows: 0,
  pages: 0,
  rowsInserted: 0,
  rowsUpdated: 0,
  requests: 0,
  retries: 0,
  rateLimited: 0,
});

/**
 * Which stream's counters an API call belongs to. The client reports every request through its
 * onEvent hook; the hook reads this store, so streams running concurrently on one client still
 * get exact per-stream request and retry counts in sync_runs.
 */
export const attribution = new AsyncLocalStorage<StreamCounters>();

export interface ClientEventLike {
  type: string;
}

/** Pass as the client's `onEvent` (compose with others, e.g. Prometheus metrics). */
export function countClientEvent(e: ClientEventLike): void {
  const c = attribution.getStore();
  if (!c) return;
  if (e.type === 'request') c.requests++;
  else if (e.type === 'retry') c.retries++;
  else if (e.type === 'rate_limited') c.rateLimited++;
}

export interface SyncContext {
  /** The mirror: every read and write of the sync goes through it (SQLite or PostgreSQL). */
  store: Store;
  client: LeelooClient;
  env: Env;
  logger: Logger;
  runId: string;
  /** Upper bound of every date window in this run: records after it belong to the next run. */
  runStart: Date;
  /** --full: ignore cursors and refetch everything (details included). */
  full: boolean;
  /** --since: lower bound overriding the stored cursor and SYNC_START_DATE. */
  since: Date | undefined;
  /** --reconcile: an all-time list pass of people and channels (edits without a message, deletions) and a rolling re-read of person details. */
  reconcile: boolean;
  pool: Semaphore;
  state: StateStore;
  /** What is known about the API (api_findings): the date-filter reading, reachability. */
  findings: FindingsStore;
  progress: Progress;
  signal: AbortSignal;
  /** Streams selected for this run (a stream may skip work whose consumer is not selected). */
  selected: ReadonlySet<string>;
}

export interface StreamRun {
  name: string;
  counters: StreamCounters;
  log: Logger;
  /** Runs an API call through the shared concurrency pool, attributed to this stream. */
  call<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * For a stream with `feedsFrom`: settles when that stream finishes (rejects if it failed), or
   * undefined when it is not part of this run. Rows it commits meanwhile may already be worked on.
   */
  upstream: Promise<void> | undefined;
}

export interface StreamDef {
  /** The stream's name: the table it fills. */
  name: string;
  description: string;
  /** Streams that must finish first when both run (their rows drive this one). */
  dependsOn?: string[];
  /**
   * A stream whose rows this one works through as they are committed (chat messages of channels
   * as channel pages land): both start together; see StreamRun.upstream.
   */
  feedsFrom?: string;
  /** Whether a run that names no streams includes this one (default: yes). */
  enabledByDefault?(env: Env): boolean;
  run(ctx: SyncContext, s: StreamRun): Promise<void>;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('sync aborted');
}
