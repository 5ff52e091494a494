import { Param, Placeholder, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { communicationChannels, people, personTags } from '../../src/db/schema.js';
import { EntityUpserter, MultiRow } from '../../src/db/store/sqlite-upsert.js';

const ph = (i: number, c: string) => sql.placeholder(`${i}:${c}`);
const personSlots = (n: number) => Array.from({ length: n }, (_, i) => ({ id: ph(i, 'id'), name: ph(i, 'name'), raw: ph(i, 'raw'), syncedAt: ph(i, 'syncedAt') }));
const tagSlots = (n: number) => Array.from({ length: n }, (_, i) => ({ personId: ph(i, 'personId'), tag: ph(i, 'tag') }));

describe('MultiRow', () => {
  it('writes the n-row statements drizzle would, from its 1- and 2-row texts', () => {
    const m = openMirror(':memory:');
    const builds = [
      (n: number) => m.db.insert(people).values(personSlots(n)).onConflictDoNothing().returning({ id: people.id }),
      (n: number) =>
        m.db
          .insert(people)
          .values(personSlots(n))
          .onConflictDoUpdate({ target: people.id, set: { name: sql.raw('excluded."name"'), detailsSyncedAt: null }, where: sql`${people.raw} IS DISTINCT FROM excluded."raw"` })
          .returning({ id: people.id }),
      (n: number) => m.db.insert(personTags).values(tagSlots(n)).onConflictDoNothing(),
    ];
    for (const build of builds) {
      const multi = new MultiRow(m.sqlite, build);
      expect(multi.template).toBeDefined();
      for (const n of [1, 2, 3, 17]) {
        const c = multi.for(n);
        const q = build(n).toSQL();
        expect(c.stmt.source).toBe(q.sql);
        // Each `?` bound to the same row's column, or the same constant, as drizzle's own n-row plan.
        const want = q.params.map((p) => {
          const v = p instanceof Param ? p.value : p;
          return v instanceof Placeholder ? (v as Placeholder<string>).name : JSON.stringify(p instanceof Param ? p.encoder.mapToDriverValue(v) : v);
        });
        expect(c.plan.map((p) => (Array.isArray(p) ? `${p[0]}:${p[1]}` : JSON.stringify(p.value)))).toEqual(want);
      }
    }
  });
});

describe('EntityUpserter, existing rows in one upsert', () => {
  it('counts stubs as inserted, changed rows as updated, the rest unchanged, and writes only the changed', () => {
    const m = openMirror(':memory:');
    m.sqlite.exec("INSERT INTO communication_channels (id, person_id, synced_at) VALUES ('c1', 'p1', 'x'), ('c2', 'p1', 'x')");
    const written: string[] = [];
    const up = new EntityUpserter(m.db, communicationChannels, { adoptStubs: true, onWritten: (id) => written.push(id) });
    const row = (id: string, name: string) => ({ id, personId: 'p1', name, raw: `{"n":"${name}"}`, syncedAt: 'y' });
    expect(m.sqlite.transaction(() => up.upsert([row('c1', 'a'), row('c2', 'b'), row('c3', 'c')]))()).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    expect(written.sort()).toEqual(['c1', 'c2', 'c3']);
    written.length = 0;
    // Sizes 1 to 3 of the existing rows' statement, with changed and unchanged rows mixed.
    expect(m.sqlite.transaction(() => up.upsert([row('c1', 'a'), row('c2', 'B'), row('c3', 'c')]))()).toEqual({ inserted: 0, updated: 1, unchanged: 2 });
    expect(m.sqlite.transaction(() => up.upsert([row('c1', 'A'), row('c3', 'C'), row('c4', 'd')]))()).toEqual({ inserted: 1, updated: 2, unchanged: 0 });
    expect(m.sqlite.transaction(() => up.upsert([row('c2', 'B')]))()).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(written.sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(m.sqlite.prepare('SELECT id, name FROM communication_channels ORDER BY id').all()).toEqual([
      { id: 'c1', name: 'A' },
      { id: 'c2', name: 'B' },
      { id: 'c3', name: 'C' },
      { id: 'c4', name: 'd' },
    ]);
    m.close();
  });
});
