import { ConfigError } from '../../errors.js';
import { openMirror } from '../connection.js';
import { databaseKind, parseDatabaseUrl } from '../location.js';
import { SqliteStore } from './sqlite.js';
import type { OpenPgStore, Store, StoreOpenOptions } from './types.js';

export type { Store, StoreOpenOptions, StoreRetry } from './types.js';
export { STORE_RETRY_MESSAGE } from './types.js';
export { SqliteStore } from './sqlite.js';

// A variable specifier: the PostgreSQL store (and node-postgres) load only for a postgres:// URL,
// and this module does not depend on pg.ts at compile time.
const PG_MODULE = './pg.js';

async function loadPg(): Promise<OpenPgStore> {
  let mod: { openPgStore?: unknown };
  try {
    mod = (await import(PG_MODULE)) as { openPgStore?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new ConfigError('DATABASE_URL is a PostgreSQL URL, but this build has no PostgreSQL store (src/db/store/pg.ts); give a SQLite file path');
  }
  if (typeof mod.openPgStore !== 'function') throw new Error('src/db/store/pg.ts does not export openPgStore');
  return mod.openPgStore as OpenPgStore;
}

/**
 * Opens the mirror `databaseUrl` names: a `postgres://` / `postgresql://` URL selects the
 * PostgreSQL store, anything else is a SQLite file (a path, `file:PATH` or `file:///PATH`).
 */
export async function openStore(databaseUrl: string, opts: StoreOpenOptions = {}): Promise<Store> {
  if (databaseKind(databaseUrl) === 'postgres') return (await loadPg())(databaseUrl, opts);
  const parsed = parseDatabaseUrl(databaseUrl);
  if ('problem' in parsed) throw new ConfigError(`DATABASE_URL ${parsed.problem}`);
  return new SqliteStore(openMirror(parsed.path, { migrate: opts.migrate, readonly: opts.readonly }));
}
