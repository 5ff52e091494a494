/** What only the PostgreSQL Store has: several connections, row locks, server-side failures. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { people, personTags } from '../../src/db/schema.js';
import { openPgStore, type PgStore } from '../../src/db/store/pg.js';
import type { Store, StoreRetry } from '../../src/db/store/types.js';
import { ConfigError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const NOW = '2024-05-06T07:08:09.123Z';
const person = (id: string, raw: object = { id }) => ({ id, name: `name ${id}`, raw: JSON.stringify(raw), syncedAt: NOW });

let db: TestDatabase;
let store: Store;
/** What the store told its onRetry hook, since the test began. */
let told: StoreRetry[] = [];
const counted = () => ({ ...(store as PgStore).retries });

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openPgStore(db.url, { onRetry: (r) => told.push(r) });
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});
beforeEach(async () => {
  await store.run(sql`DELETE FROM people`);
  told = [];
});

/** A promise and its resolver, to make two transactions meet. */
function signal(): { wait: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const wait = new Promise<void>((r) => (fire = r));
  return { wait, fire };
}

describe('PgStore', () => {
  it('writes no new row version for an unchanged re-upsert', async () => {
    const w = store.entities(people);
    await w.upsert([person('a'), person('b')]);
    const versions = () => db.query<{ id: string; xmin: string }>('SELECT id, xmin::text AS xmin FROM people ORDER BY id').then((r) => r.rows);
    const before = await versions();
    expect(await w.upsert([person('a'), person('b', { id: 'b', v: 2 })])).toEqual({ inserted: 0, updated: 1, unchanged: 1 });
    const after = await versions();
    expect(after[0]).toEqual(before[0]);
    expect(after[1]!.xmin).not.toBe(before[1]!.xmin);
  });

  it('stores JSON holding \\u0000, which jsonb refuses as it is', async () => {
    expect(await store.entities(people).upsert([{ ...person('a'), raw: '{"s":"a\\u0000b"}' }])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    const row = await store.get<{ raw: string }>(sql`SELECT raw FROM people WHERE id = ${'a'}`);
    expect(JSON.parse(row!.raw)).toEqual({ s: 'a\ufffdb' });
  });

  it('runs a transaction again after a deadlock, so both sides commit', async () => {
    await store.entities(people).upsert([person('x'), person('y')]);
    const aLocked = signal();
    const bLocked = signal();
    let attempts = 0;
    const crossing = (first: string, second: string, mine: ReturnType<typeof signal>, theirs: ReturnType<typeof signal>) =>
      store.transaction(async () => {
        attempts++;
        await store.run(sql`UPDATE people SET name = ${`by ${first}`} WHERE id = ${first}`);
        mine.fire();
        await theirs.wait;
        await store.run(sql`UPDATE people SET name = ${`by ${first}`} WHERE id = ${second}`);
        return first;
      });
    const before = counted();
    expect(await Promise.all([crossing('x', 'y', aLocked, bLocked), crossing('y', 'x', bLocked, aLocked)])).toEqual(['x', 'y']);
    expect(attempts).toBeGreaterThanOrEqual(3);
    // Each try run again is counted and told, by cause and with the try that failed.
    expect(counted().deadlocks - before.deadlocks).toBe(attempts - 2);
    expect(counted().serializationFailures).toBe(before.serializationFailures);
    expect(told).toHaveLength(attempts - 2);
    expect(told[0]).toEqual({ sqlstate: '40P01', attempt: 1, scope: 'transaction' });
    const names = (await store.all<{ name: string }>(sql`SELECT name FROM people ORDER BY id`)).map((r) => r.name);
    expect(names[0]).toBe(names[1]);
  });

  it('runs a whole batch again when one of its items deadlocks with another transaction', async () => {
    await store.entities(people).upsert([person('x'), person('y')]);
    const txHolds = signal();
    const batchHolds = signal();
    const other = store.transaction(async () => {
      await store.run(sql`UPDATE people SET name = ${'tx'} WHERE id = ${'x'}`);
      txHolds.fire();
      await batchHolds.wait;
      await store.run(sql`UPDATE people SET email = ${'tx'} WHERE id = ${'y'}`);
      return 'tx';
    });
    await txHolds.wait;
    const first = store.batched(async () => {
      await store.run(sql`UPDATE people SET email = ${'batch'} WHERE id = ${'y'}`);
      batchHolds.fire();
      return 'first';
    });
    const second = store.batched(async () => {
      await store.run(sql`UPDATE people SET name = ${'batch'} WHERE id = ${'x'}`);
      return 'second';
    });
    const before = counted();
    expect(await Promise.all([other, first, second])).toEqual(['tx', 'first', 'second']);
    // The losing side was the batch or the transaction; either way the store ran it again once or more.
    expect(counted().deadlocks - before.deadlocks).toBeGreaterThanOrEqual(1);
    expect(told.length).toBe(counted().deadlocks - before.deadlocks);
    expect(told.every((r) => r.sqlstate === '40P01' && (r.scope === 'batch' || r.scope === 'transaction'))).toBe(true);
    const rows = await store.all<{ name: string; email: string }>(sql`SELECT name, email FROM people ORDER BY id`);
    // Whichever side lost the deadlock ran again after the other committed, so one side wrote both rows last.
    expect([rows[0]!.name, rows[1]!.email].sort()).toEqual(rows[0]!.name === 'tx' ? ['tx', 'tx'] : ['batch', 'batch']);
  });

  it('skipLocked: a second claimer passes over the row the first one holds', async () => {
    await store.entities(people).upsert([person('p1'), person('p2'), person('p3')]);
    const claim = sql`SELECT id FROM people ORDER BY id LIMIT 1${store.skipLocked}`;
    const held = signal();
    const done = signal();
    const first = store.transaction(async () => {
      const row = await store.get<{ id: string }>(claim);
      held.fire();
      await done.wait;
      return row?.id;
    });
    await held.wait;
    const second = await store.transaction(() => store.get<{ id: string }>(claim));
    done.fire();
    expect(await first).toBe('p1');
    expect(second?.id).toBe('p2');
  });

  it('refuses to report a commit that PostgreSQL turned into a rollback; a savepoint recovers from the same failure', async () => {
    const w = store.entities(people);
    await expect(
      store.transaction(async () => {
        await w.upsert([person('lost')]);
        await store.run(sql`SELECT 1 / 0`).catch(() => {});
      }),
    ).rejects.toThrow(/rolled back/);
    await store.transaction(async () => {
      await w.upsert([person('kept')]);
      await store.transaction(() => store.run(sql`SELECT 1 / 0`)).catch(() => {});
      await w.upsert([person('kept2')]);
    });
    expect((await store.all<{ id: string }>(sql`SELECT id FROM people ORDER BY id`)).map((r) => r.id)).toEqual(['kept', 'kept2']);
  });

  it('runs calls outside a transaction on other connections while it is open', async () => {
    const inside = signal();
    const outsideDone = signal();
    const tx = store.transaction(async () => {
      await store.entities(people).upsert([person('t')]);
      inside.fire();
      // Holds its connection until the outside call has come back.
      await outsideDone.wait;
    });
    await inside.wait;
    expect(await store.get(sql`SELECT count(*) AS n FROM people`)).toEqual({ n: 0 });
    outsideDone.fire();
    await tx;
    expect(await store.get(sql`SELECT count(*) AS n FROM people`)).toEqual({ n: 1 });
  });

  it('refreshDerivedViews replaces the rollups with what their views say now', async () => {
    await store.run(sql`DELETE FROM person_tags`);
    const at = '2024-05-06T07:08:09.000Z';
    await store.entities(people).upsert(['p1', 'p2'].map((id) => ({ id, name: id, raw: JSON.stringify({ id }), syncedAt: at })));
    await store.children(personTags, 'personId').replace('p1', [{ tag: 'vip' }, { tag: 'new' }]);
    await store.children(personTags, 'personId').replace('p2', [{ tag: 'vip' }]);
    await store.run(sql`DELETE FROM rollup_state`);
    await db.query("INSERT INTO rollup_funnel_daily VALUES ('1999-01-01', 1, 2, 3)");
    await store.refreshDerivedViews();
    const tags = await store.all<{ tag: string; people: number }>(sql`SELECT tag, people FROM rollup_tag_membership ORDER BY tag`);
    expect(tags.filter((t) => t.tag === 'vip' || t.tag === 'new')).toEqual([
      { tag: 'new', people: 1 },
      { tag: 'vip', people: 2 },
    ]);
    expect(tags).toEqual(await store.all(sql`SELECT tag, people FROM tag_membership ORDER BY tag`));
    // A stale row no view produces is gone: the rollup is replaced, not appended to.
    expect(await store.all(sql`SELECT day FROM rollup_funnel_daily WHERE day = '1999-01-01'`)).toEqual([]);
    expect(await store.get(sql`SELECT id FROM rollup_state`)).toEqual({ id: 1 });
  });

  it('names its location without the password', async () => {
    const u = new URL(db.url);
    u.password = 'Hush-4711';
    const s = await openPgStore(u.toString(), { migrate: false, poolSize: 1 });
    try {
      expect(s.dialect).toBe('postgres');
      expect(s.location).toContain(db.name);
      expect(s.location).not.toContain('Hush-4711');
      expect(await s.get(sql`SELECT count(*) AS n FROM people`)).toEqual({ n: 0 });
    } finally {
      await s.close();
    }
  });

  it('turns a database that went away into one ConfigError line naming DATABASE_URL', async () => {
    const doomed = await createTestDatabase();
    const s = (await openPgStore(doomed.url)) as PgStore;
    try {
      await s.get(sql`SELECT 1 AS one`);
      await doomed.drop();
      const err = await s.get(sql`SELECT 1 AS one`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(new RegExp(`^DATABASE_URL \\(.*${doomed.name}.*\\): database "${doomed.name}" does not exist`));
    } finally {
      await s.close().catch(() => {});
      await doomed.drop();
    }
  });
});
