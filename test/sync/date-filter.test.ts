import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import type { Mirror } from '../../src/db/connection.js';
import type { DateFilterFinding } from '../../src/doctor/probe.js';
import { FindingsStore } from '../../src/sync/findings.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { failures, syncWith } from '../helpers/mirror.js';
import { closedAfterEach } from '../helpers/sim.js';

const finding = async (m: Mirror) => (await FindingsStore.load(new SqliteStore(m))).get<DateFilterFinding>('date_filter');
const cursorOf = (m: Mirror, stream: string) =>
  (m.sqlite.prepare('SELECT cursor FROM sync_state WHERE stream = ? AND partition = ?').get(stream, '') as { cursor: string | null } | undefined)?.cursor ?? null;

describe('date-filter precision with LEELOO_DATE_FORMAT=auto (the default)', () => {
  const fresh = closedAfterEach();

  it('probes an exact server once and keeps sub-day windows', async () => {
    const sim = await fresh.simulator({ seed: 31, people: 120 });
    const db = fresh.db();
    await syncMatching(sim, db.path, {}, async (first) => {
      const f = await finding(first.mirror);
      expect(f).toMatchObject({ source: 'probe', value: { mode: 'datetime', dateTo: 'day-start' } });
    });
    // The finding is stored: the next run does not probe again (one list request per stream, no probe).
    sim.activity({ messages: 5 });
    sim.resetCounts();
    await syncPassing(sim, db.path, { streams: ['people', 'communication_channels'] }, (second) => {
      expect(sim.requestCounts()['GET /api/v2/people']).toBe(1);
    });
  });

  for (const precision of ['day', 'day-start'] as const) {
    it(`stays exact on a ${precision} server: full sync, activity ticks, incrementals`, async () => {
      const sim = await fresh.simulator({ seed: 32, people: 150, knobs: { datePrecision: precision } });
      const db = fresh.db();
      const first = await syncWith(sim, db.path);
      try {
        expect(failures(first.result)).toEqual([]);
        expect((await finding(first.mirror))?.value).toMatchObject({ mode: 'date', dateTo: precision });
        expectMirrorMatches(first.mirror.sqlite, sim);
        // Only what the window covers is claimed: never past the run's start.
        expect(Date.parse(cursorOf(first.mirror, 'people')!)).toBeLessThanOrEqual(Date.now());
      } finally {
        first.mirror.close();
      }
      for (let tick = 0; tick < 2; tick++) {
        sim.activity({ messages: 10, newPeople: 3, orderChanges: 2, newOrders: 2 });
        await syncMatching(sim, db.path);
      }
    });
  }

  it('keeps up with activity during paging on a day-start server (the live day is read again next run)', async () => {
    const sim = await fresh.simulator({ seed: 36, people: 150, knobs: { datePrecision: 'day-start' } });
    const db = fresh.db();
    const first = await syncWith(sim, db.path, { env: { LEELOO_PAGE_SIZE: '10' } });
    first.mirror.close();
    expect(failures(first.result)).toEqual([]);
    sim.activity({ messages: 30, newPeople: 10 });
    sim.setKnobs({ activityPerListRequest: 1 });
    const runStart = new Date();
    await syncPassing(sim, db.path, { runStart, env: { LEELOO_PAGE_SIZE: '10' } }, (busy) => {
      const mirrored = new Set((busy.mirror.sqlite.prepare('SELECT id FROM people').all() as { id: string }[]).map((r) => r.id));
      const old = [...sim.store.peopleList()].filter((p) => Date.parse(p.lastMessageTime!) < runStart.getTime());
      expect(old.filter((p) => !mirrored.has(p.id))).toEqual([]);
    });
    sim.setKnobs({ activityPerListRequest: 0 });
    await syncMatching(sim, db.path);
  });

  it('re-probes and rescans in date mode when a datetime window lists records outside it', async () => {
    const sim = await fresh.simulator({ seed: 33, people: 100 });
    const db = fresh.db();
    const env = { SYNC_LOOKBACK_MINUTES: '0' };
    // Messages well before the first run's start: a later window starting at that start must not list them.
    sim.activity({ messages: 4 });
    await new Promise((r) => setTimeout(r, 1500));
    const first = await syncWith(sim, db.path, { env });
    first.mirror.close();
    expect(failures(first.result)).toEqual([]);
    sim.setKnobs({ datePrecision: 'day' });
    sim.activity({ messages: 6, newPeople: 2 });
    await syncMatching(sim, db.path, { env }, async (second) => {
      expect((await finding(second.mirror))?.value).toMatchObject({ mode: 'date', dateTo: 'day' });
    });
  });

  it('fails in one line and keeps the cursor when the server ignores the filter', async () => {
    const sim = await fresh.simulator({ seed: 34, people: 100 });
    const db = fresh.db();
    const first = await syncWith(sim, db.path, { streams: ['people', 'communication_channels'] });
    const before = { people: cursorOf(first.mirror, 'people'), channels: cursorOf(first.mirror, 'communication_channels') };
    first.mirror.close();
    expect(failures(first.result)).toEqual([]);
    sim.setKnobs({ datePrecision: 'ignored' });
    sim.activity({ messages: 3 });
    for (const format of ['auto', 'datetime']) {
      const r = await syncWith(sim, db.path, { streams: ['people', 'communication_channels'], env: { LEELOO_DATE_FORMAT: format } });
      try {
        expect(r.result.ok).toBe(false);
        for (const s of r.result.streams) {
          expect(s.status).toBe('failed');
          expect(s.error).not.toContain('\n');
          expect(s.error).toMatch(format === 'auto' ? /does not apply filter\[last_message\]/ : /does not honour filter\[last_message\] as assumed \(full datetimes, LEELOO_DATE_FORMAT=datetime\)/);
        }
        expect(cursorOf(r.mirror, 'people')).toBe(before.people);
        expect(cursorOf(r.mirror, 'communication_channels')).toBe(before.channels);
        if (format === 'auto') expect((await finding(r.mirror))?.value.mode).toBe('ignored');
      } finally {
        r.mirror.close();
      }
    }
  });

  it('fails cleanly when the server claims a totalCount of 1e9', async () => {
    const sim = await fresh.simulator({ seed: 35, people: 60, knobs: { claimTotalCount: 1e9 } });
    const db = fresh.db();
    for (const format of ['auto', 'datetime']) {
      const r = await syncWith(sim, db.path, { streams: ['people'], env: { LEELOO_DATE_FORMAT: format } });
      try {
        const people = r.result.streams[0]!;
        expect(people.status).toBe('failed');
        expect(people.error).toMatch(/totalCount .*cannot be trusted/);
        expect(people.error).not.toContain('\n');
        // Bounded: date-mode splits down to one day (3 requests a level), then two passes.
        expect(people.counters.requests).toBeLessThan(80);
        // Never past the start of the first window (pages in progress keep it at the window's from).
        const cursor = cursorOf(r.mirror, 'people');
        expect(cursor === null || cursor <= '2015-01-01T00:00:00.000Z').toBe(true);
      } finally {
        r.mirror.close();
      }
    }
  });
});
