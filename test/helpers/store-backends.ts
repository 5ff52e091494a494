import { sql } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openPgStore } from '../../src/db/store/pg.js';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

/**
 * For `describe.each`: [name, open a fresh empty store, clean up after it is closed], on SQLite
 * (in memory) and on a PostgreSQL test database of its own (dropped by the clean-up).
 */
export function storeBackends(): [string, () => Promise<Store>, () => Promise<void>][] {
  let pgDb: TestDatabase | undefined;
  return [
    ['sqlite', () => openStore(':memory:'), async () => {}],
    [
      'postgres',
      async () => {
        pgDb = await createTestDatabase();
        return openPgStore(pgDb.url);
      },
      async () => {
        await pgDb?.drop();
      },
    ],
  ];
}

/**
 * For the body of a `describe.each(storeBackends())`: opens the backend's store before the
 * suite's tests, empties `tables` before each test, closes it and cleans up after. The returned
 * function gives the open store, in hooks and tests.
 */
export function storeSuite(open: () => Promise<Store>, cleanup: () => Promise<void>, tables: readonly SQLiteTable[]): () => Store {
  let store: Store | undefined;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
    await cleanup();
  });
  beforeEach(async () => {
    for (const t of tables) await store!.run(sql`DELETE FROM ${t}`);
  });
  return () => {
    if (!store) throw new Error('the store is open only inside the suite’s hooks and tests');
    return store;
  };
}
