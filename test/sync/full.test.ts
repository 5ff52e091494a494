import { describe, expect, it } from 'vitest';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { useSimulator } from '../helpers/sim.js';

describe.each(BACKENDS)('full sync (%s)', (backend) => {
  const fx = useSimulator({ seed: 7, people: 150 });
  const db = useBackendDb(backend);

  it('equals the simulator’s data exactly, table by table', async () => {
    await syncPassing(fx.sim, db.url, {}, async ({ result, rows }) => {
      await expectMirrorMatches(rows, fx.sim);
      const runs = await rows<{ stream: string; status: string; requests: number; rows_inserted: number }>(
        `SELECT stream, status, requests, rows_inserted FROM sync_runs WHERE run_id = '${result.runId}'`,
      );
      expect(runs.length).toBe(result.streams.length);
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
      const people = runs.find((r) => r.stream === 'people')!;
      expect(people.rows_inserted).toBe(150);
      // Requests counted per stream add up to what the simulator received.
      const total = runs.reduce((a, r) => a + r.requests, 0);
      const served = Object.values(fx.sim.requestCounts()).reduce((a: number, b) => a + (b as number), 0);
      expect(total).toBe(served);
    });
    // The fixture's own read handle sees the committed mirror too.
    await expectMirrorMatches(db.rows, fx.sim);
  });

  it('a second run with nothing changed writes nothing and asks only for lists', async () => {
    fx.sim.resetCounts();
    await syncMatching(fx.sim, db.url, {}, ({ result }) => {
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

describe.each(BACKENDS)('expectMirrorMatches on a backend read handle (%s)', (backend) => {
  const fx = useSimulator({ seed: 8, people: 30 });
  const db = useBackendDb(backend);

  it('fails on a mirror that lost one message or has one changed name', async () => {
    await syncMatching(fx.sim, db.url);
    const [{ n }] = (await db.rows<{ n: number }>('SELECT count(*) AS n FROM chat_messages')) as [{ n: number }];
    const [msg] = await db.rows<{ id: string }>('SELECT id FROM chat_messages ORDER BY id LIMIT 1');
    expect(await db.run(`DELETE FROM chat_messages WHERE id = '${msg!.id}'`)).toBe(1);
    await expect(expectMirrorMatches(db.rows, fx.sim)).rejects.toThrow(`expected ${n - 1} to be ${n}`);
    await expectMirrorMatches(db.rows, fx.sim, { messages: false });
    expect(await db.run("UPDATE tags SET name = 'renamed' WHERE id = (SELECT min(id) FROM tags)")).toBe(1);
    await expect(expectMirrorMatches(db.rows, fx.sim, { messages: false })).rejects.toThrow('to deeply equal');
  });
});
