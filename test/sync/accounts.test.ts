import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/index.js';
import { failures, syncWith, simulatorFor, tempDbPath } from '../helpers/mirror.js';

describe('legacy v1 accounts stream', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 31, people: 60 }, (s) => (sim = s));

  it('is off by default and mirrors GET /api/v1/accounts when named', async () => {
    const first = await syncWith(sim, db.path, { streams: ['tags'] });
    first.mirror.close();
    expect(sim.requestCounts()['GET /api/v1/accounts'] ?? 0).toBe(0);

    const { result, mirror } = await syncWith(sim, db.path, { streams: ['accounts'] });
    try {
      expect(failures(result)).toEqual([]);
      const expected = ([...sim.store.accountsList()] as { id: string; name: string; from: string; tags: string[]; lastMessageTime: string }[])
        .map((a) => ({ id: a.id, name: a.name, source: a.from, tags: JSON.stringify(a.tags), last_message_time: new Date(a.lastMessageTime).toISOString() }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(expected.length).toBeGreaterThan(60);
      expect(mirror.sqlite.prepare('SELECT id, name, source, tags, last_message_time FROM accounts ORDER BY id').all()).toEqual(expected);
    } finally {
      mirror.close();
    }
  });
});
