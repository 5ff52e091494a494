import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Mirror {
  /** The raw better-sqlite3 handle, for hot paths and PRAGMAs. */
  sqlite: Database.Database;
  db: Db;
  path: string;
  close(): void;
}

// migrations/ stays at the package root: two levels above src/db (vitest, tsx) and three above
// dist/src/db (the compiled CLI).
export const MIGRATIONS_DIR = [['..', '..'], ['..', '..', '..']]
  .map((up) => resolve(dirname(fileURLToPath(import.meta.url)), ...up, 'migrations'))
  .find((dir) => existsSync(resolve(dir, 'meta', '_journal.json'))) ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface OpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  readonly?: boolean;
}

/**
 * Opens (creating if needed) the SQLite mirror in WAL mode: BI readers never block the sync and
 * the sync never blocks them; busy_timeout covers the short checkpoint moments.
 */
export function openMirror(path: string, opts: OpenOptions = {}): Mirror {
  if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  sqlite.pragma('busy_timeout = 10000');
  if (!opts.readonly) {
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable in WAL mode except for the last transactions on power loss, which a
    // resumable sync re-fetches anyway.
    sqlite.pragma('synchronous = NORMAL');
    // Checkpoint every ~32 MB of WAL instead of 4 MB: a sync rewrites hot index pages many times
    // over, and each checkpoint copies and fsyncs; fewer, larger ones halve the commit cost.
    sqlite.pragma('wal_autocheckpoint = 8000');
  }
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle({ client: sqlite, schema });
  if (opts.migrate !== false && !opts.readonly) applyMigrations(sqlite, db);
  return {
    sqlite,
    db,
    path,
    close() {
      if (sqlite.open) sqlite.close();
    },
  };
}

/**
 * drizzle-kit rebuilds a table (create new, copy, drop old) for some ALTERs; with foreign keys on,
 * dropping the old table would cascade-delete child rows. Foreign keys go off around migrate (the
 * PRAGMA is a no-op inside a transaction, so it must be set here) and a foreign_key_check after
 * proves nothing dangles before they go back on.
 */
export function applyMigrations(sqlite: Database.Database, db: Db): void {
  sqlite.pragma('foreign_keys = OFF');
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const violations = sqlite.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) {
      throw new Error(`migration left ${violations.length} foreign key violation(s)`);
    }
  } finally {
    sqlite.pragma('foreign_keys = ON');
  }
}
