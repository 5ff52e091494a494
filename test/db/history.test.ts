import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { backfillHistory, StoreHistory } from '../../src/db/history.js';
import type { Mirror } from '../../src/db/connection.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { tags } from '../../src/db/schema.js';
import { EntityUpserter } from '../../src/db/store/sqlite-upsert.js';

const T = (n: number) => `2026-01-0${n}T00:00:00.000Z`;

const make = (m: Mirror) => new StoreHistory(new SqliteStore(m));

describe('History', () => {
  it('order status: no write when unchanged, close-and-open at the change time otherwise, never going back in time', async () => {
    const m = openMirror(':memory:');
    const h = make(m);
    const all = () => m.sqlite.prepare('SELECT status, valid_from AS f, valid_to AS t FROM order_status_history WHERE order_id = ? ORDER BY valid_from, rowid').all('o1');
    await h.recordOrderStatus('o1', 'OPENED', T(1));
    await h.recordOrderStatus('o1', 'OPENED', T(2));
    expect(all()).toEqual([{ status: 'OPENED', f: T(1), t: null }]);
    await h.recordOrderStatus('o1', 'RESOLVED', T(3));
    // A change stamped before the open interval's start (a reflection, then an earlier page time) starts where it ends.
    await h.recordOrderStatus('o1', null, T(2));
    expect(all()).toEqual([
      { status: 'OPENED', f: T(1), t: T(3) },
      { status: 'RESOLVED', f: T(3), t: T(3) },
      { status: null, f: T(3), t: null },
    ]);
    await h.recordOrderStatus('o1', null, T(4));
    expect(all()).toHaveLength(3);
    await h.closeOrder('o1', T(5));
    await h.closeOrder('o1', T(6));
    expect(all().at(-1)).toEqual({ status: null, f: T(3), t: T(5) });
    await h.recordOrderStatus('o1', null, T(7));
    expect(all().at(-1)).toEqual({ status: null, f: T(7), t: null });
  });

  it('person tags: removed tags closed, added opened, kept ones untouched; closePerson ends them all', async () => {
    const m = openMirror(':memory:');
    const h = make(m);
    const all = () => m.sqlite.prepare('SELECT tag, valid_from AS f, valid_to AS t FROM person_tag_history ORDER BY tag, valid_from').all();
    await h.recordPersonTags('p1', ['a', 'b'], T(1));
    await h.recordPersonTags('p1', ['b', 'a'], T(2));
    await h.recordPersonTags('p1', ['b', 'c'], T(3));
    expect(all()).toEqual([
      { tag: 'a', f: T(1), t: T(3) },
      { tag: 'b', f: T(1), t: null },
      { tag: 'c', f: T(3), t: null },
    ]);
    await h.closePerson('p1', T(4));
    expect(m.sqlite.prepare('SELECT count(*) FROM person_tag_history WHERE valid_to IS NULL').pluck().get()).toBe(0);
    await h.recordPersonTags('p1', [], T(5));
    expect(all()).toHaveLength(3);
  });

});

describe('History', () => {
  it('backfills a mirror made before the tables, once', async () => {
    const m = openMirror(':memory:');
    m.sqlite.prepare("INSERT INTO orders (id, status, raw, synced_at) VALUES ('o1', 'OPENED', '{}', ?), ('o2', 'X', '{}', ?)").run(T(1), T(1));
    m.sqlite.prepare("UPDATE orders SET deleted_at = ? WHERE id = 'o2'").run(T(2));
    m.sqlite.prepare("INSERT INTO people (id, raw, synced_at) VALUES ('p1', '{}', ?)").run(T(1));
    m.sqlite.prepare("INSERT INTO person_tags (person_id, tag) VALUES ('p1', 'a')").run();
    const store = new SqliteStore(m);
    await backfillHistory(store, 'orders');
    await backfillHistory(store, 'orders');
    await backfillHistory(store, 'people');
    expect(m.sqlite.prepare('SELECT order_id, status, valid_from, valid_to FROM order_status_history').all()).toEqual([
      { order_id: 'o1', status: 'OPENED', valid_from: T(1), valid_to: null },
    ]);
    expect(m.sqlite.prepare('SELECT person_id, tag, valid_from, valid_to FROM person_tag_history').all()).toEqual([{ person_id: 'p1', tag: 'a', valid_from: T(1), valid_to: null }]);
  });

  it("the upserter reports the rows it wrote, not the unchanged ones (the history's skip)", () => {
    const m = openMirror(':memory:');
    const written: string[] = [];
    const up = new EntityUpserter(m.db, tags, { onWritten: (id) => written.push(id) });
    up.upsert([
      { id: 'a', name: 'a', raw: '1', syncedAt: 'x' },
      { id: 'b', name: 'b', raw: '1', syncedAt: 'x' },
    ]);
    expect(written.sort()).toEqual(['a', 'b']);
    written.length = 0;
    up.upsert([
      { id: 'a', name: 'a', raw: '1', syncedAt: 'y' },
      { id: 'b', name: 'b2', raw: '2', syncedAt: 'y' },
      { id: 'c', name: 'c', raw: '1', syncedAt: 'y' },
    ]);
    expect(written.sort()).toEqual(['b', 'c']);
  });
});
