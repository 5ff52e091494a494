import { sql, type SQL } from 'drizzle-orm';
import { ApiError, LeelooSyncError } from '../errors.js';
import type { Page } from '../leeloo/endpoints.js';
import type { StreamRun, SyncContext } from './context.js';
import { walkPages, type PageAt } from './paging.js';

/**
 * Soft deletes with a circuit breaker. The API has no deletion feed and documents no error for
 * an unknown id, so a 404 or a record missing from a list is only a hint: a routing or permission
 * problem looks the same and would quietly empty the mirror. Rows are therefore marked deleted
 * (`deleted_at`, never removed) only when confirmed, staged in memory while the stream runs and
 * applied at its end in one transaction, and not at all when the run would mark more than
 * SYNC_MAX_DELETE_SHARE of the stream's live rows (at least DELETE_FLOOR), or when more than that
 * share of its detail or history requests answered 404.
 */

/** Fewer deletions than this never trip the breaker, however small the mirror. */
export const DELETE_FLOOR = 25;

export type SoftDeleteTable = 'people' | 'communication_channels' | 'orders' | 'chat_messages';

/** Tripped: permanent, because retrying the same run against the same API trips it again. */
export class DeletionBreakerError extends LeelooSyncError {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'DeletionBreakerError';
  }
}

