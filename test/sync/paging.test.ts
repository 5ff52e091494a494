import { describe, expect, it } from 'vitest';
import { totalCountOf, type Page } from '../../src/leeloo/endpoints.js';
import { PaginationError, walkPages, type WalkOptions } from '../../src/sync/paging.js';

/** What one list request answers, before the engine's paging: the items and the server's totalCount. */
interface RawPage<T> {
  items: T[];
  totalCount: number | null;
}

/** The engine's walk over a fake list endpoint answering `(offset, limit)`. */
const paginate = <T>(fetch: (offset: number, limit: number) => Promise<RawPage<T>>, o: WalkOptions<T>) =>
  walkPages<T>(async (r) => {
    const p = await fetch(r.offset, r.limit);
    return { ...p, offset: r.offset, nextOffset: r.offset + p.items.length };
  }, o);

async function* flattenPages<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T> {
  for await (const page of pages) yield* page.items;
}

interface Item {
  id: string;
}

const list = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `id${i}` }));

/** A fake server over `items`: serves at most `cap` per request, reports totalCount unless told not to. */
function server(items: Item[], o: { cap?: number; total?: boolean | ((offset: number) => number | null); ignoreOffset?: boolean } = {}) {
  const calls: { offset: number; limit: number }[] = [];
  const fetch = async (offset: number, limit: number): Promise<RawPage<Item>> => {
    calls.push({ offset, limit });
    const n = Math.min(limit, o.cap ?? Infinity);
    const start = o.ignoreOffset ? 0 : offset;
    const total = typeof o.total === 'function' ? o.total(offset) : o.total === false ? null : items.length;
    return { items: items.slice(start, start + n), totalCount: total };
  };
  return { fetch, calls };
}

async function collect<T>(gen: AsyncGenerator<Page<T>>): Promise<Page<T>[]> {
  const out: Page<T>[] = [];
  for await (const p of gen) out.push(p);
  return out;
}

