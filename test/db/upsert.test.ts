import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { pruneMissing } from '../../src/sync/prune.js';
import { people, personTags, tags } from '../../src/db/schema.js';
import { ChildReplacer, EntityUpserter, SQLITE_MAX_VARIABLES } from '../../src/db/store/sqlite-upsert.js';

describe('EntityUpserter', () => {
  it('inserts new rows, updates changed ones and leaves unchanged ones alone', () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, tags);
    const rows = Array.from({ length: 1500 }, (_, i) => ({ id: `t${i}`, name: `n${i}`, raw: `{"i":${i}}`, syncedAt: 'a' }));
    expect(m.sqlite.transaction(() => up.upsert(rows))()).toEqual({ inserted: 1500, updated: 0, unchanged: 0 });
    rows[7] = { ...rows[7]!, name: 'renamed', raw: '{"i":"x"}' };
    expect(m.sqlite.transaction(() => up.upsert(rows))()).toEqual({ inserted: 0, updated: 1, unchanged: 1499 });
    expect(m.sqlite.prepare("SELECT name FROM tags WHERE id = 't7'").get()).toEqual({ name: 'renamed' });
    expect(m.sqlite.prepare('SELECT count(*) AS n FROM tags').get()).toEqual({ n: 1500 });
  });

  it('chunks wide batches under SQLite’s bound-variable limit', () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, tags);
    const n = Math.ceil(SQLITE_MAX_VARIABLES / 4) + 10;
    const rows = Array.from({ length: n }, (_, i) => ({ id: `t${i}`, name: 'n', raw: '{}', syncedAt: 'a' }));
    expect(m.sqlite.transaction(() => up.upsert(rows))().inserted).toBe(n);
  });

  it('keeps the last of duplicate ids in one batch', () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, tags);
    const r = up.upsert([
      { id: 'a', name: 'first', raw: '1', syncedAt: 'x' },
      { id: 'a', name: 'second', raw: '2', syncedAt: 'x' },
    ]);
    expect(r.inserted).toBe(1);
    expect(m.sqlite.prepare("SELECT name FROM tags WHERE id = 'a'").get()).toEqual({ name: 'second' });
  });

  it('applies onChange assignments only when the payload changed', () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, people, { onChange: { detailsSyncedAt: null } });
    up.upsert([{ id: 'p', name: 'A', raw: '1', syncedAt: 'x' }]);
    m.sqlite.prepare("UPDATE people SET details_synced_at = 'done'").run();
    up.upsert([{ id: 'p', name: 'A', raw: '1', syncedAt: 'y' }]);
    expect(m.sqlite.prepare('SELECT details_synced_at AS d FROM people').get()).toEqual({ d: 'done' });
    up.upsert([{ id: 'p', name: 'B', raw: '2', syncedAt: 'z' }]);
    expect(m.sqlite.prepare('SELECT details_synced_at AS d, name FROM people').get()).toEqual({ d: null, name: 'B' });
  });
});

describe('ChildReplacer and pruneMissing', () => {
  it('replaces a parent’s children exactly', () => {
    const m = openMirror(':memory:');
    const r = new ChildReplacer(m.db, personTags, 'personId');
    r.replace('p1', [{ tag: 'a' }, { tag: 'b' }]);
    r.replace('p2', [{ tag: 'a' }]);
    r.replace('p1', [{ tag: 'Клиент, опт' }]);
    expect(m.sqlite.prepare('SELECT person_id, tag FROM person_tags ORDER BY person_id, tag').all()).toEqual([
      { person_id: 'p1', tag: 'Клиент, опт' },
      { person_id: 'p2', tag: 'a' },
    ]);
  });

  it('writes nothing when the list equals the stored one, in any order', () => {
    const m = openMirror(':memory:');
    const r = new ChildReplacer(m.db, personTags, 'personId');
    expect(r.replace('p1', [])).toBe(false);
    expect(r.replace('p1', [{ tag: 'a' }, { tag: 'b' }])).toBe(true);
    const before = m.sqlite.prepare("SELECT rowid FROM person_tags WHERE person_id = 'p1' ORDER BY rowid").pluck().all();
    expect(r.replace('p1', [{ tag: 'b' }, { tag: 'a' }])).toBe(false);
    expect(m.sqlite.prepare("SELECT rowid FROM person_tags WHERE person_id = 'p1' ORDER BY rowid").pluck().all()).toEqual(before);
    expect(r.replace('p1', [{ tag: 'b' }])).toBe(true);
    expect(r.replace('p1', [])).toBe(true);
    expect(m.sqlite.prepare('SELECT count(*) FROM person_tags').pluck().get()).toBe(0);
  });

  it('deletes exactly the rows not kept', async () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, tags);
    up.upsert(['a', 'b', 'c'].map((id) => ({ id, name: id, raw: id, syncedAt: 'x' })));
    const store = new SqliteStore(m);
    expect(await store.transaction(() => pruneMissing(store, 'tags', 'id', new Set(['a', 'c'])))).toBe(1);
    expect(m.sqlite.prepare('SELECT id FROM tags ORDER BY id').all()).toEqual([{ id: 'a' }, { id: 'c' }]);
  });
});

describe('openMirror', () => {
  it('uses WAL on a file and applies migrations idempotently', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'ls-db-')), 'm.db');
    const a = openMirror(path);
    expect(a.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    a.sqlite.prepare("INSERT INTO tags (id, name, raw, synced_at) VALUES ('x', 'y', '{}', 'z')").run();
    a.close();
    const b = openMirror(path);
    expect(b.sqlite.prepare('SELECT count(*) AS n FROM tags').get()).toEqual({ n: 1 });
    expect(b.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    b.close();
  });
});
