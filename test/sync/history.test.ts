/**
 * Change history (order_status_history, person_tag_history): backfilled by the first sync, kept
 * by incremental and reconcile runs through order changes, silent tag edits and soft deletes,
 * and by write-backs' reflections, always agreeing with the mirror rows they describe.
 */
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import type { Store } from '../../src/db/store/types.js';
import { createClientFromEnv, type LeelooClient } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import { deliver } from '../../src/writes/deliver.js';
import { enqueueWrite } from '../../src/writes/outbox.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { simEnv, tempDbPath } from '../helpers/mirror.js';
import { useSimulatorAndDb } from '../helpers/sim.js';
import { syncedCompany, type Fixtures } from '../writes/fixtures.js';

interface Interval {
  key: string;
  value: string | null;
  validFrom: string;
  validTo: string | null;
}

/** Per key, ordered: no overlap, at most one open (the last); `contiguous`: each end is the next start. */
function checkIntervals(rows: Interval[], contiguous: boolean): Map<string, Interval[]> {
  const byKey = new Map<string, Interval[]>();
  for (const r of rows) {
    const list = byKey.get(r.key) ?? [];
    list.push(r);
    byKey.set(r.key, list);
  }
  for (const [key, list] of byKey) {
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (r.validTo !== null) expect(r.validTo >= r.validFrom, `${key}: interval ends before it starts`).toBe(true);
      if (i === list.length - 1) continue;
      expect(r.validTo, `${key}: only the last interval may be open`).not.toBeNull();
      const next = list[i + 1]!;
      if (contiguous) expect(next.validFrom, `${key}: a gap or overlap between intervals`).toBe(r.validTo);
      else expect(next.validFrom >= r.validTo!, `${key}: overlapping intervals`).toBe(true);
    }
  }
  return byKey;
}

function checkOrders(sqlite: Database.Database): Map<string, Interval[]> {
  const rows = sqlite
    .prepare(`SELECT order_id AS key, status AS value, valid_from AS validFrom, valid_to AS validTo FROM order_status_history ORDER BY order_id, valid_from, rowid`)
    .all() as Interval[];
  const byKey = checkIntervals(rows, true);
  const open = new Map(rows.filter((r) => r.validTo === null).map((r) => [r.key, r.value]));
  const live = sqlite.prepare('SELECT id, status FROM orders WHERE deleted_at IS NULL').all() as { id: string; status: string | null }[];
  expect(live.length).toBeGreaterThan(0);
  expect(Object.fromEntries(open)).toEqual(Object.fromEntries(live.map((o) => [o.id, o.status])));
  return byKey;
}

function checkTags(sqlite: Database.Database): Map<string, Interval[]> {
  const rows = sqlite
    .prepare(
      `SELECT person_id || ' ' || tag AS key, tag AS value, valid_from AS validFrom, valid_to AS validTo FROM person_tag_history ORDER BY person_id, tag, valid_from, rowid`,
    )
    .all() as Interval[];
  const byKey = checkIntervals(rows, false);
  const open = rows.filter((r) => r.validTo === null).map((r) => r.key).sort();
  const current = (
    sqlite.prepare(`SELECT t.person_id || ' ' || t.tag AS key FROM person_tags t JOIN people p ON p.id = t.person_id WHERE p.deleted_at IS NULL`).pluck().all() as string[]
  ).sort();
  expect(current.length).toBeGreaterThan(0);
  expect(open).toEqual(current);
  return byKey;
}

