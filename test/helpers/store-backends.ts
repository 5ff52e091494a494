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
