/**
 * PostgreSQL only: the people stream's channel stubs leave alone the channels they would not
 * change. ON CONFLICT DO UPDATE locks every conflicting row until the page's transaction commits,
 * and chat_messages' batches hold their channels' message marks in no order a sort could match:
 * locking unchanged stubs deadlocked against them in incremental runs (docs/benchmarks.md).
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../src/db/store/pg.js';
import { channelStubWriter, type ChannelStub } from '../../src/sync/streams/channel-stubs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const AT = '2026-01-01T00:00:00.000Z';
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
  await store.transaction(() => channelStubWriter(store)([stub('c1'), stub('c2'), stub('c3')]));
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
