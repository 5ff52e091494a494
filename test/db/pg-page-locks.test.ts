/**
 * PostgreSQL only: page writes leave alone the rows they would not change. ON CONFLICT DO UPDATE
 * locks every conflicting row, its WHERE false or not, until the transaction commits, and
 * chat_messages' batches hold their channels' message marks (as a guarded detail UPDATE holds its
 * row) in no order a sort could match: locking unchanged rows deadlocked against them in
 * incremental runs (docs/benchmarks.md, "Deadlocks during a full sync"). The channel stubs
 * (src/sync/streams/channel-stubs.ts) and the entity upserts (src/db/store/pg-writers.ts) read
 * first, without a lock, and write only new and changed rows.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { people } from '../../src/db/schema.js';
import { openPgStore, type PgStore } from '../../src/db/store/pg.js';
import { channelStubWriter, type ChannelStub } from '../../src/sync/streams/channel-stubs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const AT = '2026-01-01T00:00:00.000Z';
const person = (id: string, raw: object = { id }) => ({ id, name: `name ${id}`, email: `${id}@example.com`, raw: JSON.stringify(raw), syncedAt: AT });
const stub = (id: string, connectionStatus = 'on'): ChannelStub => ({ id, personId: `p-${id}`, source: 'ig', connectionId: `k-${id}`, connectionStatus, syncedAt: AT });

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
  await store.run(sql`DELETE FROM communication_channels`);
  await store.run(sql`DELETE FROM people`);
  await store.transaction(() => channelStubWriter(store)([stub('c1'), stub('c2'), stub('c3')]));
  await store.entities(people).upsert([person('a'), person('b'), person('c')]);
});

describe('channel stubs on PostgreSQL', () => {
  it('write the new and changed stubs of a page without waiting on a row another transaction holds for an unchanged one', async () => {
    // A chat_messages batch's message mark, uncommitted: it holds c2's row lock.
    await other.query('BEGIN');
    await other.query(`UPDATE communication_channels SET messages_synced_at = $1 WHERE id = 'c2'`, [AT]);
    try {
      await store.transaction(async () => {
        // Waiting on c2 fails at once instead of hanging (or, with a cycle, costing deadlock_timeout).
        await store.run(sql`SET LOCAL lock_timeout = '200ms'`);
        await channelStubWriter(store)([stub('c3', 'off'), stub('c2'), stub('c1'), stub('c4')]);
      });
    } finally {
      await other.query('COMMIT');
    }
    const rows = await store.all<{ id: string; st: string }>(sql`SELECT id, connection_status AS st FROM communication_channels ORDER BY id`);
    expect(rows).toEqual([
      { id: 'c1', st: 'on' },
      { id: 'c2', st: 'on' },
      { id: 'c3', st: 'off' },
      { id: 'c4', st: 'on' },
    ]);
    expect(store.retries).toEqual({ deadlocks: 0, serializationFailures: 0 });
  });
});

describe('entity upsert on PostgreSQL', () => {
  it('writes new and changed rows without waiting on a row another transaction holds for an unchanged one', async () => {
    await other.query('BEGIN');
    await other.query(`UPDATE people SET details_synced_at = $1 WHERE id = 'b'`, [AT]);
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
      ['b', { id: 'b' }, AT], // the other transaction's write stands
      ['c', { id: 'c', v: 2 }, null],
      ['d', { id: 'd' }, null],
    ]);
  });

  it('still waits for, and then overwrites, a row it changes', async () => {
    await other.query('BEGIN');
    await other.query(`UPDATE people SET details_synced_at = $1 WHERE id = 'b'`, [AT]);
    const pending = store.entities(people).upsert([person('b', { id: 'b', v: 2 })]);
    const early = await Promise.race([pending.then(() => 'done'), new Promise((r) => setTimeout(() => r('waiting'), 150))]);
    await other.query('COMMIT');
    expect(early).toBe('waiting');
    expect(await pending).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(JSON.parse((await store.get<{ raw: string }>(sql`SELECT raw FROM people WHERE id = 'b'`))!.raw)).toEqual({ id: 'b', v: 2 });
  });
});
