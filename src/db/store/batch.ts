/**
 * Group commit's settling, shared by both stores (Store.batched): how a batch ran is each
 * store's business (SQLite tries it whole first, PostgreSQL retries it after a deadlock), but
 * whose promise gets what is the same on both.
 */

/** One `batched` call waiting for its batch's commit. */
export interface Queued {
  fn: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** One item of a committed batch: its value, or the error it alone was rolled back for. */
export type ItemResult = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs a batch and settles its callers only once it is over: each with its own item's result
 * (in batch order) when the batch committed, every one with the error when the batch as a whole
 * failed (BEGIN, COMMIT, a lost connection): none of their work was kept.
 */
export async function settleBatch(batch: readonly Queued[], run: () => Promise<readonly ItemResult[]>): Promise<void> {
  let results: readonly ItemResult[];
  try {
    results = await run();
  } catch (err) {
    for (const item of batch) item.reject(err);
    return;
  }
  batch.forEach((item, i) => {
    const r = results[i]!;
    if (r.ok) item.resolve(r.value);
    else item.reject(r.error);
  });
}
