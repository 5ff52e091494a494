import { describe, expect, it } from 'vitest';
import { syncWith } from '../helpers/mirror.js';
import { useSimulatorAndDb } from '../helpers/sim.js';
import { syncPassing } from '../helpers/expect-mirror.js';

describe('legacy v1 accounts stream', () => {
  const fx = useSimulatorAndDb({ seed: 31, people: 60 });
  const db = fx.db;

  it('is off by default and mirrors GET /api/v1/accounts when named', async () => {
    const first = await syncWith(fx.sim, db.path, { streams: ['tags'] });
    first.mirror.close();
    expect(fx.sim.requestCounts()['GET /api/v1/accounts'] ?? 0).toBe(0);

    await syncPassing(fx.sim, db.path, { streams: ['accounts'] }, ({ result, mirror }) => {
      const expected = ([...fx.sim.store.accountsList()] as { id: string; name: string; from: string; tags: string[]; lastMessageTime: string }[])
        .map((a) => ({ id: a.id, name: a.name, source: a.from, tags: JSON.stringify(a.tags), last_message_time: new Date(a.lastMessageTime).toISOString() }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(expected.length).toBeGreaterThan(60);
      expect(mirror.sqlite.prepare('SELECT id, name, source, tags, last_message_time FROM accounts ORDER BY id').all()).toEqual(expected);
    });
  });
});