describe('change history through syncs', () => {
  const fx = useSimulatorAndDb({ seed: 37, people: 150 });
  let sim: Simulator;
  /** The latest start the first sync wrote. */
  let firstSync = '';
  beforeAll(() => {
    sim = fx.sim;
  });

  it('the first sync opens one interval per live order and per person tag, at first seen', async () => {
    await syncMatching(sim, fx.db.path, {}, ({ mirror }) => {
      const orders = checkOrders(mirror.sqlite);
      for (const list of orders.values()) expect(list).toHaveLength(1);
      const tags = checkTags(mirror.sqlite);
      for (const list of tags.values()) expect(list).toHaveLength(1);
      const synced = mirror.sqlite.prepare('SELECT count(*) FROM order_status_history h JOIN orders o ON o.id = h.order_id WHERE h.valid_from = o.synced_at').pluck().get();
      expect(synced).toBe(orders.size);
      firstSync = mirror.sqlite.prepare('SELECT max(valid_from) FROM person_tag_history').pluck().get() as string;
    });
  });

  it('an unchanged run writes no history', async () => {
    const before = historyState(fx.db.path);
    await syncPassing(sim, fx.db.path);
    expect(historyState(fx.db.path)).toEqual(before);
  });

  it('order changes and tag edits over incremental and reconcile runs close and open intervals, contiguous and agreeing with the mirror', async () => {
    const changedOrders = new Set<string>();
    const editedPeople = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const report = sim.activity({ messages: 6, newPeople: 2, orderChanges: 6, newOrders: 2 });
      for (const id of report.changedOrderIds) changedOrders.add(id);
      const edits = sim.silentEdits({ share: 0.06, kinds: ['tag'] }) as { tag?: string[] };
      for (const id of edits.tag ?? []) editedPeople.add(id);
      const reconcile = round % 2 === 1;
      // Silent edits are invisible to an incremental run: only reconcile must match the simulator.
      await (reconcile ? syncMatching : syncPassing)(sim, fx.db.path, reconcile ? { reconcile: true } : {}, ({ mirror }) => {
        checkOrders(mirror.sqlite);
        checkTags(mirror.sqlite);
      });
    }
    await syncPassing(sim, fx.db.path, {}, ({ mirror }) => {
      const orders = checkOrders(mirror.sqlite);
      // A status change is a new interval: some changed orders have several.
      const moved = [...changedOrders].filter((id) => (orders.get(id)?.length ?? 0) > 1);
      expect(moved.length).toBeGreaterThan(0);
      for (const id of moved) {
        const list = orders.get(id)!;
        for (let i = 1; i < list.length; i++) expect(list[i]!.value).not.toBe(list[i - 1]!.value);
      }
      const tags = checkTags(mirror.sqlite);
      // Silent tag edits are seen by reconcile: removed tags closed, added ones opened later.
      const changed = [...tags.entries()].filter(([key, list]) => editedPeople.has(key.split(' ')[0]!) && list.some((r) => r.validTo !== null || r.validFrom > firstSync));
      expect(editedPeople.size).toBeGreaterThan(0);
      expect(new Set(changed.map(([key]) => key.split(' ')[0])).size).toBe(editedPeople.size);
    });
  });

  it('tags brought by a due detail (what a reflection without a tag name leaves) move the history too', async () => {
    const edits = sim.silentEdits({ share: 0.05, kinds: ['tag'] }) as { tag?: string[] };
    const ids = edits.tag ?? [];
    expect(ids.length).toBeGreaterThan(0);
    const m = openMirror(fx.db.path);
    const due = m.sqlite.prepare('UPDATE people SET details_synced_at = NULL WHERE id = ?');
    for (const id of ids) due.run(id);
    m.close();
    // An incremental run: no window lists these people, only their details are read.
    await syncPassing(sim, fx.db.path, {}, ({ mirror }) => {
      for (const id of ids) {
        const want = [...new Set((sim.store.personDetail(id) as { data: { tags: string[] } }).data.tags)].sort();
        expect(mirror.sqlite.prepare('SELECT tag FROM person_tags WHERE person_id = ? ORDER BY tag').pluck().all(id)).toEqual(want);
      }
      checkTags(mirror.sqlite);
    });
  });

  it('a soft-deleted person closes its tag intervals, and coming back opens new ones', async () => {
    const withTags = ([...sim.store.peopleList()] as { id: string; tags: string[] }[]).find((p) => p.tags.length > 0)!;
    sim.deletePeople({ ids: [withTags.id] });
    await syncPassing(sim, fx.db.path, { reconcile: true }, ({ mirror }) => {
      const deletedAt = mirror.sqlite.prepare('SELECT deleted_at FROM people WHERE id = ?').pluck().get(withTags.id) as string | null;
      expect(deletedAt).not.toBeNull();
      const rows = mirror.sqlite.prepare('SELECT valid_to FROM person_tag_history WHERE person_id = ?').pluck().all(withTags.id) as (string | null)[];
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r === null)).toEqual([]);
      expect(rows).toContain(deletedAt);
      checkTags(mirror.sqlite);
      checkOrders(mirror.sqlite);
    });
    sim.restorePeople([withTags.id]);
    await syncPassing(sim, fx.db.path, { reconcile: true }, ({ mirror }) => {
      expect(mirror.sqlite.prepare('SELECT deleted_at FROM people WHERE id = ?').pluck().get(withTags.id)).toBeNull();
      const open = mirror.sqlite.prepare('SELECT tag FROM person_tag_history WHERE person_id = ? AND valid_to IS NULL').pluck().all(withTags.id) as string[];
      expect(open.sort()).toEqual([...withTags.tags].sort());
      checkTags(mirror.sqlite);
    });
  });
});

