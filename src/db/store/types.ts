/**
 * The one seam between the sync engine (and the outbox) and a database. Streams, the engine,
 * cursors, findings, the run log and the change history speak to a `Store`; only the two
 * implementations (sqlite.ts over better-sqlite3, pg.ts over node-postgres) name a dialect.
 *
 * Queries are drizzle `sql` templates, compiled by the store's own dialect, so one query text
 * serves both backends. Write them in the SQL both understand:
 * - `ON CONFLICT (…) DO UPDATE SET c = excluded.c` / `DO NOTHING`, never `INSERT OR IGNORE`;
 * - `IS DISTINCT FROM` / `IS NOT DISTINCT FROM` for null-safe comparison (SQLite ≥ 3.39), not `IS NOT`;
 * - quote camelCase aliases (`AS "validFrom"`): PostgreSQL folds unquoted names to lower case;
 * - timestamps are bound and read as ISO-8601 UTC text, JSON as text, booleans as 0/1, counts as
 *   numbers: the PostgreSQL pool parses its types into the SQLite shapes (pg.ts MIRROR_TYPES).
 * Dialect-specific SQL (JSON functions, `FOR UPDATE SKIP LOCKED`, view DDL) lives in the
 * implementations, behind a method of this interface.
 *
 * Transactions are carried by the async context: every store call made from inside `fn` (on its
 * async continuation) joins the transaction, and calls from elsewhere wait for it to end (SQLite:
 * one connection) or run on another connection (PostgreSQL: the pool). Inside a transaction await
 * only store calls: never an API request, a timer or Redis; a transaction holds SQLite's only
 * writer, or a pooled PostgreSQL connection, for as long as it lasts. PostgreSQL runs `fn` (or a
 * whole batch) again after a deadlock or serialization failure, so `fn` keeps its effects in the
 * database: counters and progress are added from what it returns, once it has committed. Each
 * such try is counted (PgStore.retries) and told to StoreOpenOptions.onRetry.
 */
import type { SQL } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';

export type Dialect = 'sqlite' | 'postgres';

/**
 * A row as the mapper returns it for `T`. Tables are named by their SQLite (drizzle
 * sqlite-core) definition in schema.ts; the PostgreSQL store finds the table of the same name in
 * schema-pg.ts, whose columns are kept in lockstep (test/db/schema-lockstep.test.ts).
 */
export type InsertRow<T extends SQLiteTable> = T['$inferInsert'];

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface EntityWriterOptions {
  /**
   * Columns set to NULL only when an existing row's `raw` changed (e.g. `details_synced_at`:
   * a changed list row makes its details due again). Keys are the drizzle column keys.
   */
  nullOnChange?: readonly string[];
  /**
   * Rows another stream created as stubs (raw NULL, e.g. channels known from a person's
   * `accounts`) count as inserted, not updated, when this stream first writes them.
   */
  adoptStubs?: boolean;
  /** Called, inside upsert(), with the id of every row inserted or changed (not the unchanged ones). */
  onWritten?: (id: string) => void;
}

/**
 * Upserts entity rows keyed by `id` whose change is detected by `raw`: new rows are inserted in
 * multi-row statements; existing rows are updated only when `raw` differs, so an unchanged
 * re-fetch writes nothing and counts as unchanged. Rows repeated within one call: the last wins.
 * Every row of one writer carries the same columns (those of the first row it was given).
 */
export interface EntityWriter<T extends SQLiteTable> {
  upsert(rows: readonly InsertRow<T>[]): Promise<UpsertResult>;
}

/** Writes a record's detail columns only while its `raw` is still `raw`; false when it changed (nothing written). */
export interface GuardedWriter<T extends SQLiteTable> {
  update(id: string, raw: string, row: Partial<InsertRow<T>>): Promise<boolean>;
}

