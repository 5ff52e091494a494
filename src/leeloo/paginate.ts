import { LeelooSyncError } from '../errors.js';

export interface Page<T> {
  items: T[];
  /** Offset this page was requested at. */
  offset: number;
  /** Offset of the next page: `offset + items.length` (what the server really sent). */
  nextOffset: number;
  /** `meta.totalCount` of this answer, or null when the server sent none. */
  totalCount: number | null;
}

export interface PageOptions {
  /** `limit` to ask for; the server may serve fewer. Default: the client's pageSize (100). */
  pageSize?: number;
  /** Resume a list at this offset (e.g. a cursor committed with the previous page). */
  startOffset?: number;
  signal?: AbortSignal;
}

/** What one list request yields before paging logic: the items and the server's totalCount. */
export interface RawPage<T> {
  items: T[];
  totalCount: number | null;
}

export type PageFetcher<T> = (offset: number, limit: number, signal?: AbortSignal) => Promise<RawPage<T>>;

export interface PaginateOptions<T> extends PageOptions {
  pageSize: number;
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
  const id = item && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Walks a limit/offset list (docs/leeloo-api.md, "Lists and paging"). Rules, in order of the traps they avoid:
 * - the offset advances by the items actually received, since the server may cap `limit`;
 * - an empty page ends the list;
 * - with a totalCount, the list ends when the offset reaches it (the latest count, since a list
 *   may shrink while it is read); `filteredCount` is never used, the examples contradict it;
 * - without one, a short page ends the list, "short" meaning shorter than the size the server
 *   is known to serve: a page smaller than requested while totalCount says more remain teaches
 *   the server's cap, so capped pages are not mistaken for the last one;
 * - it cannot run forever: a page made only of ids seen in the last few pages means the server
 *   ignores `offset`, and the page count is bounded by the first totalCount plus slack (or by
 *   `maxPages` when no count is known).
 * The first request is sent on the first `next()`, so a caller can take one page and stop.
 */
export async function* paginate<T>(fetch: PageFetcher<T>, opts: PaginateOptions<T>): AsyncGenerator<Page<T>> {
  const pageSize = Math.max(1, Math.floor(opts.pageSize));
  const startOffset = Math.max(0, Math.floor(opts.startOffset ?? 0));
  const idOf = opts.idOf ?? defaultId;
  const route = opts.route ?? 'list';
  let maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  let offset = startOffset;
  let effective = pageSize;
  let pages = 0;
  let boundSet = false;
  const recent: Set<string>[] = [];

  for (;;) {
    opts.signal?.throwIfAborted();
    if (pages >= maxPages) {
      throw new PaginationError(route, offset, `gave up after ${pages} pages, more than the list's totalCount allows`, false);
    }
    const raw = await fetch(offset, pageSize, opts.signal);
    pages++;
    const items = raw.items;
    const n = items.length;
    const total = raw.totalCount;
    const nextOffset = offset + n;

    if (n > 0) {
      const ids = new Set<string>();
      for (const item of items) {
        const id = idOf(item);
        if (id !== undefined) ids.add(id);
      }
      if (ids.size > 0 && recent.length > 0 && [...ids].every((id) => recent.some((s) => s.has(id)))) {
        throw new PaginationError(route, offset, 'the page repeats ids already received: the server ignores offset', true);
      }
      recent.push(ids);
      if (recent.length > RECENT_PAGES) recent.shift();
    }

    if (!boundSet && total !== null && n > 0) {
      // Pages this list should take at the size the server serves now, plus slack for a list that
      // grows or shifts while it is read.
      const expected = Math.ceil(Math.max(0, total - startOffset) / n);
      maxPages = Math.min(maxPages, pages + expected + Math.max(5, Math.ceil(expected / 2)));
      boundSet = true;
    }
    if (n > 0 && n < effective && total !== null && nextOffset < total) effective = n;

    yield { items, offset, nextOffset, totalCount: total };

    if (n === 0) return;
    if (total !== null && nextOffset >= total) return;
    if (total === null && n < effective) return;
    offset = nextOffset;
  }
}

/** The items of a page generator, in order. */
export async function* flattenPages<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T> {
  for await (const page of pages) yield* page.items;
}

/** `meta.totalCount` as a number, tolerating a numeric string; anything else is unknown. */
export function totalCountOf(meta: unknown): number | null {
  if (!meta || typeof meta !== 'object') return null;
  const t = (meta as { totalCount?: unknown }).totalCount;
  const n = typeof t === 'number' ? t : typeof t === 'string' && t.trim() !== '' ? Number(t) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
}
