import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { BACKENDS, createBackendDb } from '../helpers/backends.js';
import { failures, syncStore, syncWith, tempDbPath } from '../helpers/mirror.js';

const served = (sim: Simulator) => Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0);
const ENV = { LEELOO_PAGE_SIZE: '100' };

describe('sync --reconcile', () => {
  let sim: Simulator;
  const db = tempDbPath();
  let fullRequests = 0;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 23, people: 800 });
    const { result, mirror } = await syncWith(sim, db.path, { env: ENV });
    mirror.close();
    expect(failures(result)).toEqual([]);
    fullRequests = served(sim);
  });
  afterAll(async () => {
    await sim.close();
    db.cleanup();
  });

  it('catches silent edits and deletions in one run, custom fields within seven, each run cheap', async () => {
    const edits = sim.silentEdits({ share: 0.02 });
    const gone = sim.deletePeople({ share: 0.01 });
    expect(edits.tag.length + edits.email.length + edits.customField.length).toBe(16);
    expect(gone.personIds).toHaveLength(8);

    // An incremental run sees none of it: nothing sent a message.
    await syncPassing(sim, db.path, { env: ENV }, (plain) => {
      const deleted = plain.mirror.sqlite.prepare('SELECT count(*) FROM people WHERE deleted_at IS NOT NULL').pluck().get();
      expect(deleted).toBe(0);
      expect(() => expectMirrorMatches(plain.mirror.sqlite, sim, { details: false })).toThrow();
    });

    const limit = Math.floor(0.15 * fullRequests);
    let runs = 0;
    for (;;) {
      runs++;
      sim.resetCounts();
      const { result, mirror } = await syncWith(sim, db.path, { env: ENV, reconcile: true });
      try {
        expect(failures(result)).toEqual([]);
        expect(served(sim), `reconcile run ${runs}: requests vs a full sync's ${fullRequests}`).toBeLessThanOrEqual(limit);
        // One run: people, person_tags and channels exact; the deleted ones kept, marked.
        expectMirrorMatches(mirror.sqlite, sim, { details: false });
        const marked = (table: string) =>
          mirror.sqlite.prepare(`SELECT id FROM ${table} WHERE deleted_at IS NOT NULL ORDER BY id`).pluck().all();
        expect(marked('people')).toEqual([...gone.personIds].sort());
        expect(marked('communication_channels')).toEqual([...gone.channelIds].sort());
        const kept = mirror.sqlite
          .prepare(`SELECT (SELECT count(*) FROM person_tags WHERE person_id IN (SELECT id FROM people WHERE deleted_at IS NOT NULL)) +
                           (SELECT count(*) FROM chat_messages WHERE channel_id IN (SELECT id FROM communication_channels WHERE deleted_at IS NOT NULL))`)
          .pluck()
          .get() as number;
        expect(kept).toBeGreaterThan(0);
        const trigger = mirror.sqlite.prepare('SELECT DISTINCT trigger FROM sync_runs WHERE run_id = ?').pluck().all(result.runId);
        expect(trigger).toEqual(['cli+reconcile']);
        let exact = true;
        try {
          expectMirrorMatches(mirror.sqlite, sim);
        } catch {
          exact = false;
        }
        if (exact) break;
      } finally {
        mirror.close();
      }
      expect(runs, 'reconcile runs until custom fields are exact').toBeLessThan(7);
    }
    expect(runs).toBeGreaterThan(1);
  });
});

