/**
 * Change history (order_status_history, person_tag_history): backfilled by the first sync, kept
 * by incremental and reconcile runs through order changes, silent tag edits and soft deletes,
 * and by write-backs' reflections, always agreeing with the mirror rows they describe.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store/types.js';
import { createClientFromEnv, type LeelooClient } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import { deliver } from '../../src/writes/deliver.js';
import { enqueueWrite } from '../../src/writes/outbox.js';
import { BACKENDS, useBackendDb, type ReadRows } from '../helpers/backends.js';
import { expectMirrorMatches, syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { simEnv } from '../helpers/mirror.js';
import { useSimulator } from '../helpers/sim.js';
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

/**
 * The tables have no id: within a key, intervals order by their start, and among equal starts a
 * closed (zero-length) one comes before the open one, which is how they were written.
 */
const ORDER_WITHIN_KEY = 'valid_from, valid_to IS NULL, valid_to';

async function checkOrders(rows: ReadRows): Promise<Map<string, Interval[]>> {
  const history = await rows<Interval>(
    `SELECT order_id AS "key", status AS "value", valid_from AS "validFrom", valid_to AS "validTo" FROM order_status_history ORDER BY order_id, ${ORDER_WITHIN_KEY}`,
  );
  const byKey = checkIntervals(history, true);
  const open = new Map(history.filter((r) => r.validTo === null).map((r) => [r.key, r.value]));
  const live = await rows<{ id: string; status: string | null }>('SELECT id, status FROM orders WHERE deleted_at IS NULL');
  expect(live.length).toBeGreaterThan(0);
  expect(Object.fromEntries(open)).toEqual(Object.fromEntries(live.map((o) => [o.id, o.status])));
  return byKey;
}

async function checkTags(rows: ReadRows): Promise<Map<string, Interval[]>> {
  const history = await rows<Interval>(
    `SELECT person_id || ' ' || tag AS "key", tag AS "value", valid_from AS "validFrom", valid_to AS "validTo" FROM person_tag_history ORDER BY person_id, tag, ${ORDER_WITHIN_KEY}`,
  );
  const byKey = checkIntervals(history, false);
  const open = history.filter((r) => r.validTo === null).map((r) => r.key).sort();
  const current = (
    await rows<{ key: string }>(`SELECT t.person_id || ' ' || t.tag AS "key" FROM person_tags t JOIN people p ON p.id = t.person_id WHERE p.deleted_at IS NULL`)
  )
    .map((r) => r.key)
    .sort();
  expect(current.length).toBeGreaterThan(0);
  expect(open).toEqual(current);
  return byKey;
}

/** The first column of every row. */
const pluck = async (rows: ReadRows, q: string) => (await rows(q)).map((r) => Object.values(r as object)[0]);
const one = async (rows: ReadRows, q: string) => (await pluck(rows, q))[0];
/** Ids here are the simulator's hex ids and tag names: quoted inline, quotes doubled. */
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

