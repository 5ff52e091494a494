import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/index.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { failures, syncWith, simulatorFor, tempDbPath } from '../helpers/mirror.js';

describe('full sync', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 7, people: 150 }, (s) => (sim = s));

  it('equals the simulator’s data exactly, table by table', async () => {
    const { result, mirror } = await syncWith(sim, db.path);
    try {
      expect(failures(result)).toEqual([]);
      expectMirrorMatches(mirror.sqlite, sim);
      const runs = mirror.sqlite.prepare('SELECT stream, status, requests, rows_inserted FROM sync_runs WHERE run_id = ?').all(result.runId) as {
        stream: string;
        status: string;
        requests: number;
        rows_inserted: number;
      }[];
      expect(runs.length).toBe(result.streams.length);
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
      const people = runs.find((r) => r.stream === 'people')!;
      expect(people.rows_inserted).toBe(150);
      // Requests counted per stream add up to what the simulator received.
      const total = runs.reduce((a, r) => a + r.requests, 0);
      const served = Object.values(sim.requestCounts()).reduce((a: number, b) => a + (b as number), 0);
      expect(total).toBe(served);
    } finally {
      mirror.close();
    }
  });

  it('a second run with nothing changed writes nothing and asks only for lists', async () => {
    sim.resetCounts();
    const { result, mirror } = await syncWith(sim, db.path);
    try {
      expect(failures(result)).toEqual([]);
      const counts = sim.requestCounts();
      expect(counts['GET /api/v2/people/:id'] ?? 0).toBe(0);
      expect(counts['GET /api/v2/orders/:id'] ?? 0).toBe(0);
      expect(counts['GET /api/v2/communication-channels/:id/chat-messages'] ?? 0).toBe(0);
      const written = result.streams
        .filter((s) => s.stream !== 'tunnel_stats')
        .reduce((a, s) => a + s.counters.rowsInserted + s.counters.rowsUpdated, 0);
      expect(written).toBe(0);
      expectMirrorMatches(mirror.sqlite, sim);
    } finally {
      mirror.close();
    }
  });
});
