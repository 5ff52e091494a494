import { describe, expect, it } from 'vitest';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { useSimulatorAndDb } from '../helpers/sim.js';

describe('full sync', () => {
  const fx = useSimulatorAndDb({ seed: 7, people: 150 });
  const db = fx.db;

  it('equals the simulator’s data exactly, table by table', async () => {
    await syncPassing(fx.sim, db.path, {}, ({ result, mirror }) => {
      expectMirrorMatches(mirror.sqlite, fx.sim);
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
      const served = Object.values(fx.sim.requestCounts()).reduce((a: number, b) => a + (b as number), 0);
      expect(total).toBe(served);
    });
  });

  it('a second run with nothing changed writes nothing and asks only for lists', async () => {
    fx.sim.resetCounts();
    await syncMatching(fx.sim, db.path, {}, ({ result, mirror }) => {
      const counts = fx.sim.requestCounts();
      expect(counts['GET /api/v2/people/:id'] ?? 0).toBe(0);
      expect(counts['GET /api/v2/orders/:id'] ?? 0).toBe(0);
      expect(counts['GET /api/v2/communication-channels/:id/chat-messages'] ?? 0).toBe(0);
      const written = result.streams
        .filter((s) => s.stream !== 'tunnel_stats')
        .reduce((a, s) => a + s.counters.rowsInserted + s.counters.rowsUpdated, 0);
      expect(written).toBe(0);
    });
  });
});
