import type { Page } from '../leeloo/endpoints.js';
import type { StreamRun, SyncContext } from './context.js';
import { pagedPass } from './paging.js';

export interface FullListSpec<T> {
  fetchPage(offset: number, limit: number): Promise<Page<T>>;
  idOf(item: T): string;
  /** Inside the page's transaction (await only store calls). */
  writePage(items: T[]): Promise<{ inserted: number; updated: number }>;
  /** After a pass proven complete: remove mirrored rows the source no longer lists. */
  deleteMissing?(seen: ReadonlySet<string>): Promise<number>;
  /** Store the offset after each page so a killed run continues the list where it stopped. */
  resumable?: boolean;
}

interface ListState {
  offset: number;
  totalCount: number | null;
}

const MAX_PASSES = 5;

/**
 * Reads a whole list (no date filter exists for it) with change detection done by the upserts.
 * Lists are newest first, so records created while we page push older ones down (seen twice,
 * never skipped); a falling totalCount means something was removed and may have pulled a record
 * past a page boundary, so the pass is repeated.
 */
export async function runFullList<T>(ctx: SyncContext, s: StreamRun, spec: FullListSpec<T>): Promise<void> {
  const saved = spec.resumable && !ctx.full ? (await ctx.state.get<ListState>(s.name)).state : null;
  let startOffset = saved?.offset ?? 0;
  let knownTotal = saved?.totalCount ?? null;
  const seen = new Set<string>();
  const commit = async (items: T[], nextOffset: number, firstTotal: number | null) => {
    const r = await ctx.store.transaction(async () => {
      const written = await spec.writePage(items);
      if (spec.resumable) await ctx.state.put(s.name, '', null, { offset: nextOffset, totalCount: firstTotal } satisfies ListState);
      return written;
    });
    // Counted once the page committed: a failed transaction counts nothing, and one PostgreSQL
    // ran again after a deadlock (store/types.ts) counts once.
    for (const item of items) seen.add(spec.idOf(item));
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
  };
  for (let pass = 1; ; pass++) {
    const resumed = startOffset > 0;
    const r = await pagedPass(ctx, s, { fetchPage: spec.fetchPage, idOf: spec.idOf, commit }, startOffset, knownTotal);
    const shrank = r.minTotal !== null && r.firstTotal !== null && r.minTotal < r.firstTotal;
    const complete = !shrank && !r.endedEarly && (r.firstTotal === null || seen.size >= r.firstTotal);
    if (complete || (resumed && !shrank && !r.endedEarly)) {
      s.counters.windows++;
      await ctx.store.transaction(async () => {
        // Only a pass that saw the whole list from offset 0 may delete what it did not see.
        if (!resumed && complete && spec.deleteMissing) {
          const removed = await spec.deleteMissing(seen);
          if (removed > 0) s.log.info({ removed }, 'removed rows the API no longer lists');
        }
        if (spec.resumable) await ctx.state.put(s.name, '', new Date().toISOString(), null);
      });
      return;
    }
    s.log.info({ pass, totalCount: [r.minTotal, r.maxTotal], distinct: seen.size }, 'list changed while paging; reading it again');
    if (pass >= MAX_PASSES) throw new Error(`${s.name}: the list kept changing over ${pass} passes; cannot prove it complete`);
    startOffset = 0;
    knownTotal = null;
  }
}
