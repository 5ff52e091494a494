import type { Page } from '../leeloo/paginate.js';
import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';

export interface PassSpec<T> {
  fetchPage(offset: number, limit: number): Promise<Page<T>>;
  idOf(item: T): string;
  /** Commits one page (rows and cursor) in one synchronous transaction. */
  commit(items: T[], nextOffset: number, firstTotal: number | null): void;
  /** Return true to abandon the pass after its first page (e.g. the window is too deep). */
  rejectFirst?(page: Page<T>): boolean;
}

export interface PassResult {
  rejected: boolean;
  firstTotal: number | null;
  minTotal: number | null;
  maxTotal: number | null;
  /** Items received: the offset the pass ended at, counted from its start offset. */
  endOffset: number;
  distinct: number;
  duplicates: number;
  /** The pass ended on an empty page while the server's count said more remained. */
  endedEarly: boolean;
}

/**
 * One pass over a limit/offset list, committing page by page in order while prefetching the next
 * few pages through the shared pool. Offsets advance by the items actually received, and when
 * the server caps `limit` the prefetch follows the size it really serves. The caller decides from
 * the result whether the pass proves the list complete.
 */
export async function pagedPass<T>(ctx: SyncContext, s: StreamRun, spec: PassSpec<T>, startOffset = 0, knownTotal: number | null = null): Promise<PassResult> {
  const pageSize = ctx.env.LEELOO_PAGE_SIZE;
  const lookahead = Math.max(1, Math.min(4, ctx.pool.size));
  const res: PassResult = {
    rejected: false,
    firstTotal: knownTotal,
    minTotal: knownTotal,
    maxTotal: knownTotal,
    endOffset: startOffset,
    distinct: 0,
    duplicates: 0,
    endedEarly: false,
  };
  const seen = new Set<string>();
  let effective = pageSize;
  let offset = startOffset;
  const inflight = new Map<number, Promise<Page<T>>>();
  const fetchAt = (o: number) => {
    let p = inflight.get(o);
    if (!p) {
      p = s.call(() => spec.fetchPage(o, pageSize));
      p.catch(() => undefined); // awaited below, or abandoned when a page comes back short
      inflight.set(o, p);
    }
    return p;
  };
  let first = true;
  try {
    for (;;) {
      throwIfAborted(ctx.signal);
      const page = await fetchAt(offset);
      inflight.delete(offset);
      s.counters.pages++;
      if (first && spec.rejectFirst?.(page)) {
        if (page.totalCount !== null) ctx.progress.expect(s.name, page.totalCount - startOffset); // what lies ahead, read in parts
        res.rejected = true;
        return res;
      }
      if (first && page.totalCount !== null) ctx.progress.total(s.name, page.totalCount - startOffset);
      first = false;
      const total = page.totalCount;
      if (total !== null) {
        res.firstTotal ??= total;
        res.minTotal = res.minTotal === null ? total : Math.min(res.minTotal, total);
        res.maxTotal = res.maxTotal === null ? total : Math.max(res.maxTotal, total);
      }
      for (const item of page.items) {
        const id = spec.idOf(item);
        if (seen.has(id)) res.duplicates++;
        else seen.add(id);
      }
      if (page.items.length > 0 && page.items.length < pageSize && total !== null && page.nextOffset < total) {
        effective = page.items.length;
      }
      spec.commit(page.items, page.nextOffset, res.firstTotal);
      ctx.progress.tick(s.name, page.items.length);
      offset = page.nextOffset;
      res.endOffset = offset;
      // A count that grows as we page (or a server ignoring offset) would never end the pass.
      if (res.firstTotal !== null && offset > 2 * res.firstTotal + pageSize) {
        throw new Error(`${s.name}: the list kept serving items past twice its first totalCount (${res.firstTotal}); its totalCount cannot be trusted`);
      }
      if (page.items.length === 0) {
        res.endedEarly = total !== null && offset < total;
        break;
      }
      if (total !== null && offset >= total) break;
      if (total === null && page.items.length < effective) break;
      for (let k = 0; k < lookahead; k++) {
        const o = offset + k * effective;
        if (total === null || o < total) void fetchAt(o);
      }
    }
  } finally {
    await Promise.allSettled(inflight.values());
  }
  res.distinct = seen.size;
  return res;
}
