import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { people, personTags, tags } from '../../src/db/schema.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';

const open = (opts?: ConstructorParameters<typeof SqliteStore>[1]) => new SqliteStore(openMirror(':memory:'), opts);
const tag = (id: string) => sql`INSERT INTO tags (id, name, raw, synced_at) VALUES (${id}, ${id}, '{}', 'x')`;
const ids = (s: SqliteStore) => s.all<{ id: string }>(sql`SELECT id FROM tags ORDER BY id`).then((r) => r.map((x) => x.id));
const tick = () => new Promise((r) => setImmediate(r));

describe('SqliteStore transactions', () => {
  it('keeps a concurrent chain out of an open transaction: it waits, and sees only committed rows', async () => {
    const s = open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[][] = [];
    const tx = s.transaction(async () => {
      await s.run(tag('a'));
      await gate;
      await s.run(tag('b'));
      throw new Error('undo');
    });
    // Another chain: its write must not join (and be rolled back with) the transaction above.
    const other = (async () => {
      await tick();
      await s.run(tag('c'));
      seen.push(await ids(s));
    })();
    await tick();
    await tick();
    expect(seen).toEqual([]);
    release();
    await expect(tx).rejects.toThrow('undo');
    await other;
    expect(seen).toEqual([['c']]);
    expect(await ids(s)).toEqual(['c']);
  });

  it('commits on success and runs an uncontended call synchronously', async () => {
    const s = open();
    const p = s.run(tag('x'));
    // Already written before the promise is awaited: no hop through a queue.
    expect(s.mirror.sqlite.prepare('SELECT count(*) FROM tags').pluck().get()).toBe(1);
    expect(await p).toBe(1);
    await s.transaction(async () => {
      await s.run(tag('y'));
    });
    expect(s.mirror.sqlite.inTransaction).toBe(false);
    expect(await ids(s)).toEqual(['x', 'y']);
  });

  it('nests as savepoints: an inner failure rolls back only the inner writes', async () => {
    const s = open();
    await s.transaction(async () => {
      await s.run(tag('outer'));
      await expect(
        s.transaction(async () => {
          await s.run(tag('inner'));
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await s.transaction(async () => {
        await s.run(tag('inner2'));
      });
    });
    expect(await ids(s)).toEqual(['inner2', 'outer']);
    // Savepoints are named by depth: nesting again prepares no new statements.
    const nest = () => s.transaction(() => s.transaction(() => s.transaction(async () => undefined)));
    await nest();
    const n = s.preparedCount;
    await nest();
    await s.batched(async () => undefined);
    expect(s.preparedCount).toBe(n);
  });

  it('batched: shares one transaction, isolates a failing item, flushes at the batch size', async () => {
    const s = open({ maxBatch: 3, maxDelayMs: 60_000 });
    const ok1 = s.batched(async () => s.run(tag('a')));
    const bad = s.batched(async () => {
      await s.run(tag('b'));
      await s.run(tag('a')); // primary key violation: this item, and only this one, rolls back
    });
    const ok2 = s.batched(async () => s.run(tag('c')));
    await expect(ok1).resolves.toBe(1);
    await expect(bad).rejects.toThrow(/UNIQUE/);
    await expect(ok2).resolves.toBe(1);
    expect(await ids(s)).toEqual(['a', 'c']);
  });

  it('batched: a batch that succeeds whole runs no savepoint per item; one with a failing item runs again item by item', async () => {
    const s = open({ maxBatch: 3, maxDelayMs: 60_000 });
    const texts: string[] = [];
    const prepare = s.mirror.sqlite.prepare.bind(s.mirror.sqlite);
    s.mirror.sqlite.prepare = ((text: string) => (texts.push(text), prepare(text))) as typeof s.mirror.sqlite.prepare;
    const runs: string[] = [];
    const item = (id: string) => s.batched(async () => (runs.push(id), s.run(tag(id))));
    expect(await Promise.all([item('a'), item('b'), item('c')])).toEqual([1, 1, 1]);
    expect(texts.filter((t) => t.includes('SAVEPOINT'))).toEqual([]);
    expect(runs).toEqual(['a', 'b', 'c']);
    runs.length = 0;
    const results = await Promise.allSettled([item('d'), item('a'), item('e')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // The first pass stopped at the failing item and was rolled back; the second isolated it.
    expect(runs).toEqual(['d', 'a', 'd', 'a', 'e']);
    expect(texts.some((t) => t.startsWith('SAVEPOINT'))).toBe(true);
    expect(await ids(s)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('batched flushes after the delay when the batch is not full', async () => {
    const s = open({ maxBatch: 64, maxDelayMs: 5 });
    expect(await Promise.all([s.batched(async () => 1), s.batched(async () => 2)])).toEqual([1, 2]);
  });

  it('prepares a statement once per SQL text, and fills placeholders per call', async () => {
    const s = open();
    for (const id of ['a', 'b', 'c']) await s.run(tag(id));
    const n = s.preparedCount;
    for (const id of ['d', 'e']) await s.run(tag(id));
    expect(s.preparedCount).toBe(n);
    const q = s.prepare<{ id: string }>(sql`SELECT id FROM tags WHERE id = ${sql.placeholder('id')}`);
    expect(await q.get({ id: 'd' })).toEqual({ id: 'd' });
    expect(await q.all({ id: 'zz' })).toEqual([]);
    await expect(q.get({})).rejects.toThrow(/placeholder id/);
  });
});

describe('SqliteStore writers', () => {
  it('entities: inserts, skips unchanged, nulls nullOnChange columns on change', async () => {
    const s = open();
    const w = s.entities(tags);
    expect(await w.upsert([{ id: 'a', name: 'A', raw: '1', syncedAt: 'x' }])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(await w.upsert([{ id: 'a', name: 'A', raw: '1', syncedAt: 'y' }])).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await w.upsert([{ id: 'a', name: 'B', raw: '2', syncedAt: 'y' }])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const p = s.entities(people, { nullOnChange: ['detailsSyncedAt'] });
    await p.upsert([{ id: 'p', name: 'A', raw: '1', syncedAt: 'x' }]);
    await s.run(sql`UPDATE people SET details_synced_at = 'done'`);
    await p.upsert([{ id: 'p', name: 'A', raw: '1', syncedAt: 'y' }]);
    expect(await s.get(sql`SELECT details_synced_at AS d FROM people`)).toEqual({ d: 'done' });
    await p.upsert([{ id: 'p', name: 'B', raw: '2', syncedAt: 'z' }]);
    expect(await s.get(sql`SELECT details_synced_at AS d FROM people`)).toEqual({ d: null });
  });

  it('children: an equal list writes nothing', async () => {
    const s = open();
    const c = s.children(personTags, 'personId');
    expect(await c.replace('p', [{ tag: 'a' }])).toBe(true);
    expect(await c.replace('p', [{ tag: 'a' }])).toBe(false);
    expect(await s.all(sql`SELECT person_id AS "personId", tag FROM person_tags`)).toEqual([{ personId: 'p', tag: 'a' }]);
  });
});

describe('openStore', () => {
  it('opens a SQLite file for a path or a file: URL', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { openStore } = await import('../../src/db/store/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ls-store-'));
    try {
      const s = await openStore(`file:${join(dir, 'm.db')}`);
      expect(s.dialect).toBe('sqlite');
      expect(s.location).toBe(join(dir, 'm.db'));
      expect(await s.run(tag('a'))).toBe(1);
      await s.close();
      const again = await openStore(join(dir, 'm.db'));
      expect(await again.all(sql`SELECT id FROM tags`)).toEqual([{ id: 'a' }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
