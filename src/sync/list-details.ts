import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { EntityUpserter, GuardedUpdate, type InsertRow } from '../db/upsert.js';
import { ApiError } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Page, PageRequest } from '../leeloo/endpoints.js';
import { CommitBatcher } from './batch.js';
import type { StreamDef, StreamRun, SyncContext } from './context.js';
import { lastMessageList } from './dateguard.js';
import { answers, SoftDeletes, stillListed, undeleter } from './deletions.js';
import { drainDue } from './due.js';
import { runFullList } from './fulllist.js';
import { reconcileList } from './reconcile.js';
import { runWindowed, type WindowSpec } from './windowed.js';

type LastMessageFilter = { from: Date; to: Date; dateFormat: 'datetime' | 'date' };

/** People: `filter[last_message]` windows, reconciled over all time, unreachable ones via v1. */
interface WindowedList<L> {
  kind: 'windows';
  page(client: LeelooClient, f: LastMessageFilter, req: PageRequest): Promise<Page<L>>;
  /** Reconcile's second look at a row its pass did not list: any answer but 404 means it exists. */
  exists(client: LeelooClient, id: string, signal: AbortSignal): Promise<unknown>;
  /** After the walk, before reconcile, with the list writer (records no window reaches). */
  afterWalk?(ctx: SyncContext, s: StreamRun, writeListPage: (items: L[]) => { inserted: number; updated: number }): Promise<void>;
}

/** Orders: no filter, the whole list every run; rows it no longer has are marked deleted. */
interface WholeList<L> {
  kind: 'whole';
  page(client: LeelooClient, req: PageRequest): Promise<Page<L>>;
}

export interface ListWithDetailsDef<L extends { id: string }, D, T extends SQLiteTable, W> {
  name: 'people' | 'orders';
  description: string;
  table: T;
  /** What one record is, for log lines (`person` → "person detail answered 404", personId). */
  noun: string;
  list: WindowedList<L> | WholeList<L>;
  /** Statements for the hooks, built once per run. */
  setup(ctx: SyncContext): W;
  toListRow(item: L, syncedAt: string): InsertRow<T>;
  /**
   * Per listed item, in the page's transaction (a person's tags, its channels' stubs); `changed`
   * is false when the stored row was already this item (nothing was written).
   */
  afterListRow?(w: W, item: L, syncedAt: string, changed: boolean): void;
  detail(client: LeelooClient, id: string, signal: AbortSignal): Promise<D>;
  /** The detail columns; written only while the list row is the one the detail was read for. */
  toDetailRow(detail: D, syncedAt: string): Partial<InsertRow<T>>;
  /** After the detail row was written, in its transaction (a person's custom fields, …). */
  afterDetail?(w: W, id: string, detail: D): void;
  /**
   * A detail answering 404: `confirm` counts it toward the breaker and marks the record deleted
   * when a narrow list window around its last message no longer has it (it stays due
   * otherwise); `keep` keeps the list row and stops asking until it changes.
   */
  onMissing: 'confirm' | 'keep';
  /** Per row marked deleted, in the transaction that marks it (closing its history intervals). */
  afterDelete?(w: W, id: string, at: string): void;
  /** Before the list is read (reconcile's refresh of the oldest details). */
  beforeList?(ctx: SyncContext, s: StreamRun): void;
}

/**
 * A list, then the details of its new or changed rows. A changed list row (its `raw`) makes
 * the details due (`details_synced_at` NULL, in SQL, so a killed run resumes exactly); due
 * details are fetched concurrently while the list is still read, and written only while the
 * list row is still the one they were read for. `--full` makes every detail due. Deletions are
 * soft, staged and applied at the stream's end behind the breaker (deletions.ts).
 */