describe.each(BACKENDS)('change history through syncs (%s)', (backend) => {
  const fx = useSimulator({ seed: 37, people: 150 });
  const db = useBackendDb(backend);
  let sim: Simulator;
  /** The latest start the first sync wrote. */
  let firstSync = '';
  beforeAll(() => {
    sim = fx.sim;
  });

  it('the first sync opens one interval per live order and per person tag, at first seen', async () => {
    await syncMatching(sim, db.url, {}, async ({ rows }) => {
      const orders = await checkOrders(rows);
      for (const list of orders.values()) expect(list).toHaveLength(1);
      const tags = await checkTags(rows);
      for (const list of tags.values()) expect(list).toHaveLength(1);
      const synced = await one(rows, 'SELECT count(*) AS n FROM order_status_history h JOIN orders o ON o.id = h.order_id WHERE h.valid_from = o.synced_at');
      expect(Number(synced)).toBe(orders.size);
      firstSync = String(await one(rows, 'SELECT max(valid_from) AS f FROM person_tag_history'));
    });
  });

  it('an unchanged run writes no history', async () => {
    const before = await historyState(db.rows);
    await syncPassing(sim, db.url);
    expect(await historyState(db.rows)).toEqual(before);
  });

  it('order changes and tag edits over incremental and reconcile runs close and open intervals, contiguous and agreeing with the mirror', { timeout: 60_000 }, async () => {
    const changedOrders = new Set<string>();
    /** People whose tags a reconcile found changed: edited since the last reconcile, and not back as they were. */
    const editedPeople = new Set<string>();
    const tagsNow = () => new Map(([...sim.store.peopleList()] as { id: string; tags: string[] }[]).map((p) => [p.id, [...new Set(p.tags)].sort().join('\n')]));
    let tagsAtReconcile = tagsNow();
    const pending = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const report = sim.activity({ messages: 6, newPeople: 2, orderChanges: 6, newOrders: 2 });
      for (const id of report.changedOrderIds) changedOrders.add(id);
      const edits = sim.silentEdits({ share: 0.06, kinds: ['tag'] }) as { tag?: string[] };
      for (const id of edits.tag ?? []) pending.add(id);
      const reconcile = round % 2 === 1;
      if (reconcile) {
        // An add and a remove of the same tag between two reconciles cancel: no run saw a change.
        const now = tagsNow();
        for (const id of pending) if (now.get(id) !== tagsAtReconcile.get(id)) editedPeople.add(id);
        pending.clear();
        tagsAtReconcile = now;
      }
      // Silent edits are invisible to an incremental run: only reconcile must match the simulator,
      // in its list fields. Not in every detail: two silent tag edits of one person that cancel
      // leave the list item as it was and move only the detail's updated_at, which only the
      // rolling detail re-read catches, runs later (test/sync/rolling-details.test.ts; seed 37
      // with 80 people draws such a person).
      await syncPassing(sim, db.url, reconcile ? { reconcile: true } : {}, async ({ rows }) => {
        await checkOrders(rows);
        await checkTags(rows);
        if (reconcile) await expectMirrorMatches(rows, sim, { details: false });
      });
    }
    await syncPassing(sim, db.url, {}, async ({ rows }) => {
      const orders = await checkOrders(rows);
      // A status change is a new interval: some changed orders have several.
      const moved = [...changedOrders].filter((id) => (orders.get(id)?.length ?? 0) > 1);
      expect(moved.length).toBeGreaterThan(0);
      for (const id of moved) {
        const list = orders.get(id)!;
        for (let i = 1; i < list.length; i++) expect(list[i]!.value).not.toBe(list[i - 1]!.value);
      }
      const tags = await checkTags(rows);
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
    expect(await db.run(`UPDATE people SET details_synced_at = NULL WHERE id IN (${ids.map(lit).join(', ')})`)).toBe(ids.length);
    await db.release();
    // An incremental run: no window lists these people, only their details are read.
    await syncPassing(sim, db.url, {}, async ({ rows }) => {
      for (const id of ids) {
        const want = [...new Set((sim.store.personDetail(id) as { data: { tags: string[] } }).data.tags)].sort();
        expect(((await pluck(rows, `SELECT tag FROM person_tags WHERE person_id = ${lit(id)}`)) as string[]).sort()).toEqual(want);
      }
      await checkTags(rows);
    });
  });

  it('a soft-deleted person closes its tag intervals, and coming back opens new ones', async () => {
    const withTags = ([...sim.store.peopleList()] as { id: string; tags: string[] }[]).find((p) => p.tags.length > 0)!;
    sim.deletePeople({ ids: [withTags.id] });
    await syncPassing(sim, db.url, { reconcile: true }, async ({ rows }) => {
      const deletedAt = (await one(rows, `SELECT deleted_at FROM people WHERE id = ${lit(withTags.id)}`)) as string | null;
      expect(deletedAt).not.toBeNull();
      const ends = (await pluck(rows, `SELECT valid_to FROM person_tag_history WHERE person_id = ${lit(withTags.id)}`)) as (string | null)[];
      expect(ends.length).toBeGreaterThan(0);
      expect(ends.filter((r) => r === null)).toEqual([]);
      expect(ends).toContain(deletedAt);
      await checkTags(rows);
      await checkOrders(rows);
    });
    sim.restorePeople([withTags.id]);
    await syncPassing(sim, db.url, { reconcile: true }, async ({ rows }) => {
      expect(await one(rows, `SELECT deleted_at FROM people WHERE id = ${lit(withTags.id)}`)).toBeNull();
      const open = (await pluck(rows, `SELECT tag FROM person_tag_history WHERE person_id = ${lit(withTags.id)} AND valid_to IS NULL`)) as string[];
      expect(open.sort()).toEqual([...withTags.tags].sort());
      await checkTags(rows);
    });
  });
});

/** Row counts and the latest times of both tables: any write to them changes it. */
async function historyState(rows: ReadRows): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const t of ['order_status_history', 'person_tag_history']) {
    const [r] = await rows<{ n: unknown; f: unknown; t: unknown; closed: unknown }>(
      `SELECT count(*) AS n, max(valid_from) AS f, max(valid_to) AS t, count(valid_to) AS closed FROM ${t}`,
    );
    out.push({ ...r, n: Number(r!.n), closed: Number(r!.closed) });
  }
  return out;
}

