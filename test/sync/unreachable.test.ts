import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { openMirror } from '../../src/db/connection.js';
import { runDoctor } from '../../src/doctor/run.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { FindingsStore } from '../../src/sync/findings.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { simEnv, tempDbPath } from '../helpers/mirror.js';

describe('records no last_message window reaches (people who never wrote)', () => {
  let sim: Simulator;
  const db = tempDbPath();
  afterEach(async () => {
    await sim.close();
    db.cleanup();
  });

  it('doctor finds them; a full sync reads them through v1 /accounts and the channel person; incrementals do not pay for it', async () => {
    sim = await startSimulator({ seed: 61, people: 140, knobs: { neverWrote: 0.15 } });
    const silent = [...sim.store.peopleList()].filter((p) => p.lastMessageTime === null);
    expect(silent.length).toBeGreaterThan(5);

    // Without the finding, nothing reads them: the mirror lacks exactly those people.
    await syncPassing(sim, db.path, { full: true }, (plain) => {
      const ids = new Set((plain.mirror.sqlite.prepare('SELECT id FROM people').all() as { id: string }[]).map((r) => r.id));
      expect(silent.filter((p) => ids.has(p.id))).toEqual([]);
      expect(sim.requestCounts()['GET /api/v1/accounts'] ?? 0).toBe(0);
    });

    const env = simEnv(sim, db.path);
    const counter = { requests: 0 };
    const client = createClientFromEnv(env, { logger: silentLogger, onEvent: (e) => void (e.type === 'request' && counter.requests++) });
    const m = openMirror(db.path);
    try {
      const report = await runDoctor(client, env, (await FindingsStore.load(new SqliteStore(m))), counter, 7);
      expect(report.ok).toBe(true);
      expect((await FindingsStore.load(new SqliteStore(m))).get('reachability')?.value).toMatchObject({ unreachable: true });
    } finally {
      m.close();
      await client.close();
    }

    sim.resetCounts();
    await syncPassing(sim, db.path, { full: true }, (full) => {
      expectMirrorMatches(full.mirror.sqlite, sim);
      const silentChannels = [...sim.store.channelsList()].filter((c) => c.lastMessageTime === null).length;
      // One person request per silent person, none for channels a window lists.
      expect(sim.requestCounts()['GET /api/v2/communication-channels/:id/person']).toBe(silent.length);
      expect(silentChannels).toBeGreaterThanOrEqual(silent.length);
      const row = full.mirror.sqlite.prepare('SELECT last_message_time, details_synced_at FROM people WHERE id = ?').get(silent[0]!.id) as { last_message_time: string | null; details_synced_at: string | null };
      expect(row.last_message_time).toBeNull();
      expect(row.details_synced_at).not.toBeNull();
    });

    sim.activity({ messages: 5 });
    sim.resetCounts();
    await syncMatching(sim, db.path, {}, (inc) => {
      expect(sim.requestCounts()['GET /api/v1/accounts'] ?? 0).toBe(0);
    });
  });
});
