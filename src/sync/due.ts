import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';
import { forEachConcurrent } from './pool.js';
import type { ProgressUnit } from './progress.js';

export interface DueSpec<K> {
  /** Up to `limit` due keys greater than `after`, in key order. */
  selectDue(limit: number, after: string): Promise<K[]>;
  keyOf(k: K): string;
  /** Fetches and commits one key; on success the key is no longer due. */
  process(k: K): Promise<void>;
  /** What a key is, for the progress display (default details). */
  unit?: ProgressUnit;
  /** How many keys are due now (for the progress total once the producer is done). */
  countDue?(): Promise<number>;
}

const BATCH = 256;
/** Sweeps after the producer is done: the second picks up keys that changed during the first. */
const FINAL_SWEEPS = 2;

/**
 * Works through rows marked due in the mirror (people whose details are stale, channels with new
 * messages, orders that changed). The marks live in SQL, so a killed run resumes exactly where it
 * stopped. Keys are walked in order with a keyset cursor, so memory stays flat however many are
 * due. While `producer` runs (the list still being read), sweeps repeat as new keys become due;
 * keys that keep changing stay due for the next run instead of being chased forever.
 */
export async function drainDue<K>(ctx: SyncContext, s: StreamRun, spec: DueSpec<K>, producer?: Promise<unknown>): Promise<void> {
  // An object, so TypeScript does not narrow fields that the producer's callbacks change.
  const prod: { running: boolean; failed?: { err: unknown } } = { running: producer !== undefined };
  const settled = producer?.then(
    () => {
      prod.running = false;
    },
    (err) => {
      prod.running = false;
      prod.failed = { err };
    },
  );
  let finalSweeps = 0;
  for (;;) {
    // One sweep over the due keys, in key order.
    const producingAtStart = prod.running;
    let processed = 0;
    const unit = spec.unit ?? 'details';
    // While the list is still read, the total grows as keys become due; after it, it is counted.
    const counted = !producingAtStart && spec.countDue !== undefined;
    if (counted) ctx.progress.remaining(s.name, await spec.countDue!(), unit);
    // Keys stream into the workers batch by batch, without a barrier between batches; keys in
    // flight sort before the keyset cursor, so none is selected twice within a sweep.
    const keys = async function* () {
      let after = '';
      for (;;) {
        throwIfAborted(ctx.signal);
        rethrowProducer(prod);
        const batch = await spec.selectDue(BATCH, after);
        if (batch.length === 0) return;
        after = spec.keyOf(batch[batch.length - 1]!);
        processed += batch.length;
        if (!counted) ctx.progress.total(s.name, batch.length, unit);
        yield* batch;
      }
    };
    await forEachConcurrent(keys(), ctx.pool.size * 2, async (k) => {
      await spec.process(k);
      ctx.progress.tick(s.name, 1, unit);
    });
    rethrowProducer(prod);
    if (producingAtStart) {
      if (processed === 0) await Promise.race([settled, new Promise((r) => setTimeout(r, 25))]);
      continue;
    }
    finalSweeps++;
    if (processed === 0 || finalSweeps >= FINAL_SWEEPS) break;
  }
  if (settled) await settled;
  rethrowProducer(prod);
}

function rethrowProducer(prod: { failed?: { err: unknown } }): void {
  if (prod.failed) throw prod.failed.err;
}