describe.each(BACKENDS)('change history through write-backs (%s)', (backend) => {
  let sim: Simulator;
  let store: Store;
  let client: LeelooClient;
  let fx: Fixtures;
  const db = useBackendDb(backend);
  const opts = { maxAttempts: 4, backoff: { baseMs: 1000, maxMs: 8000 } };
  const rows: ReadRows = async <R>(q: string) => store.all<R>(sql.raw(q));

  beforeAll(async () => {
    ({ sim, store, fx } = await syncedCompany(db.url, { seed: 41, people: 60 }, ['tags', 'people', 'orders']));
    client = createClientFromEnv(simEnv(sim, db.url), { logger: silentLogger });
  });
  afterAll(async () => {
    await client?.close();
    await store?.close();
    await sim?.close();
  });

  it('an add-tag reflection opens a tag interval, a remove-tag closes it, an update-order moves the status', async () => {
    const [pair] = fx.missingTagPairs(1);
    const { person, tag } = pair!;
    const add = await enqueueWrite(store, { kind: 'add-tag', target: person, payload: { tag_id: tag.id } });
    expect(await deliver(store, client, add.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const intervals = () =>
      store.all<{ validFrom: string; validTo: string | null }>(
        sql`SELECT valid_from AS "validFrom", valid_to AS "validTo" FROM person_tag_history WHERE person_id = ${person} AND tag = ${tag.name} ORDER BY valid_from`,
      );
    const added = await intervals();
    expect(added).toHaveLength(1);
    expect(added[0]!.validTo).toBeNull();
    await checkTags(rows);

    const remove = await enqueueWrite(store, { kind: 'remove-tag', target: person, payload: { tag_id: tag.id } });
    expect(await deliver(store, client, remove.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const removed = await intervals();
    expect(removed).toHaveLength(1);
    expect(removed[0]!.validTo).not.toBeNull();
    expect(removed[0]!.validTo! >= removed[0]!.validFrom).toBe(true);
    await checkTags(rows);

    const order = fx.manualOrders.find((o) => o.status !== 'RESOLVED')!;
    const before = (await store.get<{ status: string }>(sql`SELECT status FROM orders WHERE id = ${order.id}`))?.status;
    expect(before).not.toBe('RESOLVED');
    const upd = await enqueueWrite(store, { kind: 'update-order', target: order.id, payload: { status: 'RESOLVED' } });
    expect(await deliver(store, client, upd.id, opts)).toMatchObject({ outcome: 'succeeded' });
    const statuses = await store.all(
      sql`SELECT status, valid_to AS "validTo" FROM order_status_history WHERE order_id = ${order.id} ORDER BY ${sql.raw(ORDER_WITHIN_KEY)}`,
    );
    expect(statuses).toEqual([
      { status: before, validTo: expect.any(String) },
      { status: 'RESOLVED', validTo: null },
    ]);
    await checkOrders(rows);
  });
});
