import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';
import { forEachConcurrent } from './pool.js';

export interface DueSpec<K> {
  /** Up to `limit` keys whose work is due, none of them in `exclude`. Synchronous SQL. */
  selectDue(limit: number, exclude: ReadonlySet<string>): K[];
  keyOf(k: K): string;
  /** Fetches and commits one key; on success the key must no longer be due. */
  process(k: K): Promise<void>;
}

const BATCH = 256;

/**
 * Works through rows marked due in the mirror (people whose details are stale, channels with new
 * messages, orders that changed). The marks live in SQL, so a killed run resumes exactly where it
 * stopped. With `producer`, keys keep becoming due until it settles (details of a people page are
 * fetched while later pages are still being listed).
 */
export async function drainDue<K>(ctx: SyncContext, s: StreamRun, spec: DueSpec<K>, producer?: Promise<unknown>): Promise<void> {
  let producing = producer !== undefined;
  let producerError: unknown;
  const settled = producer?.then(
    () => {
      producing = false;
    },
    (err) => {
      producing = false;
      producerError = err;
    },
  );
  // Keys that stayed due after processing (changed again meanwhile) are retried once the
  // producer is done, not spun on.
  const attempted = new Set<string>();
  for (;;) {
    throwIfAborted(ctx.signal);
    if (producerError) throw producerError;
    const wasProducing = producing;
    const batch = spec.selectDue(BATCH, attempted);
    if (batch.length === 0) {
      if (!wasProducing) {
        if (attempted.size === 0) break;
        attempted.clear();
        if (spec.selectDue(1, attempted).length === 0) break;
        continue;
      }
      await Promise.race([settled, new Promise((r) => setTimeout(r, 25))]);
      continue;
    }
    for (const k of batch) attempted.add(spec.keyOf(k));
    await forEachConcurrent(batch, ctx.pool.size, (k) => spec.process(k));
  }
  if (settled) await settled;
  if (producerError) throw producerError;
}
