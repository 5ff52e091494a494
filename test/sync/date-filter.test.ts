import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store/types.js';
import type { DateFilterFinding } from '../../src/doctor/probe.js';
import { FindingsStore } from '../../src/sync/findings.js';
import { BACKENDS, freshBackendDbs } from '../helpers/backends.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { failures, syncStore } from '../helpers/mirror.js';
import { closedAfterEach } from '../helpers/sim.js';

const finding = async (store: Store) => (await FindingsStore.load(store)).get<DateFilterFinding>('date_filter');
const cursorOf = async (store: Store, stream: string) =>
  (await store.get<{ cursor: string | null }>(sql`SELECT cursor FROM sync_state WHERE stream = ${stream} AND partition = ''`))?.cursor ?? null;

describe.each(BACKENDS)('date-filter precision with LEELOO_DATE_FORMAT=auto (the default) (%s)', (backend) => {
  const fresh = closedAfterEach();
  const dbs = freshBackendDbs(backend);

  it('probes an exact server once and keeps sub-day windows', async () => {
    const sim = await fresh.simulator({ seed: 31, people: 120 });
    const db = await dbs.db();
    await syncMatching(sim, db.url, {}, async (first) => {
      const f = await finding(first.store);
      expect(f).toMatchObject({ source: 'probe', value: { mode: 'datetime', dateTo: 'day-start' } });
    });
    // The finding is stored: the next run does not probe again (one list request per stream, no probe).
    sim.activity({ messages: 5 });
    sim.resetCounts();
    await syncPassing(sim, db.url, { streams: ['people', 'communication_channels'] }, (second) => {
      expect(sim.requestCounts()['GET /api/v2/people']).toBe(1);
    });
  });

  for (const precision of ['day', 'day-start'] as const) {
    it(`stays exact on a ${precision} server: full sync, activity ticks, incrementals`, async () => {
      const sim = await fresh.simulator({ seed: 32, people: 150, knobs: { datePrecision: precision } });
      const db = await dbs.db();
      const first = await syncStore(sim, db.url);
      try {
        expect(failures(first.result)).toEqual([]);
        expect((await finding(first.store))?.value).toMatchObject({ mode: 'date', dateTo: precision });
        await expectMirrorMatches(first.store, sim);
        // Only what the window covers is claimed: never past the run's start.
        expect(Date.parse((await cursorOf(first.store, 'people'))!)).toBeLessThanOrEqual(Date.now());
      } finally {
        await first.store.close();
      }
      for (let tick = 0; tick < 2; tick++) {
        sim.activity({ messages: 10, newPeople: 3, orderChanges: 2, newOrders: 2 });
        await syncMatching(sim, db.url);
      }
    });
  }

  it('keeps up with activity during paging on a day-start server (the live day is read again next run)', async () => {
    const sim = await fresh.simulator({ seed: 36, people: 150, knobs: { datePrecision: 'day-start' } });
    const db = await dbs.db();
    const first = await syncStore(sim, db.url, { env: { LEELOO_PAGE_SIZE: '10' } });
    await first.store.close();
    expect(failures(first.result)).toEqual([]);
    sim.activity({ messages: 30, newPeople: 10 });
    sim.setKnobs({ activityPerListRequest: 1 });
    const runStart = new Date();
    await syncPassing(sim, db.url, { runStart, env: { LEELOO_PAGE_SIZE: '10' } }, async (busy) => {
      const mirrored = new Set((await busy.rows<{ id: string }>('SELECT id FROM people')).map((r) => r.id));
      const old = [...sim.store.peopleList()].filter((p) => Date.parse(p.lastMessageTime!) < runStart.getTime());
      expect(old.filter((p) => !mirrored.has(p.id))).toEqual([]);
    });
    sim.setKnobs({ activityPerListRequest: 0 });
    await syncMatching(sim, db.url);
  });

  it('re-probes and rescans in date mode when a datetime window lists records outside it', async () => {
    const sim = await fresh.simulator({ seed: 33, people: 100 });
    const db = await dbs.db();
    const env = { SYNC_LOOKBACK_MINUTES: '0' };
    // Messages well before the first run's start: a later window starting at that start must not list them.
    sim.activity({ messages: 4 });
    await new Promise((r) => setTimeout(r, 1500));
    const first = await syncStore(sim, db.url, { env });
    await first.store.close();
    expect(failures(first.result)).toEqual([]);
    sim.setKnobs({ datePrecision: 'day' });
    sim.activity({ messages: 6, newPeople: 2 });
    await syncMatching(sim, db.url, { env }, async (second) => {
      expect((await finding(second.store))?.value).toMatchObject({ mode: 'date', dateTo: 'day' });
    });
  });

  it('fails in one line and keeps the cursor when the server ignores the filter', async () => {
    const sim = await fresh.simulator({ seed: 34, people: 100 });
    const db = await dbs.db();
    const first = await syncStore(sim, db.url, { streams: ['people', 'communication_channels'] });
    const before = { people: await cursorOf(first.store, 'people'), channels: await cursorOf(first.store, 'communication_channels') };
    await first.store.close();
    expect(failures(first.result)).toEqual([]);
    sim.setKnobs({ datePrecision: 'ignored' });
    sim.activity({ messages: 3 });
    for (const format of ['auto', 'datetime']) {
      const r = await syncStore(sim, db.url, { streams: ['people', 'communication_channels'], env: { LEELOO_DATE_FORMAT: format } });
      try {
        expect(r.result.ok).toBe(false);
        for (const s of r.result.streams) {
          expect(s.status).toBe('failed');
          expect(s.error).not.toContain('\n');
          expect(s.error).toMatch(format === 'auto' ? /does not apply filter\[last_message\]/ : /does not honour filter\[last_message\] as assumed \(full datetimes, LEELOO_DATE_FORMAT=datetime\)/);
        }
        expect(await cursorOf(r.store, 'people')).toBe(before.people);
        expect(await cursorOf(r.store, 'communication_channels')).toBe(before.channels);
        if (format === 'auto') expect((await finding(r.store))?.value.mode).toBe('ignored');
      } finally {
        await r.store.close();
      }
    }
  });

  it('fails cleanly when the server claims a totalCount of 1e9', async () => {
    const sim = await fresh.simulator({ seed: 35, people: 60, knobs: { claimTotalCount: 1e9 } });
    const db = await dbs.db();
    for (const format of ['auto', 'datetime']) {
      const r = await syncStore(sim, db.url, { streams: ['people'], env: { LEELOO_DATE_FORMAT: format } });
      try {
        const people = r.result.streams[0]!;
        expect(people.status).toBe('failed');
        expect(people.error).toMatch(/totalCount .*cannot be trusted/);
        expect(people.error).not.toContain('\n');
        // Bounded: date-mode splits down to one day (3 requests a level), then two passes.
        expect(people.counters.requests).toBeLessThan(80);
        // Never past the start of the first window (pages in progress keep it at the window's from).
        const cursor = await cursorOf(r.store, 'people');
        expect(cursor === null || cursor <= '2015-01-01T00:00:00.000Z').toBe(true);
      } finally {
        await r.store.close();
      }
    }
  });
});
