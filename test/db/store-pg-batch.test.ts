/**
 * PgStore's group commit under a busy lane: what queues while a batch commits joins the next
 * batch whole (one transaction), not 5-ms slices of it; a failing item in such a batch still
 * rolls back alone, between neighbours that commit.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { people } from '../../src/db/schema.js';
import { openPgStore } from '../../src/db/store/pg.js';
import type { Store } from '../../src/db/store/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const NOW = '2024-05-06T07:08:09.123Z';
const person = (id: string) => ({ id, name: `name ${id}`, raw: JSON.stringify({ id }), syncedAt: NOW });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDatabase;
let store: Store;
beforeAll(async () => {
  db = await createTestDatabase();
  store = await openPgStore(db.url);
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const txid = async () => (await store.get<{ x: string }>(sql`SELECT txid_current()::text AS x`))!.x;

describe('PgStore.batched while a batch is committing', () => {
  it('queues everything that arrives meanwhile into the next transaction, whole', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = store.batched(async () => {
      await held;
      return txid();
    });
    await pause(30); // the first batch is committing (its timer fired long ago)
    const later: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) {
      later.push(store.batched(txid));
      await pause(10); // twice the batching delay: each would have been a batch of its own
    }
    release();
    const firstTx = await first;
    const laterTx = await Promise.all(later);
    expect(new Set(laterTx).size).toBe(1);
    expect(laterTx[0]).not.toBe(firstTx);
  });

  it('rolls back only the failing item of such a batch, and its neighbours commit', async () => {
    const w = store.entities(people);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = store.batched(() => held);
    await pause(20);
    const a = store.batched(async () => (await w.upsert([person('a')])).inserted);
    const b = store.batched(async () => {
      await w.upsert([person('b')]);
      await store.run(sql`SELECT 1 / 0`);
    });
    const c = store.batched(async () => (await w.upsert([person('c')])).inserted);
    const d = store.batched(async () => {
      // A failure the item catches itself, inside a savepoint of its own, leaves the item whole.
      await store.transaction(() => store.run(sql`SELECT 1 / 0`)).catch(() => undefined);
      return (await w.upsert([person('d')])).inserted;
    });
    release();
    await first;
    expect(await a).toBe(1);
    await expect(b).rejects.toThrow(/division by zero/);
    expect(await c).toBe(1);
    expect(await d).toBe(1);
    expect((await db.query<{ id: string }>('SELECT id FROM people ORDER BY id')).rows.map((r) => r.id)).toEqual(['a', 'c', 'd']);
  });
});