export function deleteLimit(share: number, base: number): number {
  return Math.max(Math.floor(share * base), DELETE_FLOOR);
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export class SoftDeletes {
  private readonly staged = new Map<string, string>();
  private reads = 0;
  private notFound = 0;
  /** Set once too many requests answered 404: the stream stops asking and marks nothing. */
  tripped: DeletionBreakerError | null = null;

  constructor(
    private readonly ctx: SyncContext,
    private readonly s: StreamRun,
    readonly table: SoftDeleteTable,
    /** What the counted requests read, for the message ("detail", "chat history"). */
    private readonly what = 'detail',
  ) {}

  get stagedCount(): number {
    return this.staged.size;
  }

  /** Counts one detail or history request. */
  read(): void {
    this.reads++;
  }

  /** Counts a 404 answer; false once the share of 404s is over the limit (the breaker trips). */
  answeredNotFound(): boolean {
    this.notFound++;
    this.checkNotFound();
    return this.tripped === null;
  }

  private checkNotFound(): void {
    if (this.tripped) return;
    const share = this.ctx.env.SYNC_MAX_DELETE_SHARE;
    const limit = deleteLimit(share, this.reads);
    if (this.notFound <= limit) return;
    this.tripped = new DeletionBreakerError(
      `${this.notFound} of ${this.reads} ${this.what} requests answered 404, more than the limit of ${limit} ` +
        `(SYNC_MAX_DELETE_SHARE=${this.ctx.env.SYNC_MAX_DELETE_SHARE} of them, at least ${DELETE_FLOOR}); the API may be refusing reads, ` +
        `so nothing was marked deleted; if Leeloo really deleted that many, raise SYNC_MAX_DELETE_SHARE for one run`,
    );
    this.s.log.error({ notFound: this.notFound, reads: this.reads, limit }, 'too many 404 answers: deletion breaker tripped');
  }

  /** Marks `id` for deletion at the end of the stream; `why` goes to the log. */
  stage(id: string, why: string): void {
    if (!this.staged.has(id)) this.staged.set(id, why);
  }

  /** The row was listed (alive) after it was staged: keep it. */
  listed(id: string): void {
    if (this.staged.size > 0) this.staged.delete(id);
  }

  /** The live rows (matching `where`) whose id a complete pass did not see, except `spare`. */
  async unlisted(seen: ReadonlySet<string>, spare: ReadonlySet<string>, where: SQL = sql`1 = 1`): Promise<string[]> {
    const live = await this.ctx.store.all<{ id: string }>(sql`SELECT id FROM ${sql.identifier(this.table)} WHERE deleted_at IS NULL AND (${where})`);
    return live.map((r) => r.id).filter((id) => !seen.has(id) && !spare.has(id));
  }

  private async live(): Promise<number> {
    const r = await this.ctx.store.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${sql.identifier(this.table)} WHERE deleted_at IS NULL`);
    return Number(r?.n ?? 0);
  }

  /** Stages the live rows whose id a complete pass did not see, except `spare` (rows it may not have covered). */
  async stageUnlisted(seen: ReadonlySet<string>, spare: ReadonlySet<string>, why: string, where?: SQL): Promise<number> {
    const ids = await this.unlisted(seen, spare, where);
    for (const id of ids) this.stage(id, why);
    return ids.length;
  }

  /** Whether staging `n` more rows would certainly trip the breaker (so checking them one by one is wasted). */
  async wouldTrip(n: number): Promise<boolean> {
    const live = await this.live();
    return this.staged.size + n > deleteLimit(this.ctx.env.SYNC_MAX_DELETE_SHARE, live);
  }

  /**
   * Applies the staged deletions in one transaction, or none of them (throws) when the breaker
   * tripped or they are more than the limit. Returns how many rows were marked. `afterMark` runs
   * per marked row in that transaction.
   */
  async apply(afterMark?: (id: string, at: string) => Promise<void>): Promise<number> {
    if (this.tripped) throw this.tripped;
    if (this.staged.size === 0) return 0;
    const { store } = this.ctx;
    const live = await this.live();
    const share = this.ctx.env.SYNC_MAX_DELETE_SHARE;
    const limit = deleteLimit(share, live);
    if (this.staged.size > limit) {
      throw new DeletionBreakerError(
        `${this.staged.size} of ${live} live ${this.table} rows (${pct(this.staged.size / Math.max(1, live))}) would be marked deleted, ` +
          `more than the limit of ${limit} (SYNC_MAX_DELETE_SHARE=${share}, at least ${DELETE_FLOOR}); nothing was marked deleted; ` +
          `if Leeloo really deleted that many, raise SYNC_MAX_DELETE_SHARE for one run`,
      );
    }
    const mark = store.prepare(sql`UPDATE ${sql.identifier(this.table)} SET deleted_at = ${sql.placeholder('at')} WHERE id = ${sql.placeholder('id')} AND deleted_at IS NULL`);
    const at = new Date().toISOString();
    const reasons = new Map<string, number>();
    let marked = 0;
    await store.transaction(async () => {
      // From zero on every try: PostgreSQL runs a transaction again after a deadlock (store/types.ts).
      marked = 0;
      reasons.clear();
      for (const [id, why] of this.staged) {
        const n = await mark.run({ at, id });
        marked += n;
        if (n > 0) await afterMark?.(id, at);
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    });
    this.staged.clear();
    this.s.log.info({ table: this.table, marked, live, limit, reasons: Object.fromEntries(reasons) }, 'marked rows deleted (soft)');
    return marked;
  }
}

/**
 * Undeletes rows a list or a detail shows again (and makes their details or history due, as
 * they may have changed while gone; `alsoNull` names the column that marks them due). Call it inside the page's transaction. Streams
 * apply their own deletions only when they end, so a table without deleted rows when the stream
 * starts needs no statement per listed row.
 */
export async function undeleter(ctx: SyncContext, table: SoftDeleteTable, alsoNull?: string): Promise<(id: string) => Promise<number>> {
  const { store } = ctx;
  const t = sql.identifier(table);
  if ((await store.get(sql`SELECT 1 AS one FROM ${t} WHERE deleted_at IS NOT NULL LIMIT 1`)) === undefined) return () => Promise.resolve(0);
  const also = alsoNull ? sql`, ${sql.identifier(alsoNull)} = NULL` : sql``;
  const stmt = store.prepare(sql`UPDATE ${t} SET deleted_at = NULL${also} WHERE id = ${sql.placeholder('id')} AND deleted_at IS NOT NULL`);
  return (id) => stmt.run({ id });
}

const CONFIRM_MAX_PAGES = 10;

/**
 * The second look before a 404 counts as a deletion: is the record still listed in a narrow
 * `filter[last_message]` window around its stored lastMessageTime? Usually one request. Returns
 * true (listed: it exists, the 404 lied), false (the whole window was read without it), or null
 * when it cannot tell (no stored time, or the window is too deep to read here).
 */
export async function stillListed(
  ctx: SyncContext,
  s: StreamRun,
  lastMessageTime: string | null,
  id: string,
  list: (w: { from: Date; to: Date }, req: PageAt) => Promise<Page<{ id: string }>>,
): Promise<boolean | null> {
  if (!lastMessageTime) return null;
  const t = Date.parse(lastMessageTime);
  if (Number.isNaN(t)) return null;
  const win = { from: new Date(t - 1000), to: new Date(t + 1000) };
  let n = 0;
  for await (const page of walkPages((req) => list(win, req), { pageSize: ctx.env.LEELOO_PAGE_SIZE, signal: ctx.signal, call: (fn) => s.call(fn) })) {
    s.counters.pages++;
    if (page.items.some((i) => i.id === id)) return true;
    if (page.items.length === 0) return false;
    if (++n >= CONFIRM_MAX_PAGES) return null;
  }
  return false;
}

/** Whether a read of the record answers (true) or answers 404 (false); other errors propagate. */
export async function answers(s: StreamRun, read: () => Promise<unknown>): Promise<boolean> {
  try {
    await s.call(read);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}
