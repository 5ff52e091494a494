/**
 * The outbox relay against an in-memory queue (the WriteQueue port): which rows get a job, when
 * they become queued, and that no row ever has two jobs. BullMQ end to end: queue.test.ts,
 * durability.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { silentLogger } from '../../src/log.js';
import { cancelWrite, enqueueWrite, getWrite, retryWrite } from '../../src/writes/outbox.js';
import { OutboxRelay, type JobPresence, type WriteQueue } from '../../src/writes/relay.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';

const PERSON = '5b3f543bb2737000133d25b0';

/** A queue like BullMQ's with one jobId per row: adding a row whose job exists is a no-op. */
class FakeQueue implements WriteQueue {
  readonly jobs = new Map<number, { kind: string; state: JobPresence }>();
  readonly added: number[] = [];
  up = true;
  failAdd = false;

  async ready() {
    return this.up;
  }
  async presence(rowId: number): Promise<JobPresence> {
    return this.jobs.get(rowId)?.state ?? 'missing';
  }
  async remove(rowId: number) {
    if (this.jobs.get(rowId)?.state === 'live') throw new Error(`removed live job of #${rowId}`);
    this.jobs.delete(rowId);
  }
  async add(rows: readonly { id: number; kind: string }[]) {
    if (this.failAdd) throw new Error('queue unreachable');
    for (const r of rows) {
      if (this.jobs.has(r.id)) continue;
      this.jobs.set(r.id, { kind: r.kind, state: 'live' });
      this.added.push(r.id);
    }
  }
}

describe.each(BACKENDS)('OutboxRelay (%s)', (backend) => {
  const db = useBackendDb(backend);
  let store: Store;
  let queue: FakeQueue;
  let relay: OutboxRelay;
  const comment = async (text: string) => (await enqueueWrite(store, { kind: 'add-comment', target: PERSON, payload: { text } })).id;
  const status = async (id: number) => (await getWrite(store, id))?.status;
  const statuses = (ids: number[]) => Promise.all(ids.map(status));

  beforeEach(async () => {
    store = await openStore(db.url);
    await store.run(sql`DELETE FROM outbound_writes`);
    queue = new FakeQueue();
    relay = new OutboxRelay({ store, queue, logger: silentLogger, batch: 2 });
  });
  afterEach(async () => {
    await relay?.stop();
    await store?.close();
  });

  it('claims every pending row (queued) and gives it one job, in batches', async () => {
    const ids = [await comment('a'), await comment('b'), await comment('c'), await comment('d'), await comment('e')];
    expect(await relay.relay()).toBe(5);
    expect(queue.added).toEqual(ids);
    expect(await statuses(ids)).toEqual(ids.map(() => 'queued'));
    expect(await relay.relay()).toBe(0);
    expect(await relay.reconcile()).toBe(0);
    expect(queue.added).toEqual(ids);
  });

  it('leaves rows pending while the queue is down, gives them back when it refuses the add, and relays them once it is back', async () => {
    const id = await comment('a');
    queue.up = false;
    expect(await relay.relay()).toBe(0);
    expect(await relay.reconcile()).toBe(0);
    queue.up = true;
    queue.failAdd = true;
    expect(await relay.relay()).toBe(0);
    expect(await status(id)).toBe('pending');
    queue.failAdd = false;
    expect(await relay.relay()).toBe(1);
    expect(await status(id)).toBe('queued');
    expect(queue.added).toEqual([id]);
  });

  it('a pending row that already has a live job keeps that job (added once)', async () => {
    const id = await comment('a');
    queue.jobs.set(id, { kind: 'add-comment', state: 'live' });
    expect(await relay.relay()).toBe(1);
    expect(await status(id)).toBe('queued');
    expect(queue.added).toEqual([]);
    expect(queue.jobs.size).toBe(1);
  });

  it('re-adds queued rows whose job is gone or finished, and not those with a live job', async () => {
    const [gone, finished, live] = [await comment('gone'), await comment('finished'), await comment('live')];
    await relay.relay();
    queue.jobs.delete(gone);
    queue.jobs.set(finished, { kind: 'add-comment', state: 'finished' });
    queue.added.length = 0;
    expect(await relay.reconcile()).toBe(2);
    expect(queue.added.sort()).toEqual([gone, finished].sort());
    expect(queue.jobs.get(live)?.state).toBe('live');
    expect(await relay.reconcile()).toBe(0);
  });

  it('a retried row (pending again) gets a new job only if its old one is finished or gone', async () => {
    const [a, b, c] = [await comment('a'), await comment('b'), await comment('c')];
    await relay.relay();
    for (const id of [a, b, c]) await cancelWrite(store, id);
    for (const id of [a, b, c]) await retryWrite(store, id);
    queue.jobs.set(a, { kind: 'add-comment', state: 'finished' });
    queue.jobs.delete(b);
    // c's job is still waiting (the cancel was not seen yet): that job delivers the retried row.
    queue.added.length = 0;
    expect(await relay.relay()).toBe(3);
    expect(queue.added.sort()).toEqual([a, b].sort());
    expect(await statuses([a, b, c])).toEqual(['queued', 'queued', 'queued']);
  });

  it('rows that are not pending or queued are left alone', async () => {
    const id = await comment('a');
    await cancelWrite(store, id);
    expect(await relay.relay()).toBe(0);
    expect(await relay.reconcile()).toBe(0);
    expect(queue.added).toEqual([]);
    expect(await status(id)).toBe('cancelled');
  });

  it('concurrent calls share one round, so a row is never added twice', async () => {
    const ids = [await comment('a'), await comment('b'), await comment('c')];
    const [x, y] = await Promise.all([relay.relay(), relay.relay()]);
    expect(x).toBe(3);
    expect(y).toBe(3);
    await Promise.all([relay.catchUp(), relay.catchUp()]);
    expect(queue.added).toEqual(ids);
  });

  it('after stop, nothing is relayed', async () => {
    await comment('a');
    await relay.stop();
    expect(await relay.relay()).toBe(0);
    expect(await relay.reconcile()).toBe(0);
    expect(queue.added).toEqual([]);
  });
});