/** Row counts and the latest times of both tables: any write to them changes it. */
function historyState(path: string): unknown[] {
  const mirror = openMirror(path);
  try {
    return ['order_status_history', 'person_tag_history'].map((t) =>
      mirror.sqlite.prepare(`SELECT count(*) AS n, max(valid_from) AS f, max(valid_to) AS t, count(valid_to) AS closed FROM ${t}`).get(),
    );
  } finally {
    mirror.close();
  }
}

describe('change history through write-backs', () => {
  let sim: Simulator;
  let mirror: Mirror;
  let store: Store;
  let client: LeelooClient;
  let fx: Fixtures;
  const db = tempDbPath();
  const opts = { maxAttempts: 4, backoff: { baseMs: 1000, maxMs: 8000 } };

  beforeAll(async () => {
    ({ sim, mirror, store, fx } = await syncedCompany(db.path, { seed: 41, people: 60 }, ['tags', 'people', 'orders']));
    client = createClientFromEnv(simEnv(sim, db.path), { logger: silentLogger });
  });
  afterAll(async () => {
    await client.close();
    mirror.close();
    await sim.close();
    db.cleanup();
  });

  it('an add-tag reflection opens a tag interval, a remove-tag closes it, an update-order moves the status', async () => {
    const [pair] = fx.missingTagPairs(1);
    const { person, tag } = pair!;
    const add = await enqueueWrite(store, { kind: 'add-tag', target: person, payload: { tag_id: tag.id } });
    expect(await deliver(store, client, add.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const intervals = () =>
      mirror.sqlite.prepare('SELECT valid_from AS validFrom, valid_to AS validTo FROM person_tag_history WHERE person_id = ? AND tag = ? ORDER BY valid_from').all(person, tag.name) as {
        validFrom: string;
        validTo: string | null;
      }[];
    const added = intervals();
    expect(added).toHaveLength(1);
    expect(added[0]!.validTo).toBeNull();
    checkTags(mirror.sqlite);

    const remove = await enqueueWrite(store, { kind: 'remove-tag', target: person, payload: { tag_id: tag.id } });
    expect(await deliver(store, client, remove.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const removed = intervals();
    expect(removed).toHaveLength(1);
    expect(removed[0]!.validTo).not.toBeNull();
    expect(removed[0]!.validTo! >= removed[0]!.validFrom).toBe(true);
    checkTags(mirror.sqlite);

    const order = fx.manualOrders.find((o) => o.status !== 'RESOLVED')!;
    const before = mirror.sqlite.prepare('SELECT status FROM orders WHERE id = ?').pluck().get(order.id);
    expect(before).not.toBe('RESOLVED');
    const upd = await enqueueWrite(store, { kind: 'update-order', target: order.id, payload: { status: 'RESOLVED' } });
    expect(await deliver(store, client, upd.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const statuses = mirror.sqlite.prepare('SELECT status, valid_to AS validTo FROM order_status_history WHERE order_id = ? ORDER BY valid_from, rowid').all(order.id);
    expect(statuses).toEqual([
      { status: before, validTo: expect.any(String) },
      { status: 'RESOLVED', validTo: null },
    ]);
    checkOrders(mirror.sqlite);
  });
});