describe.each(BACKENDS)('sync --reconcile while the company moves, and after a kill (%s)', (backend) => {
  it('does not take people and channels that wrote during the pass for deleted', { timeout: 150_000 }, async () => {
    const other = await startSimulator({ seed: 29, people: 200 });
    const d = await createBackendDb(backend);
    try {
      await syncPassing(other, d.url, { env: ENV });
      // Messages arrive while the reconcile pages: those people leave every window up to the run's start.
      other.setKnobs({ activityPerListRequest: 2 });
      await syncPassing(other, d.url, { env: { ...ENV, LEELOO_PAGE_SIZE: '20' }, reconcile: true, streams: ['people', 'communication_channels'] }, async ({ rows }) => {
        expect(await rows('SELECT count(*) AS n FROM people WHERE deleted_at IS NOT NULL')).toEqual([{ n: 0 }]);
        expect(await rows('SELECT count(*) AS n FROM communication_channels WHERE deleted_at IS NOT NULL')).toEqual([{ n: 0 }]);
      });
      other.setKnobs({ activityPerListRequest: 0 });
      await syncMatching(other, d.url, { env: ENV });
    } finally {
      await other.close();
      await d.destroy();
    }
  });

  it('a killed reconcile resumes where it stopped, beside the incremental cursor, and then proves nothing about absence', async () => {
    const other = await startSimulator({ seed: 31, people: 300 });
    const d = await createBackendDb(backend);
    // No detail re-reads: the deleted people's details stay settled, so only the list pass can find them.
    const env = { LEELOO_PAGE_SIZE: '20', SYNC_RECONCILE_DETAIL_SHARE: '0' };
    try {
      await syncPassing(other, d.url, { env });
      const gone = other.deletePeople({ share: 0.02 });
      other.resetCounts();
      const abort = new AbortController();
      const watch = setInterval(() => {
        if ((other.requestCounts()['GET /api/v2/people'] ?? 0) >= 8) abort.abort(new Error('killed'));
      }, 1);
      const runStart = new Date();
      const killed = await syncStore(other, d.url, { env, reconcile: true, streams: ['people'], signal: abort.signal, runStart }).finally(() => clearInterval(watch));
      let cursor: unknown;
      let offset = 0;
      try {
        expect(killed.result.streams[0]!.status).toBe('interrupted');
        const parts = await d.rows<{ partition: string; cursor: string; state: string }>("SELECT partition, cursor, state FROM sync_state WHERE stream = 'people'");
        const reconcile = parts.find((p) => p.partition === 'reconcile')!;
        offset = (JSON.parse(reconcile.state) as { current: { offset: number } }).current.offset;
        expect(offset).toBeGreaterThanOrEqual(20);
        // The incremental cursor went forward to this run's start, never back to the reconcile's position.
        cursor = parts.find((p) => p.partition === '')!.cursor;
        expect(cursor).toBe(runStart.toISOString());
      } finally {
        await killed.store.close();
      }
      other.resetCounts();
      const resumed = await syncStore(other, d.url, { env, reconcile: true, streams: ['people'] });
      const resumedPages = other.requestCounts()['GET /api/v2/people'] ?? 0;
      try {
        expect(failures(resumed.result)).toEqual([]);
        expect(await d.rows('SELECT count(*) AS n FROM people WHERE deleted_at IS NOT NULL')).toEqual([{ n: 0 }]);
        // No pass in progress (state JSON read in JavaScript: json_extract is SQLite's).
        const [reconcile] = await d.rows<{ state: string | null }>("SELECT state FROM sync_state WHERE stream = 'people' AND partition = 'reconcile'");
        expect(reconcile).toBeDefined();
        expect(reconcile!.state === null ? null : ((JSON.parse(reconcile!.state) as { current?: unknown }).current ?? null)).toBeNull();
      } finally {
        await resumed.store.close();
      }
      other.resetCounts();
      await syncPassing(other, d.url, { env, reconcile: true, streams: ['people'] }, async ({ rows }) => {
        // The resumed run read only the rest of the pass (plus one window up to its own start):
        // the pages before the kill's offset were not read again.
        expect(resumedPages).toBeLessThanOrEqual(other.requestCounts()['GET /api/v2/people']! - Math.floor(offset / 20) + 1);
        expect((await rows<{ id: string }>('SELECT id FROM people WHERE deleted_at IS NOT NULL ORDER BY id')).map((r) => r.id)).toEqual([...gone.personIds].sort());
      });
    } finally {
      await other.close();
      await d.destroy();
    }
  });
});
