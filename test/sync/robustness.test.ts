import { describe, expect, it } from 'vitest';
import { BACKENDS, freshBackendDbs } from '../helpers/backends.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { closedAfterEach } from '../helpers/sim.js';

describe.each(BACKENDS)('sync robustness against the simulator (%s)', (backend) => {
  const fresh = closedAfterEach();
  const dbs = freshBackendDbs(backend);

  it('matches with faults on (5xx, plain-text 429, truncated JSON, dropped connections, slow answers)', async () => {
    const sim = await fresh.simulator({
      seed: 3,
      people: 80,
      knobs: { faultRate: 0.08, faultKinds: ['5xx', '429', 'truncated', 'drop', 'slow'], slowMs: 50, retryAfterSeconds: 0 },
    });
    const db = await dbs.db();
    await syncMatching(sim, db.url, { env: { LEELOO_MAX_RETRIES: '12' } }, ({ result }) => {
      expect(result.streams.reduce((a, s) => a + s.counters.retries, 0)).toBeGreaterThan(0);
      sim.setKnobs({ faultRate: 0 });
    });
  });

  it('matches when the server caps the page size and lists messages oldest first', async () => {
    const sim = await fresh.simulator({ seed: 5, people: 90, knobs: { pageCap: 7, messagesOrder: 'oldest' } });
    const db = await dbs.db();
    await syncMatching(sim, db.url);
    // Incremental chat reads cannot stop early on an oldest-first list: they must notice and
    // read the whole channel.
    sim.activity({ messages: 10 });
    await syncMatching(sim, db.url);
  });

  it('splits windows too deep for offset paging and still matches', async () => {
    const sim = await fresh.simulator({ seed: 9, people: 120 });
    const db = await dbs.db();
    await syncMatching(sim, db.url, { env: { SYNC_WINDOW_MAX_ROWS: '20' } }, ({ result }) => {
      const people = result.streams.find((s) => s.stream === 'people')!;
      expect(people.counters.windows).toBeGreaterThan(6);
    });
  });

  it('works with date-only filters', async () => {
    const sim = await fresh.simulator({ seed: 13, people: 60 });
    const db = await dbs.db();
    await syncMatching(sim, db.url, { env: { LEELOO_DATE_FORMAT: 'date', SYNC_WINDOW_MAX_ROWS: '30' } });
  });

  // Pages of 10 with activity on every list request: the slowest run here, on PostgreSQL most.
  it('misses nothing older than the run’s start while activity moves records during paging', { timeout: 150_000 }, async () => {
    const sim = await fresh.simulator({ seed: 17, people: 150, knobs: { activityPerListRequest: 0.25 } });
    const db = await dbs.db();
    const runStart = new Date();
    await syncPassing(sim, db.url, { runStart, env: { LEELOO_PAGE_SIZE: '10' } }, async ({ rows }) => {
      const mirrored = new Set((await rows<{ id: string }>('SELECT id FROM people')).map((r) => r.id));
      const stillOld = ([...sim.store.peopleList()] as { id: string; lastMessageTime: string }[]).filter(
        (p) => new Date(p.lastMessageTime) < runStart,
      );
      expect(stillOld.length).toBeGreaterThan(50);
      expect(stillOld.filter((p) => !mirrored.has(p.id))).toEqual([]);
      const channels = new Set((await rows<{ id: string }>('SELECT id FROM communication_channels WHERE raw IS NOT NULL')).map((r) => r.id));
      const oldChannels = ([...sim.store.channelsList()] as { id: string; lastMessageTime: string }[]).filter((c) => new Date(c.lastMessageTime) < runStart);
      expect(oldChannels.filter((c) => !channels.has(c.id))).toEqual([]);
    });
    sim.setKnobs({ activityPerListRequest: 0 });
    await syncMatching(sim, db.url);
  });
});
