import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { BACKENDS, createBackendDb, type BackendDb } from '../helpers/backends.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';

describe.each(BACKENDS)('incremental sync (%s)', (backend) => {
  let sim: Simulator;
  let db: BackendDb;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, people: 200 });
    db = await createBackendDb(backend);
    await syncPassing(sim, db.url);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.destroy();
  });

  it('after activity fetches only what changed, and matches again', async () => {
    const report = sim.activity({ messages: 12, newPeople: 4, orderChanges: 5, newOrders: 3 });
    const channels = [...sim.store.channelsList()] as { id: string; person_id: string }[];
    const personOf = new Map(channels.map((c) => [c.id, c.person_id]));
    const changedPeople = new Set([...report.messagedChannelIds.map((c) => personOf.get(c)!), ...report.newPersonIds]);
    const dueChannels = new Set([
      ...report.messagedChannelIds,
      ...channels.filter((c) => report.newPersonIds.includes(c.person_id)).map((c) => c.id),
    ]);
    const changedOrders = new Set([...report.changedOrderIds, ...report.newOrderIds]);
    const orders = [...sim.store.ordersList()].length;

    sim.resetCounts();
    await syncMatching(sim, db.url, {}, () => {
      const counts = sim.requestCounts();
      expect(counts['GET /api/v2/people/:id']).toBe(changedPeople.size);
      expect(counts['GET /api/v2/orders/:id']).toBe(changedOrders.size);
      // One page per channel with new messages: each page reaches back past the high-water mark.
      const chat = counts['GET /api/v2/communication-channels/:id/chat-messages'] ?? 0;
      expect(chat).toBeGreaterThanOrEqual(dueChannels.size);
      expect(chat).toBeLessThanOrEqual(dueChannels.size + 4);
      // The changed people fit in one window: a page or two, not a re-read of the company.
      expect(counts['GET /api/v2/people']).toBeLessThanOrEqual(2);
      expect(counts['GET /api/v2/communication-channels']).toBeLessThanOrEqual(2);
      // Orders have no date filter: the whole list, once.
      expect(counts['GET /api/v2/orders']).toBe(Math.ceil(orders / 50));
      // Without --reconcile an incremental costs what it always did: exactly one window per list,
      // the changed details, the order list and the reference data; nothing else.
      expect(counts['GET /api/v2/people']).toBe(1);
      expect(counts['GET /api/v2/communication-channels']).toBe(1);
      const tunnels = sim.store.tunnelsList().length;
      const categories = sim.store.templateCategories().length;
      const { 'GET /api/v2/communication-channels/:id/chat-messages': _chat, ...rest } = counts;
      expect(Object.values(rest).reduce((a, b) => a + b, 0)).toBe(
        2 + Math.ceil(orders / 50) + changedPeople.size + changedOrders.size + 5 + 2 * tunnels + categories,
      );
    });
  });
});
