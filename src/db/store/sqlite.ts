/**
 * The Store over one better-sqlite3 connection. better-sqlite3 is synchronous, so every call runs
 * to completion at once; what needs care is the transaction that spans awaits. It is carried by
 * AsyncLocalStorage: calls on its async continuation run inside it, and calls from other async
 * chains wait (a mutex) until it ends, so they never land in someone else's transaction. An
 * uncontended call runs synchronously and only its result is wrapped in a promise.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import { Param, Placeholder, sql, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Mirror } from '../connection.js';
import { refreshDerivedViews } from '../views.js';
import { settleBatch, type ItemResult, type Queued } from './batch.js';
import { ChildReplacer, EntityUpserter, GuardedUpdate } from './sqlite-upsert.js';
import type { ChildWriter, Dialect, EntityWriter, EntityWriterOptions, GuardedWriter, InsertRow, Prepared, Store } from './types.js';

interface Tx {
  readonly store: SqliteStore;
  open: boolean;
  /** Savepoint depth (0: the transaction itself); names the savepoint, so its statements are reused. */
  depth: number;
  /** Nested transactions of this one run one at a time (a savepoint stack is linear). */
  children: Promise<unknown>;
}

type Waiter = () => void;

/** Thrown inside a batch's optimistic transaction to roll it back (never leaves the store). */
const ROLLED_BACK = Symbol('batch rolled back');

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

interface Compiled {
  stmt: Database.Statement;
  /** Per `?`: a placeholder's name, or a bound constant. */
  plan: ({ name: string } | { value: unknown })[];
}

export interface BatchOptions {
  /** Items per shared transaction (default 64). */
  maxBatch?: number;
  /** How long the first queued item waits for company (default 5 ms). */
  maxDelayMs?: number;
}

export class SqliteStore implements Store {
  readonly dialect: Dialect = 'sqlite';
  readonly location: string;
  readonly skipLocked: SQL = sql``;
  private readonly sqlite: Database.Database;
  private readonly compiler = new SQLiteSyncDialect();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly als = new AsyncLocalStorage<Tx>();
  /** A transaction holds the connection. */
  private busy = false;
  private readonly waiters: Waiter[] = [];
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;

  constructor(
    readonly mirror: Mirror,
    opts: BatchOptions = {},
  ) {
    this.sqlite = mirror.sqlite;
    this.location = mirror.path;
    this.maxBatch = opts.maxBatch ?? 64;
    this.maxDelayMs = opts.maxDelayMs ?? 5;
  }

  /** How many distinct statements have been prepared (tests check reuse). */
  get preparedCount(): number {
    return this.statements.size;
  }

  private current(): Tx | undefined {
    const tx = this.als.getStore();
    return tx && tx.open && tx.store === this ? tx : undefined;
  }

  /**
   * Runs a synchronous piece of work on the connection: at once inside our transaction or when
   * nobody holds it, otherwise after the transaction holding it ends.
   */
  exec<T>(fn: () => T): Promise<T> {
    if (this.current() || !this.busy) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.waiters.push(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private acquire(): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      this.waiters.push(() => {
        this.busy = true;
        resolve();
      }),
    );
  }

  /** Hands the connection on: plain calls run at once, until a waiting transaction takes it. */
  private release(): void {
    this.busy = false;
    while (!this.busy && this.waiters.length > 0) this.waiters.shift()!();
  }

  private run0(text: string): void {
    this.statement(text).run();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return this.savepoint(outer, fn);
    await this.acquire();
    const tx: Tx = { store: this, open: true, depth: 0, children: Promise.resolve() };
    try {
      this.run0('BEGIN');
    } catch (err) {
      tx.open = false;
      this.release();
      throw err;
    }
    try {
      const value = await this.als.run(tx, fn);
      // Nested transactions still running (started but not awaited) belong to this one.
      await tx.children;
      this.run0('COMMIT');
      return value;
    } catch (err) {
      if (this.sqlite.inTransaction) this.run0('ROLLBACK');
      throw err;
    } finally {
      tx.open = false;
      this.release();
    }
  }

