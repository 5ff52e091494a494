import type { Body } from '../http.js';
import { formatError, notFound } from '../http.js';
import { isObjectId } from '../ids.js';
import type { ListMeta } from '../model.js';
import type { Rng } from '../random.js';
import type { SimKnobs } from '../types.js';
import type { World } from '../world.js';

export interface Ctx {
  w: World;
  knobs: SimKnobs;
  query: URLSearchParams;
  params: Record<string, string>;
  body: Body;
  /** Randomness for writes (new records' incidental fields). */
  rng: Rng;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** e.g. /api/v2/people/:id/add-tag */
  template: string;
  /** Writes are logged and may be applied before a 'drop' or '5xx' fault. */
  write?: boolean;
  /** List endpoints trigger the activityPerListRequest knob. */
  list?: boolean;
  /** The answer's JSON value; serialised at once and dropped, so it may share objects with the world. */
  handle(ctx: Ctx): unknown;
}

export const DEFAULT_LIMIT = 20;

/** A path id: 24-hex or FORMAT_ERROR naming the documented parameter. */
export function pathId(ctx: Ctx, docName: string): string {
  const id = ctx.params.id ?? '';
  if (!isObjectId(id)) throw formatError({ [docName]: 'INVALID' });
  return id.toLowerCase();
}

/** A body id: required, 24-hex. */
export function bodyId(body: Body, name: string, required = true): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw formatError({ [name]: 'REQUIRED' });
    return undefined;
  }
  const s = typeof v === 'string' ? v.trim() : v;
  if (!isObjectId(s)) throw formatError({ [name]: 'INVALID' });
  return s.toLowerCase();
}

export function found<T>(v: T | undefined): T {
  if (v === undefined) throw notFound();
  return v;
}

/** limit (default 20) and offset (default 0): non-negative whole numbers, limit at least 1. */
export function paging(q: URLSearchParams): { limit: number; offset: number } {
  const limit = q.get('limit');
  const offset = q.get('offset');
  const lim = limit === null || limit === '' ? DEFAULT_LIMIT : /^\d+$/.test(limit.trim()) ? Number(limit) : NaN;
  const off = offset === null || offset === '' ? 0 : /^\d+$/.test(offset.trim()) ? Number(offset) : NaN;
  if (!Number.isSafeInteger(lim) || lim < 1) throw formatError({ limit: 'INVALID' });
  if (!Number.isSafeInteger(off)) throw formatError({ offset: 'INVALID' });
  return { limit: lim, offset: off };
}

const DAY_MS = 86_400_000;

/**
 * filter[last_message][from|to]: `YYYY-MM-DD` or any datetime, parsed like JS `new Date(value)`
 * (the people docs call it "js_date"); both bounds inclusive. Returns epoch ms or null if absent.
 * The datePrecision knob plays the readings the docs leave open: only the date part counts
 * (`day`: `to` through the end of its day; `day-start`: `to` at 00:00 of its date), or the
 * filter is validated and then not applied at all (`ignored`).
 */
export function dateParam(q: URLSearchParams, edge: 'from' | 'to', required: boolean, precision: SimKnobs['datePrecision'] = 'exact'): number | null {
  const name = `filter[last_message][${edge}]`;
  const v = q.get(name);
  if (v === null || v.trim() === '') {
    if (required) throw formatError({ [name]: 'REQUIRED' });
    return null;
  }
  const t = new Date(v.trim()).getTime();
  if (Number.isNaN(t)) throw formatError({ [name]: 'INVALID' });
  if (precision === 'exact') return t;
  if (precision === 'ignored') return null;
  const day = Math.floor(t / DAY_MS) * DAY_MS;
  return edge === 'to' && precision === 'day' ? day + DAY_MS - 1 : day;
}

/**
 * `meta.limit` echoes the requested limit even when pageCap served fewer, and filteredCount is
 * the page length: the docs' examples disagree on what filteredCount is (docs/leeloo-api.md, "Lists and paging"), so
 * clients must count what arrived and use totalCount.
 */
export function listAnswer<T>(data: T[], limit: number, offset: number, totalCount: number, claim: number | null = null): { status: 1; data: T[]; meta: ListMeta } {
  return { status: 1, data, meta: { limit, offset, filteredCount: data.length, totalCount: claim ?? totalCount } };
}

export function pageSize(ctx: Ctx, limit: number): number {
  return ctx.knobs.pageCap === null ? limit : Math.min(limit, ctx.knobs.pageCap);
}

/** A page of `items[start, end)` rendered. */
export function slicePage<T, R>(ctx: Ctx, items: readonly T[], start: number, end: number, render: (t: T) => R): { status: 1; data: R[]; meta: ListMeta } {
  const { limit, offset } = paging(ctx.query);
  const from = Math.min(end, start + offset);
  const to = Math.min(end, from + pageSize(ctx, limit));
  const data: R[] = [];
  for (let i = from; i < to; i++) data.push(render(items[i] as T));
  return listAnswer(data, limit, offset, end - start, ctx.knobs.claimTotalCount);
}

/** A page of the items in `items[start, end)` that pass `keep`; totalCount counts every match. */
export function filteredPage<T, R>(
  ctx: Ctx,
  items: readonly T[],
  start: number,
  end: number,
  keep: (t: T) => boolean,
  render: (t: T) => R,
): { status: 1; data: R[]; meta: ListMeta } {
  const { limit, offset } = paging(ctx.query);
  const size = pageSize(ctx, limit);
  const data: R[] = [];
  let matches = 0;
  for (let i = start; i < end; i++) {
    const item = items[i] as T;
    if (!keep(item)) continue;
    if (matches >= offset && data.length < size) data.push(render(item));
    matches++;
  }
  return listAnswer(data, limit, offset, matches, ctx.knobs.claimTotalCount);
}

export const ok = (data: unknown = {}) => ({ status: 1, data });
