/**
 * The PostgreSQL Store, over openPgMirror's pool (node-postgres). The pool parses its types into
 * the SQLite mirror's shapes (pg.ts MIRROR_TYPES), so callers read the same values from both
 * backends; the writers live in pg-writers.ts.
 *
 * A transaction is a PoolClient checked out for it and carried by AsyncLocalStorage: a store
 * call on `fn`'s async continuation runs on that client, any other call on the pool (one
 * autocommit statement) or in a transaction of its own, on another connection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fillPlaceholders, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type pg from 'pg';
import { openPgMirror, type PgMirror } from '../pg.js';
import { pgParameters } from '../pg-types.js';
import { settleBatch, type ItemResult, type Queued } from './batch.js';
import { refreshPgDerivedViews } from '../views-pg.js';
import { PgChildWriter, PgEntityWriter, PgGuardedWriter, type PgExec } from './pg-writers.js';
import type { ChildWriter, EntityWriter, EntityWriterOptions, GuardedWriter, InsertRow, OpenPgStore, Prepared, Store, StoreOpenOptions, StoreRetry } from './types.js';

/** The transaction (or savepoint) a store call made on this async continuation joins. */
interface TxContext {
  client: pg.PoolClient;
  /** Savepoint names are unique per connection-level transaction. */
  root: { savepoints: number };
  /** Nested transactions of one context run one after another: savepoints on one connection cannot interleave. */
  lock: Promise<unknown>;
}

/** SQLSTATEs after which the whole transaction may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/**
 * Tries of a transaction (or batch, or lone statement) that lost a deadlock. Streams running
 * side by side touch the same rows (the people stream's channel stubs, the channel list, the
 * message marks), and each deadlock costs the server's deadlock_timeout (1 s) to find.
 */
const MAX_ATTEMPTS = 8;
const BATCH_SIZE = 64;
const BATCH_DELAY_MS = 5;

const sqlstateOf = (err: unknown) => (err as { code?: string } | null)?.code ?? '';
const isRetryable = (err: unknown) => RETRYABLE.has(sqlstateOf(err));
/**
 * admin_shutdown, crash_shutdown, cannot_connect_now: the server ended the session before the
 * statement ran, so running it again cannot apply it twice (a socket lost mid-statement might have).
 */
const isLostConnection = (err: unknown) => ['57P01', '57P02', '57P03'].includes((err as { code?: string } | null)?.code ?? '');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Randomised, so that the two sides of a deadlock do not meet again at once. */
const backoff = (attempt: number) => Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random());