  private savepoint<T>(parent: Tx, fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const child: Tx = { store: this, open: true, depth: parent.depth + 1, children: Promise.resolve() };
      const name = `sp${child.depth}`;
      this.run0(`SAVEPOINT ${name}`);
      try {
        const value = await this.als.run(child, fn);
        await child.children;
        this.run0(`RELEASE ${name}`);
        return value;
      } catch (err) {
        this.run0(`ROLLBACK TO ${name}`);
        this.run0(`RELEASE ${name}`);
        throw err;
      } finally {
        child.open = false;
      }
    };
    const p = parent.children.then(run, run);
    parent.children = p.catch(() => undefined);
    return p;
  }

  batched<T>(fn: () => Promise<T>): Promise<T> {
    // Already in a transaction: the caller's transaction is the batch (waiting for a flush would
    // wait for the connection the caller holds).
    if (this.current()) return this.transaction(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Commits what is queued for group commit now. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return Promise.resolve();
    // Outside whatever context queued the last item: the batch is its own transaction.
    return this.als.exit(() =>
      settleBatch(batch, async () => {
        // Alone in its batch, an item needs no savepoint: the transaction is its own.
        if (batch.length === 1) return [{ ok: true, value: await this.transaction(batch[0]!.fn) }];
        return (await this.runOptimistically(batch)) ?? (await this.transaction(() => this.runItems(batch)));
      }),
    );
  }

  /**
   * The batch with no savepoint per item: nearly every batch succeeds whole, and two statements
   * per item were 17,000 of a 2,000-people sync's 67,000. When an item fails, the whole batch is
   * rolled back and undefined returned, for runItems to run it again item by item; a batch may run
   * twice (as on PostgreSQL after a deadlock, store/types.ts), so callers count after it returns.
   */
  private async runOptimistically(batch: readonly Queued[]): Promise<ItemResult[] | undefined> {
    let failed = false;
    const values = await this.transaction(async () => {
      const parent = this.current()!;
      const out: unknown[] = [];
      for (const item of batch) {
        const child: Tx = { store: this, open: true, depth: parent.depth + 1, children: Promise.resolve() };
        try {
          out.push(await this.als.run(child, item.fn));
          await child.children;
        } catch {
          failed = true;
          break;
        } finally {
          child.open = false;
        }
      }
      if (failed) throw ROLLED_BACK;
      return out;
    }).catch((err: unknown) => {
      if (err !== ROLLED_BACK) throw err;
      return undefined;
    });
    if (failed || values === undefined) return undefined;
    return values.map((value) => ({ ok: true, value }));
  }

  /**
   * A savepoint per item, so that one failing item rolls back alone and fails its own caller.
   * Released after each item: savepoints of one name left stacked until COMMIT would save the
   * RELEASE statements, but keep SQLite's sub-journal growing through the batch, and measured
   * no faster (bench/statements.ts, noisy on the shared machine).
   */
  private async runItems(batch: readonly Queued[]): Promise<ItemResult[]> {
    const parent = this.current()!;
    const results: ItemResult[] = [];
    for (const item of batch) {
      this.run0('SAVEPOINT item');
      const child: Tx = { store: this, open: true, depth: parent.depth + 1, children: Promise.resolve() };
      try {
        const value = await this.als.run(child, item.fn);
        await child.children;
        this.run0('RELEASE item');
        results.push({ ok: true, value });
      } catch (err) {
        this.run0('ROLLBACK TO item');
        this.run0('RELEASE item');
        results.push({ ok: false, error: err });
      } finally {
        child.open = false;
      }
    }
    return results;
  }

  private statement(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.sqlite.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  private compile(query: SQL): Compiled {
    const q = this.compiler.sqlToQuery(query);
    const plan = q.params.map((p): { name: string } | { value: unknown } => {
      const v = p instanceof Param ? p.value : p;
      if (v instanceof Placeholder) return { name: (v as Placeholder<string>).name };
      return { value: bindable(p instanceof Param ? p.encoder.mapToDriverValue(v) : v) };
    });
    return { stmt: this.statement(q.sql), plan };
  }

  private static args(c: Compiled, params: Record<string, unknown> = {}): unknown[] {
    return c.plan.map((p) => {
      if ('value' in p) return p.value;
      if (!(p.name in params)) throw new Error(`no value for SQL placeholder ${p.name}`);
      return bindable(params[p.name]);
    });
  }

  all<R>(query: SQL): Promise<R[]> {
    return this.exec(() => {
      const c = this.compile(query);
      return c.stmt.all(SqliteStore.args(c)) as R[];
    });
  }

  get<R>(query: SQL): Promise<R | undefined> {
    return this.exec(() => {
      const c = this.compile(query);
      return c.stmt.get(SqliteStore.args(c)) as R | undefined;
    });
  }

  run(query: SQL): Promise<number> {
    return this.exec(() => {
      const c = this.compile(query);
      return c.stmt.run(SqliteStore.args(c)).changes;
    });
  }

  prepare<R>(query: SQL): Prepared<R> {
    const c = this.compile(query);
    return {
      all: (params) => this.exec(() => c.stmt.all(SqliteStore.args(c, params)) as R[]),
      get: (params) => this.exec(() => c.stmt.get(SqliteStore.args(c, params)) as R | undefined),
      run: (params) => this.exec(() => c.stmt.run(SqliteStore.args(c, params)).changes),
    };
  }

  entities<T extends SQLiteTable>(table: T, opts: EntityWriterOptions = {}): EntityWriter<T> {
    const onChange: Record<string, null> = {};
    for (const c of opts.nullOnChange ?? []) onChange[c] = null;
    const up = new EntityUpserter(this.mirror.db, table, { onChange, adoptStubs: opts.adoptStubs, onWritten: opts.onWritten });
    return { upsert: (rows) => this.exec(() => up.upsert(rows)) };
  }

  guarded<T extends SQLiteTable>(table: T): GuardedWriter<T> {
    const g = new GuardedUpdate(this.mirror.db, table);
    return { update: (id, raw, row) => this.exec(() => g.run(id, raw, row)) };
  }

  children<T extends SQLiteTable, P extends keyof InsertRow<T> & string>(table: T, parentColumn: P): ChildWriter<T, P> {
    const r = new ChildReplacer(this.mirror.db, table, parentColumn);
    return { replace: (parentId, rows) => this.exec(() => r.replace(parentId, rows)) };
  }

  refreshDerivedViews(): Promise<void> {
    return this.exec(() => {
      refreshDerivedViews(this.mirror);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    await this.exec(() => this.mirror.close());
  }
}