describe('walkPages (the engine owns paging; the client reads one page)', () => {
  it('walks a list to its totalCount with exact offsets', async () => {
    const s = server(list(250));
    const pages = await collect(paginate(s.fetch, { pageSize: 100 }));
    expect(pages.map((p) => [p.offset, p.items.length, p.nextOffset, p.totalCount])).toEqual([
      [0, 100, 100, 250],
      [100, 100, 200, 250],
      [200, 50, 250, 250],
    ]);
    expect(s.calls).toHaveLength(3);
  });

  it('stops without an extra request when the last page is exactly full', async () => {
    const s = server(list(200));
    const pages = await collect(paginate(s.fetch, { pageSize: 100 }));
    expect(pages).toHaveLength(2);
    expect(s.calls).toHaveLength(2);
  });

  it('is complete when the server caps the page size (advances by items received)', async () => {
    const items = list(237);
    const s = server(items, { cap: 50 });
    const got = [];
    for await (const i of flattenPages(paginate(s.fetch, { pageSize: 100 }))) got.push(i.id);
    expect(got).toEqual(items.map((i) => i.id));
    expect(s.calls.map((c) => c.offset)).toEqual([0, 50, 100, 150, 200]);
  });

  it('learns the cap from the first page, so capped pages without totalCount later are not "short"', async () => {
    const items = list(130);
    // totalCount only on the first page
    const s = server(items, { cap: 50, total: (offset) => (offset === 0 ? 130 : null) });
    const got = [];
    for await (const i of flattenPages(paginate(s.fetch, { pageSize: 100 }))) got.push(i.id);
    expect(got).toHaveLength(130);
  });

  it('without totalCount, stops on a short page', async () => {
    const s = server(list(120), { total: false });
    const pages = await collect(paginate(s.fetch, { pageSize: 50 }));
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 20]);
  });

  it('without totalCount, an exactly-full last page costs one empty request', async () => {
    const s = server(list(100), { total: false });
    const pages = await collect(paginate(s.fetch, { pageSize: 50 }));
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 0]);
  });

  it('stops on an empty page even if totalCount claims more', async () => {
    const s = server(list(30), { total: () => 1000 });
    const pages = await collect(paginate(s.fetch, { pageSize: 20 }));
    expect(pages.map((p) => p.items.length)).toEqual([20, 10, 0]);
    expect(pages.at(-1)!.totalCount).toBe(1000);
  });

  it('resumes at startOffset', async () => {
    const s = server(list(250));
    const pages = await collect(paginate(s.fetch, { pageSize: 100, startOffset: 180 }));
    expect(pages.map((p) => p.offset)).toEqual([180]);
    expect(pages[0]!.items[0]!.id).toBe('id180');
    expect(pages[0]!.nextOffset).toBe(250);
  });

  it('sends nothing until the first next(), and nothing more after return()', async () => {
    const s = server(list(250));
    const gen = paginate(s.fetch, { pageSize: 100 });
    expect(s.calls).toHaveLength(0);
    const first = await gen.next();
    expect(first.done).toBe(false);
    await gen.return(undefined as never);
    expect(s.calls).toHaveLength(1);
  });

  it('throws on a server that ignores offset (same ids twice)', async () => {
    const s = server(list(500), { ignoreOffset: true });
    const err = await collect(paginate(s.fetch, { pageSize: 100, route: '/api/v2/people' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaginationError);
    expect((err as PaginationError).permanent).toBe(true);
    expect((err as PaginationError).message).toContain('ignores offset');
    expect(s.calls).toHaveLength(2);
  });

  it('cannot loop forever on a never-ending server with a growing totalCount', async () => {
    let n = 0;
    const fetch = async (offset: number, limit: number): Promise<RawPage<Item>> => {
      n++;
      return { items: Array.from({ length: limit }, (_, i) => ({ id: `x${offset + i}` })), totalCount: offset + limit + 1000 };
    };
    const err = await collect(paginate(fetch, { pageSize: 100 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaginationError);
    // first totalCount 1100 → 11 pages expected, bound 1 + 11 + 6
    expect(n).toBeLessThanOrEqual(20);
  });

  it('cannot loop forever on a never-ending server without totalCount', async () => {
    const fetch = async (offset: number, limit: number): Promise<RawPage<Item>> => ({
      items: Array.from({ length: limit }, (_, i) => ({ id: `x${offset + i}` })),
      totalCount: null,
    });
    const err = await collect(paginate(fetch, { pageSize: 10, maxPages: 50 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaginationError);
  });

  it('catches a server cycling between two pages', async () => {
    const a = list(10);
    const b = a.map((i) => ({ id: `b${i.id}` }));
    let k = 0;
    const fetch = async (): Promise<RawPage<Item>> => ({ items: k++ % 2 === 0 ? a : b, totalCount: null });
    await expect(collect(paginate(fetch, { pageSize: 10 }))).rejects.toBeInstanceOf(PaginationError);
    expect(k).toBe(3);
  });

  it('tolerates one repeated id at a page boundary (list shifted while paging)', async () => {
    const items = list(30);
    let k = 0;
    const fetch = async (offset: number, limit: number): Promise<RawPage<Item>> => {
      k++;
      // the second request sees the list shifted by one: its first item repeats the previous page's last
      const start = k === 2 ? offset - 1 : offset;
      return { items: items.slice(start, start + limit), totalCount: 30 };
    };
    const pages = await collect(paginate(fetch, { pageSize: 10 }));
    expect(pages.reduce((s, p) => s + p.items.length, 0)).toBe(30);
  });

  it('honours an abort signal between pages', async () => {
    const s = server(list(500));
    const ac = new AbortController();
    const gen = paginate(s.fetch, { pageSize: 100, signal: ac.signal });
    await gen.next();
    ac.abort(new Error('stop'));
    await expect(gen.next()).rejects.toThrow('stop');
    expect(s.calls).toHaveLength(1);
  });
});

describe('totalCountOf', () => {
  it('reads numbers and numeric strings, nothing else', () => {
    expect(totalCountOf({ totalCount: 52 })).toBe(52);
    expect(totalCountOf({ totalCount: '52' })).toBe(52);
    expect(totalCountOf({ totalCount: null })).toBeNull();
    expect(totalCountOf({ totalCount: 'many' })).toBeNull();
    expect(totalCountOf({ filteredCount: 3 })).toBeNull();
    expect(totalCountOf(undefined)).toBeNull();
  });
});
