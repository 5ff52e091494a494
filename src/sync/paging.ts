import { LeelooSyncError } from '../errors.js';
import type { Page, PageRequest } from '../leeloo/endpoints.js';
import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';

/**
 * The one owner of limit/offset paging (leeloo-api.md "Lists"); the client only reads single
 * pages. Rules, in order of the traps they avoid:
 * - the offset advances by the items actually received, since the server may cap `limit`;
 * - an empty page ends the list;
 * - with a totalCount, the list ends when the offset reaches it (the latest count, since a list
 *   may shrink while it is read); `filteredCount` is never used, the examples contradict it;
 * - without one, a short page ends the list, "short" meaning shorter than the size the server
 *   is known to serve: a page smaller than requested while totalCount says more remain teaches
 *   the server's cap, so capped pages are not mistaken for the last one.
 * `walkPages` reads a list page by page for callers that may stop early; `pagedPass` reads a
 * whole list with prefetching and reports what a completeness proof needs.
 */
class ListCursor {
  /** The page size the server is seen to serve (its cap), at most the one requested. */
  effective: number;

  constructor(readonly pageSize: number) {
    this.effective = pageSize;
  }

  /** Learns from a page; true when it ends the list. */
  ended(page: Page<unknown>): boolean {
    const n = page.items.length;
    const total = page.totalCount;
    if (n > 0 && n < this.pageSize && total !== null && page.nextOffset < total) this.effective = n;
    if (n === 0) return true;
    if (total !== null) return page.nextOffset >= total;
    return n < this.effective;
  }
}

/** A request the engine sends: it always knows where it is and how many it asks for. */
export type PageAt = Required<Pick<PageRequest, 'offset' | 'limit'>> & Pick<PageRequest, 'signal'>;

export type PageFetch<T> = (req: PageAt) => Promise<Page<T>>;

export interface WalkOptions<T> {
  pageSize: number;
  /** Resume a list at this offset. */
  startOffset?: number;
  signal?: AbortSignal;
  /** Wraps each request (a stream's pool and attribution). */
  call?: <R>(fn: () => Promise<R>) => Promise<R>;
  /** Identity of an item, for detecting a server that ignores `offset`. Default: `item.id`. */
  idOf?: (item: T) => string | undefined;
  /** Absolute bound on pages when no totalCount is ever known. Default 100 000. */
  maxPages?: number;
  /** For error messages, e.g. `/api/v2/people`. */
  route?: string;
}

/** A list that cannot be paged to its end: the server ignores `offset` or never stops. */
export class PaginationError extends LeelooSyncError {
  readonly route: string;
  readonly offset: number;
  /** A server that repeats pages keeps doing so; running past the count may be a list growing fast. */
  readonly permanent: boolean;

  constructor(route: string, offset: number, detail: string, permanent: boolean) {
    super(`paging ${route} at offset ${offset}: ${detail}`);
    this.name = 'PaginationError';
    this.route = route;
    this.offset = offset;
    this.permanent = permanent;
  }
}

/** Pages compared for repeats; a server that cycles through a few pages is caught too. */
const RECENT_PAGES = 4;
const DEFAULT_MAX_PAGES = 100_000;

const defaultId = (item: unknown): string | undefined => {
  const id = item && typeof item === 'object' && 'id' in item ? item.id : undefined;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Pages of a list in order, one request each, sent as the caller asks for the next page (so it
 * can take a few and stop). It cannot run forever: a page made only of ids seen in the last few
 * pages means the server ignores `offset`, and the page count is bounded by the first
 * totalCount plus slack (or by `maxPages` when no count is known).
 */
export async function* walkPages<T>(fetch: PageFetch<T>, opts: WalkOptions<T>): AsyncGenerator<Page<T>> {
  const pageSize = Math.max(1, Math.floor(opts.pageSize));
  const startOffset = Math.max(0, Math.floor(opts.startOffset ?? 0));
  const idOf = opts.idOf ?? defaultId;
  const route = opts.route ?? 'list';
  const call = opts.call ?? ((fn) => fn());
  const cursor = new ListCursor(pageSize);
  let maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  let offset = startOffset;
  let pages = 0;
  let boundSet = false;
  const recent: Set<string>[] = [];

  for (;;) {
    opts.signal?.throwIfAborted();
    if (pages >= maxPages) {
      throw new PaginationError(route, offset, `gave up after ${pages} pages, more than the list's totalCount allows`, false);
    }
    const at = offset;
    const page = await call(() => fetch({ offset: at, limit: pageSize, signal: opts.signal }));
    pages++;
    const n = page.items.length;
    if (n > 0) {
      const ids = new Set<string>();
      for (const item of page.items) {
        const id = idOf(item);
        if (id !== undefined) ids.add(id);
      }
      if (ids.size > 0 && recent.length > 0 && [...ids].every((id) => recent.some((s) => s.has(id)))) {
        throw new PaginationError(route, offset, 'the page repeats ids already received: the server ignores offset', true);
      }
      recent.push(ids);
      if (recent.length > RECENT_PAGES) recent.shift();
    }
    if (!boundSet && page.totalCount !== null && n > 0) {
      // Pages this list should take at the size the server serves now, plus slack for a list that
      // grows or shifts while it is read.
      const expected = Math.ceil(Math.max(0, page.totalCount - startOffset) / n);
      maxPages = Math.min(maxPages, pages + expected + Math.max(5, Math.ceil(expected / 2)));
      boundSet = true;
    }
    const ended = cursor.ended(page);
    yield page;
    if (ended) return;
    offset = page.nextOffset;
  }
}

export interface PassSpec<T> {
  fetchPage(offset: number, limit: number): Promise<Page<T>>;
  idOf(item: T): string;
  /** Commits one page (rows and cursor) in one store transaction. */
  commit(items: T[], nextOffset: number, firstTotal: number | null): Promise<void>;
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
  const cursor = new ListCursor(pageSize);
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
      const ended = cursor.ended(page);
      await spec.commit(page.items, page.nextOffset, res.firstTotal);
      ctx.progress.tick(s.name, page.items.length);
      offset = page.nextOffset;
      res.endOffset = offset;
      // A count that grows as we page (or a server ignoring offset) would never end the pass.
      if (res.firstTotal !== null && offset > 2 * res.firstTotal + pageSize) {
        throw new Error(`${s.name}: the list kept serving items past twice its first totalCount (${res.firstTotal}); its totalCount cannot be trusted`);
      }
      if (ended) {
        res.endedEarly = page.items.length === 0 && total !== null && offset < total;
        break;
      }
      for (let k = 0; k < lookahead; k++) {
        const o = offset + k * cursor.effective;
        if (total === null || o < total) void fetchAt(o);
      }
    }
  } finally {
    await Promise.allSettled(inflight.values());
  }
  res.distinct = seen.size;
  return res;
}
