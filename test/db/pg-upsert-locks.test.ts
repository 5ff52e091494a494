/**
 * PostgreSQL only: an entity upsert leaves alone the rows it would not change. ON CONFLICT DO
 * UPDATE locks every conflicting row, its WHERE false or not, until the transaction commits; the
 * writer reads first (no lock) and sends only new and changed rows, so an unchanged row another
 * transaction holds (a guarded detail UPDATE, a batch's message mark) neither blocks the page
 * nor deadlocks with it (src/db/store/pg-writers.ts).
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { people } from '../../src/db/schema.js';
import { openPgStore, type PgStore } from '../../src/db/store/pg.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const NOW = '2026-01-01T00:00:00.000Z';
const person = (id: string, raw: object = { id }) => ({ id, name: `name ${id}`, email: `${id}@example.com`, raw: JSON.stringify(raw), syncedAt: NOW });

let db: TestDatabase;
let store: PgStore;
let other: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  store = (await openPgStore(db.url)) as PgStore;
  other = new pg.Client({ connectionString: db.url });
  await other.connect();
});
afterAll(async () => {
  await other?.end();
  await store?.close();
  await db?.drop();
});
beforeEach(async () => {
  await store.run(sql`DELETE FROM people`);
  await store.entities(people).upsert([person('a'), person('b'), person('c')]);
});

describe('entity upsert on PostgreSQL', () => {
  it('writes new and changed rows without waiting on a row another transaction holds for an unchanged one', async () => {
    await other.query('BEGIN');
    await other.query(`UPDATE people SET details_synced_at = $1 WHERE id = 'b'`, [NOW]);
    let counts;
    try {
      counts = await store.transaction(async () => {
        // Waiting on b fails at once instead of hanging (or, with a cycle, costing deadlock_timeout).
        await store.run(sql`SET LOCAL lock_timeout = '200ms'`);
        return store.entities(people).upsert([person('c', { id: 'c', v: 2 }), person('b'), person('a'), person('d')]);
      });
    } finally {
      await other.query('COMMIT');
    }
    expect(counts).toEqual({ inserted: 1, updated: 1, unchanged: 2 });
    const rows = await store.all<{ id: string; raw: string; d: string | null }>(sql`SELECT id, raw, details_synced_at AS d FROM people ORDER BY id`);
    expect(rows.map((r) => [r.id, JSON.parse(r.raw), r.d])).toEqual([
      ['a', { id: 'a' }, null],
      ['b', { id: 'b' }, NOW], // the other transaction's write stands
      ['c', { id: 'c', v: 2 }, null],
      ['d', { id: 'd' }, null],
    ]);
  });

  it('still waits for, and then overwrites, a row it changes', async () => {
    await other.query('BEGIN');
    await other.query(`UPDATE people SET details_synced_at = $1 WHERE id = 'b'`, [NOW]);
    const pending = store.entities(people).upsert([person('b', { id: 'b', v: 2 })]);
    const early = await Promise.race([pending.then(() => 'done'), new Promise((r) => setTimeout(() => r('waiting'), 150))]);
    await other.query('COMMIT');
    expect(early).toBe('waiting');
    expect(await pending).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(JSON.parse((await store.get<{ raw: string }>(sql`SELECT raw FROM people WHERE id = 'b'`))!.raw)).toEqual({ id: 'b', v: 2 });
  });
});