export class PgStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly skipLocked: SQL = sql.raw(' FOR UPDATE SKIP LOCKED');

  private readonly dialectCompiler = new PgDialect();
  private readonly als = new AsyncLocalStorage<TxContext>();
  private readonly exec: PgExec;
  private statements = 0;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The batch being committed: flushes run one after another (see flush). */
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /**
   * Tries run again since the store opened, by cause: what a test or a bench reads to tell
   * whether streams running side by side still deadlock (each one cost deadlock_timeout).
   */
  readonly retries = { deadlocks: 0, serializationFailures: 0 };

  constructor(
    private readonly mirror: PgMirror,
    private readonly onRetry?: (retry: StoreRetry) => void,
  ) {
    this.location = mirror.url;
    this.exec = {
      query: (text, values, name) => this.query(text, values, name),
      atomically: (fn) => (this.als.getStore() ? fn() : this.transaction(fn)),
      statementName: () => this.nextName(),
    };
  }

  /** The pool itself, for PostgreSQL-only maintenance (views-pg.ts) and benchmarks; the engine never needs it. */
  get pool(): pg.Pool {
    return this.mirror.pool;
  }

  private nextName(): string {
    return `leeloo_${++this.statements}`;
  }

  /** Runs one statement on the current transaction's client, or on the pool. */
  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    const tx = this.als.getStore();
    // NUL-free (pg-types.ts pgParameters): PostgreSQL refuses U+0000 in text and jsonb.
    const params = pgParameters(values);
    const config = name ? { name, text, values: params } : { text, values: params };
    try {
      if (tx) return await tx.client.query<R>(config);
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.mirror.pool.query<R>(config);
        } catch (err) {
          // One statement on its own: a deadlock or serialization failure rolled it back whole, and
          // an idle pooled connection the server ended (a restart, a dropped database) never ran
          // it; another try, on a fresh connection, tells a gone server from a lost socket.
          if (!(isRetryable(err) || isLostConnection(err)) || attempt >= MAX_ATTEMPTS) throw err;
          if (isRetryable(err)) {
            this.retrying(err, attempt, 'statement');
            await pause(backoff(attempt));
          }
        }
      }
    } catch (err) {
      throw this.mirror.configError(err) ?? err;
    }
  }

  /** Counts a try lost to a deadlock or serialization failure, before the pause that precedes the next. */
  private retrying(err: unknown, attempt: number, scope: StoreRetry['scope']): void {
    const sqlstate = sqlstateOf(err) === '40P01' ? '40P01' : '40001';
    if (sqlstate === '40P01') this.retries.deadlocks++;
    else this.retries.serializationFailures++;
    this.onRetry?.({ sqlstate, attempt, scope });
  }

  private compile(query: SQL): { sql: string; params: unknown[] } {
    return this.dialectCompiler.sqlToQuery(query);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const ctx = this.als.getStore();
    if (ctx) return this.savepoint(ctx, fn);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.topLevel(fn);
      } catch (err) {
        // A session the server ended took its uncommitted transaction with it: running fn again is safe.
        if (!(isRetryable(err) || isLostConnection(err)) || attempt >= MAX_ATTEMPTS) throw err;
        if (isRetryable(err)) this.retrying(err, attempt, 'transaction');
        await pause(backoff(attempt));
      }
    }
  }

  /**
   * One connection-level transaction on a client of its own. `begin` may append statements to
   * BEGIN (one simple-protocol round trip for both: each costs a wake-up of the server's backend).
   */
  private async topLevel<T>(fn: (ctx: TxContext) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.connect();
    const ctx: TxContext = { client, root: { savepoints: 0 }, lock: Promise.resolve() };
    let broken: Error | undefined;
    try {
      await client.query(begin);
      let value: T;
      try {
        value = await this.als.run(ctx, () => fn(ctx));
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
      // COMMIT of a transaction a failed statement aborted (fn caught the error) rolls back, and says so only in its tag.
      const done = await client.query('COMMIT');
      if (done.command === 'ROLLBACK') throw new Error(`a transaction on ${this.location} was rolled back: a statement in it failed`);
      return value;
    } catch (err) {
      if (isLostConnection(err)) broken ??= err as Error;
      throw this.mirror.configError(err) ?? err;
    } finally {
      client.release(broken);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.mirror.pool.connect();
    } catch (err) {
      throw this.mirror.configError(err) ?? err;
    }
  }

  /** A nested transaction: a savepoint on the enclosing transaction's client. */
  private savepoint<T>(ctx: TxContext, fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const name = `sp_${++ctx.root.savepoints}`;
      const child: TxContext = { client: ctx.client, root: ctx.root, lock: Promise.resolve() };
      await ctx.client.query(`SAVEPOINT ${name}`);
      let value: T;
      try {
        value = await this.als.run(child, fn);
      } catch (err) {
        await ctx.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        await ctx.client.query(`RELEASE SAVEPOINT ${name}`);
        throw err;
      }
      await ctx.client.query(`RELEASE SAVEPOINT ${name}`);
      return value;
    };
    const result = ctx.lock.then(run, run);
    ctx.lock = result.catch(() => {});
    return result;
  }

  batched<T>(fn: () => Promise<T>): Promise<T> {
    // Already in a transaction: its commit is the group's, so a savepoint is all that is left.
    const ctx = this.als.getStore();
    if (ctx) return this.savepoint(ctx, fn);
    if (this.closed) return Promise.reject(new Error(`the store at ${this.location} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= BATCH_SIZE) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), BATCH_DELAY_MS);
    });
  }

  /**
   * Commits what is queued, after any batch still committing. The batch is taken from the queue
   * when its turn comes, not when the timer fires: what queued while the previous batch committed
   * makes the next, fuller one (group commit), not a chain of 5-ms slices of two or three items.
   * One batch at a time: concurrent batches wait on each other's row locks (a channel page's
   * upsert locks the rows a chat history's UPDATE needs), which cost more than they overlapped.
   */
  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      const batch = this.queue.splice(0, BATCH_SIZE);
      if (batch.length > 0) await this.commitBatch(batch);
      // What a full batch left behind, when no later push or timer chained a flush for it.
      if (this.queue.length > 0 && this.timer === undefined) this.timer = setTimeout(() => this.flush(), 0);
    });
    return this.flushing;
  }

  private commitBatch(batch: readonly Queued[]): Promise<void> {
    return settleBatch(batch, async () => {
      for (let attempt = 1; ; attempt++) {
        const last = attempt >= MAX_ATTEMPTS;
        try {
          return await this.runBatch(batch, last);
        } catch (err) {
          if (!(isRetryable(err) || isLostConnection(err)) || last) throw err;
          if (isRetryable(err)) this.retrying(err, attempt, 'batch');
          await pause(backoff(attempt));
        }
      }
    });
  }

  /**
   * One try of a batch, each item in a savepoint of its own (b1, b2, …), the control statements
   * sent with their neighbours: BEGIN with the first SAVEPOINT, each RELEASE with the next
   * SAVEPOINT, and the last savepoint released by COMMIT itself; k items cost k + 1 control round
   * trips, not 2k + 2.
   */
  private runBatch(batch: readonly Queued[], last: boolean): Promise<ItemResult[]> {
    return this.topLevel(async (ctx) => {
      const results: ItemResult[] = [];
      for (const [i, item] of batch.entries()) {
        if (i > 0) await ctx.client.query(`RELEASE SAVEPOINT b${i}; SAVEPOINT b${i + 1}`);
        const child: TxContext = { client: ctx.client, root: ctx.root, lock: Promise.resolve() };
        try {
          results.push({ ok: true, value: await this.als.run(child, item.fn) });
        } catch (err) {
          // A deadlock or serialization failure involves the locks the earlier items took:
          // retrying the item alone would meet the same cycle, so the whole batch runs again.
          if (isRetryable(err) && !last) throw err;
          // Rolled back to its savepoint, which stays (released with the next item's, or by COMMIT).
          await ctx.client.query(`ROLLBACK TO SAVEPOINT b${i + 1}`);
          results.push({ ok: false, error: err });
        }
      }
      return results;
    }, 'BEGIN; SAVEPOINT b1');
  }

  async all<R>(query: SQL): Promise<R[]> {
    const q = this.compile(query);
    return (await this.query(q.sql, q.params)).rows as R[];
  }

  async get<R>(query: SQL): Promise<R | undefined> {
    return (await this.all<R>(query))[0];
  }

  async run(query: SQL): Promise<number> {
    const q = this.compile(query);
    return (await this.query(q.sql, q.params)).rowCount ?? 0;
  }

  prepare<R>(query: SQL): Prepared<R> {
    const q = this.compile(query);
    // A named statement: each pooled connection parses and plans it once, on its first use.
    const name = this.nextName();
    const exec = (params: Record<string, unknown> = {}) => this.query(q.sql, fillPlaceholders(q.params, params), name);
    return {
      all: async (params) => (await exec(params)).rows as R[],
      get: async (params) => (await exec(params)).rows[0] as R | undefined,
      run: async (params) => (await exec(params)).rowCount ?? 0,
    };
  }

  entities<T extends SQLiteTable>(table: T, opts: EntityWriterOptions = {}): EntityWriter<T> {
    return new PgEntityWriter(this.exec, table, opts);
  }

  guarded<T extends SQLiteTable>(table: T): GuardedWriter<T> {
    return new PgGuardedWriter(this.exec, table);
  }

  children<T extends SQLiteTable, P extends keyof InsertRow<T> & string>(table: T, parentColumn: P): ChildWriter<T, P> {
    return new PgChildWriter(this.exec, table, parentColumn);
  }

  async refreshDerivedViews(): Promise<void> {
    try {
      await refreshPgDerivedViews(this.mirror.pool);
    } catch (err) {
      throw this.mirror.configError(err) ?? err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length > 0) await this.flush();
    await this.flushing;
    await this.mirror.close();
  }
}

export const openPgStore: OpenPgStore = async (url: string, opts: StoreOpenOptions = {}) => {
  const mirror = await openPgMirror(url, { migrate: opts.migrate, readonly: opts.readonly, max: opts.poolSize });
  return new PgStore(mirror, opts.onRetry);
};
