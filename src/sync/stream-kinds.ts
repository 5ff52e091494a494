import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { LeelooClient } from '../leeloo/client.js';
import type { Page, PageRequest } from '../leeloo/endpoints.js';
import { sql } from 'drizzle-orm';
import type { EntityWriter, InsertRow } from '../db/store/types.js';
import { newCounters, type StreamDef, type StreamRun, type SyncContext } from './context.js';
import { runFullList } from './fulllist.js';
import { forEachConcurrent } from './pool.js';
import { pruneMissing } from './prune.js';

/**
 * Declarative stream kinds. A stream file states what to fetch and how an item maps to a row;
 * paging, transactions, counting and pruning live here (people and orders: list-details.ts).
 */

const tableName = (t: SQLiteTable) => getTableConfig(t).name;

interface RowStreamBase<I extends { id: string }, T extends SQLiteTable> {
  name: string;
  description: string;
  table: T;
  /** The typed mapper: its keys are the columns written. */
  map(item: I, syncedAt: string): InsertRow<T>;
  dependsOn?: string[];
  enabledByDefault?: StreamDef['enabledByDefault'];
}

const base = (def: Pick<StreamDef, 'name' | 'description' | 'dependsOn' | 'enabledByDefault'>) => ({ name: def.name, description: def.description, dependsOn: def.dependsOn, enabledByDefault: def.enabledByDefault });

function upsertRows<I extends { id: string }, T extends SQLiteTable>(up: EntityWriter<T>, map: (item: I, syncedAt: string) => InsertRow<T>, items: readonly I[]) {
  const now = new Date().toISOString();
  return up.upsert(items.map((i) => map(i, now)));
}

/** A small list answered in one request (tags, connections, template categories): replace it whole. */
export function snapshotStream<I extends { id: string }, T extends SQLiteTable>(def: RowStreamBase<I, T> & { fetch(client: LeelooClient, signal: AbortSignal): Promise<I[]> }): StreamDef {
  return {
    ...base(def),
    async run(ctx, s) {
      const up = ctx.store.entities(def.table);
      const items = await s.call(() => def.fetch(ctx.client, ctx.signal));
      s.counters.pages++;
      s.counters.windows++;
      // Counted once committed: PostgreSQL runs a transaction again after a deadlock (store/types.ts).
      const r = await ctx.store.transaction(async () => {
        const written = await upsertRows(up, def.map, items);
        await pruneMissing(ctx.store, tableName(def.table), 'id', items.map((i) => i.id));
        return written;
      });
      s.counters.rowsInserted += r.inserted;
      s.counters.rowsUpdated += r.updated;
      ctx.progress.total(s.name, items.length);
      ctx.progress.tick(s.name, items.length);
    },
  };
}

/** A paged list without a date filter (users, tunnels, v1 accounts): read whole, prune what is gone. */
export function pagedRefreshStream<I extends { id: string }, T extends SQLiteTable>(
  def: RowStreamBase<I, T> & { page(client: LeelooClient, req: PageRequest): Promise<Page<I>>; resumable?: boolean },
): StreamDef {
  return {
    ...base(def),
    async run(ctx, s) {
      const up = ctx.store.entities(def.table);
      await runFullList<I>(ctx, s, {
        fetchPage: (offset, limit) => def.page(ctx.client, { offset, limit, signal: ctx.signal }),
        idOf: (i) => i.id,
        writePage: (items) => upsertRows(up, def.map, items),
        deleteMissing: (seen) => pruneMissing(ctx.store, tableName(def.table), 'id', seen),
        resumable: def.resumable,
      });
    },
  };
}

/**
 * Rows fetched once per parent row already in the mirror (templates per category, leadgentools
 * per tunnel), requested concurrently; rows of parents that no longer list them are pruned.
 * `setup` runs once per run (its statements serve every parent).
 */
export function perParentStream<P extends { id: string }, R, W>(def: {
  name: string;
  description: string;
  dependsOn: string[];
  setup(ctx: SyncContext): W;
  parents(ctx: SyncContext): Promise<P[]>;
  fetch(client: LeelooClient, parent: P, signal: AbortSignal): Promise<R>;
  /** Inside the parent's transaction (await only store calls); returns the ids of the rows it kept. */
  write(w: W, s: StreamRun, parent: P, result: R, syncedAt: string): Promise<string[]>;
  /** Prune rows whose id was not kept by any parent (null: keep everything). */
  prune: { table: string; key: string } | null;
}): StreamDef {
  return {
    name: def.name,
    description: def.description,
    dependsOn: def.dependsOn,
    async run(ctx, s) {
      const w = def.setup(ctx);
      const kept = new Set<string>();
      const parents = await def.parents(ctx);
      ctx.progress.total(s.name, parents.length); // a parent's request is the unit of work here
      await forEachConcurrent(parents, ctx.pool.size, async (parent) => {
        const result = await s.call(() => def.fetch(ctx.client, parent, ctx.signal));
        s.counters.pages++;
        // The write counts into a tally of its own, added once committed: PostgreSQL runs a
        // transaction again after a deadlock (store/types.ts), which must not count twice.
        const tally = { ...s, counters: newCounters() };
        const ids = await ctx.store.transaction(() => {
          tally.counters = newCounters();
          return def.write(w, tally, parent, result, new Date().toISOString());
        });
        s.counters.rowsInserted += tally.counters.rowsInserted;
        s.counters.rowsUpdated += tally.counters.rowsUpdated;
        for (const id of ids) kept.add(id);
        ctx.progress.tick(s.name, 1);
      });
      s.counters.windows++;
      if (def.prune) {
        const { table, key } = def.prune;
        await ctx.store.transaction(() => pruneMissing(ctx.store, table, key, kept));
      }
    },
  };
}

/** The ids of a parent table, in order: what per-parent streams iterate. */
export const idsOf = (table: string) => (ctx: SyncContext) => ctx.store.all<{ id: string }>(sql`SELECT id FROM ${sql.identifier(table)} ORDER BY id`);