/**
 * Replaces a parent's child rows (a person's tags, custom fields, …): the API always returns the
 * whole list. Rows come without the parent column, which is filled in. A list equal to the stored
 * one writes nothing (returns false); otherwise delete-then-insert (returns true).
 */
export interface ChildWriter<T extends SQLiteTable, P extends keyof InsertRow<T> & string> {
  replace(parentId: string, rows: readonly Omit<InsertRow<T>, P>[]): Promise<boolean>;
}

/** A statement built once, with named `sql.placeholder(…)` parameters filled per call. */
export interface Prepared<R> {
  all(params?: Record<string, unknown>): Promise<R[]>;
  get(params?: Record<string, unknown>): Promise<R | undefined>;
  /** The number of rows changed. */
  run(params?: Record<string, unknown>): Promise<number>;
}

export interface Store {
  readonly dialect: Dialect;
  /** Where the mirror is, for messages: a file path, or DATABASE_URL without its password. */
  readonly location: string;

  /**
   * Runs `fn` in one transaction: committed when it settles, rolled back when it throws. Nested
   * calls are savepoints. See the module comment for what may be awaited inside.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Group commit: `fn` runs in a transaction shared with the other calls queued within a few
   * milliseconds (up to a batch size); one failing `fn` rolls back alone and rejects only its own
   * caller (a savepoint per item; SQLite takes them only when a batch run whole has failed). A
   * batch may run more than once, so `fn` counts nothing outside the database until it returns.
   * A commit per API answer was most of the sync's CPU time.
   */
  batched<T>(fn: () => Promise<T>): Promise<T>;

  all<R>(query: SQL): Promise<R[]>;
  get<R>(query: SQL): Promise<R | undefined>;
  /** The number of rows changed. */
  run(query: SQL): Promise<number>;
  /** Compiles `query` once (statement caching is the store's business). */
  prepare<R>(query: SQL): Prepared<R>;

  entities<T extends SQLiteTable>(table: T, opts?: EntityWriterOptions): EntityWriter<T>;
  guarded<T extends SQLiteTable>(table: T): GuardedWriter<T>;
  children<T extends SQLiteTable, P extends keyof InsertRow<T> & string>(table: T, parentColumn: P): ChildWriter<T, P>;

  /**
   * Rebuilds what derives from the rows after a sync: the generated `people_custom_fields_wide`
   * view when the set of custom-field names changed, and the rollup tables the reports read.
   */
  refreshDerivedViews(): Promise<void>;

  /**
   * Appended to a `SELECT … FOR UPDATE`-able query that claims rows for one worker (outbox
   * claims): ` FOR UPDATE SKIP LOCKED` on PostgreSQL, so that concurrent relays never claim one
   * row twice; empty on SQLite, whose single writer already serialises the claiming transaction.
   */
  readonly skipLocked: SQL;

  close(): Promise<void>;
}

export interface StoreOpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Only read: no migration; a database that is not a mirror yet is refused. */
  readonly?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: told of each try run again after a deadlock or serialization failure (the
   * server's deadlock_timeout, 1 s, went into finding each deadlock), so a caller can log it.
   */
  onRetry?: (retry: StoreRetry) => void;
}

/** The log line for a StoreRetry (sync CLI and worker): each deadlock cost the server's deadlock_timeout to find. */
export const STORE_RETRY_MESSAGE = 'postgres: a try lost a deadlock or serialization failure; running it again';

/** One try of a statement, transaction or group-commit batch that PostgreSQL rolled back and the store runs again. */
export interface StoreRetry {
  /** 40P01 deadlock_detected, 40001 serialization_failure. */
  sqlstate: '40P01' | '40001';
  /** The try that failed (1 for the first); the next one runs after a randomised pause. */
  attempt: number;
  scope: 'statement' | 'transaction' | 'batch';
}

/** What src/db/store/pg.ts exports as `openPgStore` (imported lazily: SQLite users never load pg). */
export type OpenPgStore = (url: string, opts?: StoreOpenOptions) => Promise<Store>;
