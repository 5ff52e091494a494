import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { LeelooClient } from '../leeloo/client.js';
import type { Page } from '../leeloo/paginate.js';
import { deleteMissing } from '../db/prune.js';
import { EntityUpserter, type RowOf } from '../db/upsert.js';
import type { StreamDef, StreamRun, SyncContext } from './context.js';
import { runFullList } from './fulllist.js';
import { forEachConcurrent } from './pool.js';
import type { Item } from './map.js';

/**
 * Declarative stream kinds. A stream file states what to fetch and how an item maps to a row;
 * paging, transactions, counting and pruning live here.
 */

/** The first page of a page generator that starts at `offset`: a single request. */
export async function firstPage<T>(gen: AsyncGenerator<Page<T>>, offset: number): Promise<Page<T>> {
  try {
    const r = await gen.next();
    if (r.done) return { items: [], offset, nextOffset: offset, totalCount: null };
    return r.value;
  } finally {
    await gen.return(undefined as never);
  }
}

const tableName = (t: SQLiteTable) => getTableConfig(t).name;

interface RowStreamBase<T> {
  name: string;
  description: string;
  table: SQLiteTable;
  /** Table property names the mapper fills (must include id, raw). */
  columns: string[];
  map(item: T, syncedAt: string): RowOf;
  dependsOn?: string[];
  defaultEnabled?: boolean;
}

function upsertRows<T>(up: EntityUpserter, map: (item: T, syncedAt: string) => RowOf, items: T[]) {
  const now = new Date().toISOString();
  return up.upsert(items.map((i) => map(i, now)));
}

/** A small list answered in one request (tags, connections, template categories): replace it whole. */
export function snapshotStream<T extends Item>(def: RowStreamBase<T> & { fetch(client: LeelooClient, signal: AbortSignal): Promise<T[]> }): StreamDef {
  return {
    name: def.name,
    description: def.description,
    dependsOn: def.dependsOn,
    defaultEnabled: def.defaultEnabled,
    async run(ctx, s) {
      const up = new EntityUpserter(ctx.mirror.db, def.table, { columns: def.columns });
      const items = await s.call(() => def.fetch(ctx.client, ctx.signal));
      s.counters.pages++;
      s.counters.windows++;
      ctx.mirror.sqlite.transaction(() => {
        const r = upsertRows(up, def.map, items);
        s.counters.rowsInserted += r.inserted;
        s.counters.rowsUpdated += r.updated;
        ctx.progress.total(s.name, items.length);
        ctx.progress.tick(s.name, items.length);
        deleteMissing(ctx.mirror.sqlite, tableName(def.table), 'id', items.map((i) => String(i.id)));
      })();
    },
  };
}

/** A paged list without a date filter (users, tunnels, v1 accounts): read whole, prune what is gone. */
export function pagedRefreshStream<T extends Item>(
  def: RowStreamBase<T> & { page(client: LeelooClient, offset: number, limit: number, signal: AbortSignal): Promise<Page<T>>; resumable?: boolean },
): StreamDef {
  return {
    name: def.name,
    description: def.description,
    dependsOn: def.dependsOn,
    defaultEnabled: def.defaultEnabled,
    async run(ctx, s) {
      const up = new EntityUpserter(ctx.mirror.db, def.table, { columns: def.columns });
      await runFullList(ctx, s, {
        fetchPage: (offset, limit) => def.page(ctx.client, offset, limit, ctx.signal),
        idOf: (i) => String(i.id),
        writePage: (items) => upsertRows(up, def.map, items),
        deleteMissing: (seen) => deleteMissing(ctx.mirror.sqlite, tableName(def.table), 'id', seen),
        resumable: def.resumable,
      });
    },
  };
}

/**
 * Rows fetched once per parent row already in the mirror (templates per category, leadgentools
 * per tunnel), requested concurrently; rows of parents that no longer list them are pruned.
 */
export function perParentStream<P extends { id: string }, R>(def: {
  name: string;
  description: string;
  dependsOn: string[];
  parents(ctx: SyncContext): P[];
  fetch(client: LeelooClient, parent: P, signal: AbortSignal): Promise<R>;
  /** Synchronous, inside the parent's transaction; returns the ids of the rows it kept. */
  write(ctx: SyncContext, s: StreamRun, parent: P, result: R, syncedAt: string): string[];
  /** Prune rows whose id was not kept by any parent (null: keep everything). */
  prune: { table: string; key: string } | null;
}): StreamDef {
  return {
    name: def.name,
    description: def.description,
    dependsOn: def.dependsOn,
    async run(ctx, s) {
      const kept = new Set<string>();
      const parents = def.parents(ctx);
      ctx.progress.total(s.name, parents.length); // a parent's request is the unit of work here
      await forEachConcurrent(parents, ctx.pool.size, async (parent) => {
        const result = await s.call(() => def.fetch(ctx.client, parent, ctx.signal));
        s.counters.pages++;
        ctx.mirror.sqlite.transaction(() => {
          for (const id of def.write(ctx, s, parent, result, new Date().toISOString())) kept.add(id);
        })();
        ctx.progress.tick(s.name, 1);
      });
      s.counters.windows++;
      if (def.prune) {
        const { table, key } = def.prune;
        ctx.mirror.sqlite.transaction(() => deleteMissing(ctx.mirror.sqlite, table, key, kept))();
      }
    },
  };
}
