import { sql } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { dueDetailsQuery } from '../db/due.js';
import type { InsertRow } from '../db/store/types.js';
import { ApiError } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { Page, PageRequest } from '../leeloo/endpoints.js';
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
  afterWalk?(ctx: SyncContext, s: StreamRun, writeListPage: (items: L[]) => Promise<{ inserted: number; updated: number }>): Promise<void>;
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
  setup(ctx: SyncContext): Promise<W>;
  toListRow(item: L, syncedAt: string): InsertRow<T>;
  /**
   * Per listed item, in the page's transaction (an order's status history); `changed`
   * is false when the stored row was already this item (nothing was written).
   */
  afterListRow?(w: W, item: L, syncedAt: string, changed: boolean): Promise<void>;
  /** Per list page, after its rows' afterListRow, in the page's transaction: what is one statement a page, or what a page's rows share. */
  afterListPage?(w: W, items: readonly L[], syncedAt: string): Promise<void>;
  detail(client: LeelooClient, id: string, signal: AbortSignal): Promise<D>;
  /** The detail columns; written only while the list row is the one the detail was read for. */
  toDetailRow(detail: D, syncedAt: string): Partial<InsertRow<T>>;
  /** After the detail row was written, in its transaction (a person's custom fields, …). */
  afterDetail?(w: W, id: string, detail: D): Promise<void>;
  /**
   * A detail answering 404: `confirm` counts it toward the breaker and marks the record deleted
   * when a narrow list window around its last message no longer has it (it stays due
   * otherwise); `keep` keeps the list row and stops asking until it changes.
   */
  onMissing: 'confirm' | 'keep';
  /** Per row marked deleted, in the transaction that marks it (closing its history intervals). */
  afterDelete?(w: W, id: string, at: string): Promise<void>;
  /** Before the list is read (reconcile's refresh of the oldest details). */
  beforeList?(ctx: SyncContext, s: StreamRun): Promise<void>;
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
      const { store } = ctx;
      const t = sql.identifier(table);
      const p = (name: string) => sql.placeholder(name);
      const dels = new SoftDeletes(ctx, s, table, `${def.noun} detail`);
      const w = await def.setup(ctx);
      // A changed list item (new message, tags, contact data, status) makes its details due again.
      const written = new Set<string>();
      const up = store.entities(def.table, { nullOnChange: ['detailsSyncedAt'], onWritten: (id) => written.add(id) });
      // Back after being marked deleted: its details may have changed while it was gone.
      const undelete = await undeleter(ctx, table, 'details_synced_at');
      const detailRow = store.guarded(def.table);
      const due = store.prepare<{ id: string; raw: string }>(dueDetailsQuery(table));
      if (ctx.full) await store.run(sql`UPDATE ${t} SET details_synced_at = NULL WHERE details_synced_at IS NOT NULL`);
      await def.beforeList?.(ctx, s);

      const writeListPage = async (items: L[]) => {
        const now = new Date().toISOString();
        written.clear();
        const r = await up.upsert(items.map((i) => def.toListRow(i, now)));
        for (const i of items) {
          dels.listed(i.id);
          let changed = written.has(i.id);
          if ((await undelete(i.id)) > 0) {
            r.updated++;
            changed = true;
          }
          await def.afterListRow?.(w, i, now, changed);
        }
        await def.afterListPage?.(w, items, now);
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
            async deleteMissing(seen) {
              await dels.stageUnlisted(seen, new Set(), `not in the complete ${def.noun} list`);
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

      const markGone = def.onMissing === 'keep' ? store.prepare(sql`UPDATE ${t} SET details_synced_at = ${p('at')} WHERE id = ${p('id')}`) : undefined;
      const lastMessageTime = def.onMissing === 'confirm' ? store.prepare<{ lmt: string | null }>(sql`SELECT last_message_time AS lmt FROM ${t} WHERE id = ${p('id')}`) : undefined;
      // Answered 404 this run: not asked again before the stream ends (they stay due for the next run).
      const notFound = new Set<string>();
      const missing = async (id: string) => {
        if (markGone) {
          // Listed but not readable: keep the list row, stop asking until it changes.
          await store.batched(() => markGone.run({ at: new Date().toISOString(), id }));
          return;
        }
        // The docs define no error for an unknown id: a 404 may be a deletion or a routing or
        // permission problem. It counts toward the breaker and needs a second look.
        notFound.add(id);
        if (!dels.answeredNotFound() || !lookup) return;
        const listed = await stillListed(ctx, s, (await lastMessageTime?.get({ id }))?.lmt ?? null, id, lookup);
        const key = { [`${def.noun}Id`]: id };
        if (listed === false) {
          dels.stage(id, 'detail 404 and not listed around its last message time');
          s.log.info(key, `${def.noun} detail answered 404 and the list no longer has the ${def.noun}; marking it deleted at the end of the stream`);
        } else {
          s.log.warn({ ...key, listed }, `${def.noun} detail answered 404 but the ${def.noun} is not confirmed gone; details left due`);
        }
      };
      const dueCount = store.prepare<{ n: number }>(sql`SELECT count(*) AS n FROM ${t} WHERE details_synced_at IS NULL AND deleted_at IS NULL`);
      await drainDue(
        ctx,
        s,
        {
          selectDue: async (limit, after) => {
            if (dels.tripped) return [];
            for (;;) {
              const rows = await due.all({ after, limit });
              const keep = rows.filter((r) => !notFound.has(r.id));
              if (keep.length > 0 || rows.length === 0) return keep;
              after = rows[rows.length - 1]!.id;
            }
          },
          keyOf: (r) => r.id,
          countDue: async () => Number((await dueCount.get())?.n ?? 0),
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
            const applied = await store.batched(async () => {
              if (!(await detailRow.update(id, raw, def.toDetailRow(detail, new Date().toISOString())))) return false;
              await def.afterDetail?.(w, id, detail);
              return true;
            });
            if (applied) s.counters.rowsUpdated++;
          },
        },
        listing,
      );
      const afterDelete = def.afterDelete;
      await dels.apply(afterDelete ? (id, at) => afterDelete(w, id, at) : undefined);
    },
  };
}