export function listWithDetails<L extends { id: string }, D, T extends SQLiteTable, W>(def: ListWithDetailsDef<L, D, T, W>): StreamDef {
  const table = def.name;
  return {
    name: def.name,
    description: def.description,
    async run(ctx, s) {
      const { sqlite, db } = ctx.mirror;
      const dels = new SoftDeletes(ctx, s, table, `${def.noun} detail`);
      const w = def.setup(ctx);
      // A changed list item (new message, tags, contact data, status) makes its details due again.
      const written = new Set<string>();
      const up = new EntityUpserter(db, def.table, { onChange: { detailsSyncedAt: null }, onWritten: (id) => written.add(id) });
      // Back after being marked deleted: its details may have changed while it was gone.
      const undelete = undeleter(ctx, table, 'details_synced_at = NULL');
      const detailRow = new GuardedUpdate(db, def.table);
      const batch = new CommitBatcher(sqlite);
      const due = sqlite.prepare<[string, number], { id: string; raw: string }>(
        `SELECT id, raw FROM ${table} WHERE details_synced_at IS NULL AND deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
      );
      if (ctx.full) sqlite.prepare(`UPDATE ${table} SET details_synced_at = NULL WHERE details_synced_at IS NOT NULL`).run();
      def.beforeList?.(ctx, s);

      const writeListPage = (items: L[]) => {
        const now = new Date().toISOString();
        written.clear();
        const r = up.upsert(items.map((i) => def.toListRow(i, now)));
        for (const i of items) {
          dels.listed(i.id);
          let changed = written.has(i.id);
          if (undelete(i.id) > 0) {
            r.updated++;
            changed = true;
          }
          def.afterListRow?.(w, i, now, changed);
        }
        return r;
      };
      const l = def.list;
      const lookup = l.kind === 'windows' ? lastMessageList(ctx, (f, req) => l.page(ctx.client, f, req)) : undefined;
      const listing = (async () => {
        if (l.kind === 'whole') {
          await runFullList<L>(ctx, s, {
            fetchPage: (offset, limit) => l.page(ctx.client, { offset, limit, signal: ctx.signal }),
            idOf: (i) => i.id,
            resumable: true,
            writePage: writeListPage,
            deleteMissing(seen) {
              dels.stageUnlisted(seen, new Set(), `not in the complete ${def.noun} list`);
              return 0;
            },
          });
          return;
        }
        const spec: WindowSpec<L> = { list: lookup!, idOf: (i) => i.id, writePage: writeListPage };
        await runWindowed(ctx, s, spec);
        await l.afterWalk?.(ctx, s, writeListPage);
        if (ctx.reconcile) await reconcileList(ctx, s, spec, dels, (id) => answers(s, () => l.exists(ctx.client, id, ctx.signal)));
      })();

      const markGone = def.onMissing === 'keep' ? sqlite.prepare(`UPDATE ${table} SET details_synced_at = ? WHERE id = ?`) : undefined;
      const lastMessageTime = def.onMissing === 'confirm' ? sqlite.prepare<[string], string | null>(`SELECT last_message_time FROM ${table} WHERE id = ?`).pluck() : undefined;
      // Answered 404 this run: not asked again before the stream ends (they stay due for the next run).
      const notFound = new Set<string>();
      const missing = async (id: string) => {
        if (markGone) {
          // Listed but not readable: keep the list row, stop asking until it changes.
          await batch.run(() => markGone.run(new Date().toISOString(), id));
          return;
        }
        // The docs define no error for an unknown id: a 404 may be a deletion or a routing or
        // permission problem. It counts toward the breaker and needs a second look.
        notFound.add(id);
        if (!dels.answeredNotFound() || !lookup) return;
        const listed = await stillListed(ctx, s, lastMessageTime?.get(id) ?? null, id, lookup);
        const key = { [`${def.noun}Id`]: id };
        if (listed === false) {
          dels.stage(id, 'detail 404 and not listed around its last message time');
          s.log.info(key, `${def.noun} detail answered 404 and the list no longer has the ${def.noun}; marking it deleted at the end of the stream`);
        } else {
          s.log.warn({ ...key, listed }, `${def.noun} detail answered 404 but the ${def.noun} is not confirmed gone; details left due`);
        }
      };
      const dueCount = sqlite.prepare<[], number>(`SELECT count(*) AS n FROM ${table} WHERE details_synced_at IS NULL AND deleted_at IS NULL`).pluck();
      await drainDue(
        ctx,
        s,
        {
          selectDue: (limit, after) => {
            if (dels.tripped) return [];
            for (;;) {
              const rows = due.all(after, limit);
              const keep = rows.filter((r) => !notFound.has(r.id));
              if (keep.length > 0 || rows.length === 0) return keep;
              after = rows[rows.length - 1]!.id;
            }
          },
          keyOf: (r) => r.id,
          countDue: () => dueCount.get() ?? 0,
          process: async ({ id, raw }) => {
            if (dels.tripped) return;
            dels.read();
            let detail: D;
            try {
              detail = await s.call(() => def.detail(ctx.client, id, ctx.signal));
            } catch (err) {
              if (!(err instanceof ApiError && err.status === 404)) throw err;
              await missing(id);
              return;
            }
            const applied = await batch.run(() => {
              if (!detailRow.run(id, raw, def.toDetailRow(detail, new Date().toISOString()))) return false;
              def.afterDetail?.(w, id, detail);
              return true;
            });
            if (applied) s.counters.rowsUpdated++;
          },
        },
        listing,
      );
      const afterDelete = def.afterDelete;
      dels.apply(afterDelete ? (id, at) => afterDelete(w, id, at) : undefined);
    },
  };
}
