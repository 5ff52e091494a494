import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { ConfigError, errorMessage } from '../errors.js';
import { databasePathProblem } from './location.js';
import { inspectDatabaseFile } from './inspect.js';
import { classify, migrateDatabase, readMigrations, refusal } from './migrate.js';
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
  /** drizzle-kit's migrations folder (default: the bundled one). */
  migrationsFolder?: string;
}

function refuseUnless(sqlite: Database.Database | undefined, problem: string | undefined): void {
  if (problem === undefined) return;
  if (sqlite?.open) sqlite.close();
  throw new ConfigError(problem);
}

function openFile(path: string, readonly: boolean): Database.Database {
  try {
    if (path !== ':memory:' && !readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
    return new Database(path, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw new ConfigError(`DATABASE_URL cannot be opened (${path}: ${errorMessage(err)})`);
  }
}

/**
 * Opens (creating if needed) the SQLite mirror in WAL mode: BI readers never block the sync and
 * the sync never blocks them; busy_timeout covers the short checkpoint moments.
 *
 * Nothing is written before the file is known to be ours (see inspect.ts): a file of another
 * program, or one written by a newer leeloo-sync, is refused with a ConfigError (exit 2) and
 * left as it was. Pending migrations are applied in one transaction (see migrate.ts).
 */
export function openMirror(path: string, opts: OpenOptions = {}): Mirror {
  const readonly = opts.readonly ?? false;
  const set = readMigrations(opts.migrationsFolder ?? MIGRATIONS_DIR);
  const where = databasePathProblem(path);
  if (where !== undefined && !(readonly && existsSync(path))) throw new ConfigError(`DATABASE_URL ${where}`);
  const pre = inspectDatabaseFile(path, set);
  if (pre.kind !== 'stamped') refuseUnless(undefined, refusal(path, pre));
  if (readonly && pre.kind === 'empty' && path !== ':memory:') throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);

  const sqlite = openFile(path, readonly);
  try {
    sqlite.pragma('busy_timeout = 10000');
    // Judged again on the real connection: a stamped file may still be newer than this version.
    const v = classify(sqlite, set);
    refuseUnless(sqlite, refusal(path, v));
    // The common case (ours, current) takes no write lock.
    const current = v.kind === 'ours' && v.stamped && v.pending.length === 0;
    if (!readonly && opts.migrate !== false && !current) refuseUnless(sqlite, migrateDatabase(sqlite, set, path));
  } catch (err) {
    if (sqlite.open) sqlite.close();
    throw err;
  }
  if (!readonly) {
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
  return {
    sqlite,
    db,
    path,
    close() {
      if (sqlite.open) sqlite.close();
    },
  };
}

/** Throws unless `path` is absent, empty or a leeloo-sync database of any version: what `demo` may replace. */
export function assertReplaceable(path: string, migrationsFolder = MIGRATIONS_DIR): void {
  const v = inspectDatabaseFile(path, readMigrations(migrationsFolder));
  if (v.kind === 'foreign') throw new ConfigError(refusal(path, v) ?? `${path} is not a leeloo-sync database`);
}
