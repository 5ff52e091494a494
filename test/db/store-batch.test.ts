import { describe, expect, it } from 'vitest';
import { settleBatch, type Queued } from '../../src/db/store/batch.js';

/** Queued items whose promises the test can read, as Store.batched makes them. */
function queue(n: number): { batch: Queued[]; settled: Promise<PromiseSettledResult<unknown>[]> } {
  const batch: Queued[] = [];
  const promises = Array.from(
    { length: n },
    (_, i) =>
      new Promise<unknown>((resolve, reject) => {
        batch.push({ fn: () => Promise.resolve(i), resolve, reject });
      }),
  );
  return { batch, settled: Promise.allSettled(promises) };
}

describe('settleBatch (group commit, both stores)', () => {
  it('settles each caller with its own item: values resolve, an item error rejects only its caller', async () => {
    const { batch, settled } = queue(3);
    const failed = new Error('item 2 failed');
    await settleBatch(batch, () =>
      Promise.resolve([
        { ok: true, value: 'a' },
        { ok: false, error: failed },
        { ok: true, value: 'c' },
      ]),
    );
    expect(await settled).toEqual([
      { status: 'fulfilled', value: 'a' },
      { status: 'rejected', reason: failed },
      { status: 'fulfilled', value: 'c' },
    ]);
  });

  it('rejects every caller with the error that failed the batch as a whole', async () => {
    const { batch, settled } = queue(3);
    const lost = new Error('COMMIT failed');
    await settleBatch(batch, () => Promise.reject(lost));
    expect(await settled).toEqual([0, 1, 2].map(() => ({ status: 'rejected', reason: lost })));
  });
});
