import { ceilDay, floorDay, type DateFormat } from '../leeloo/dates.js';
import type { Page } from '../leeloo/endpoints.js';
import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';
import { FilterViolation, assumption, checkItems, ignoredError, probeOnce, resolveDateMode, splitTrusted, windowFilter, type DateMode } from './dateguard.js';
import { pagedPass, type PageAt } from './paging.js';

/**
 * Walks `filter[last_message]` windows from the stream's cursor up to the run's start, committing
 * each page's rows together with the cursor, and proves every window complete.
 *
 * Why the proof works: a window ends at or before the run's start, so no record can enter it
 * while we page (a new message moves lastMessageTime to "now", past the window); records can only
 * leave it. Leaving shifts later records up one position, which can make a page boundary skip
 * one. So a pass is complete exactly when the window's totalCount never changed from its first
 * page to its last, no id came twice and the items received add up to that totalCount. Otherwise
 * the window is scanned again (records that left are past the run's start and belong to the next
 * run); a window that keeps churning is split so each pass is shorter.
 *
 * The proof assumes the server reads filter[last_message] the way the window is sent, so that is
 * checked too (dateguard.ts): every listed item must lie inside what the window asks for, and
 * the halves of a split window must count what the whole did. Either failing re-probes the
 * server once and rescans in the mode it shows, or fails the stream; the cursor never moves
 * past such a window.
 */

/** A window of the walk (with the filter chosen for the server), or a look-up without one. */
export interface ListWindow {
  from: Date;
  to: Date;
  /** Absent: a look-up outside the walk, given a filter as wide as the date findings require (dateguard.ts lookupFilter). */
  filter?: Window['filter'];
}

export interface WindowSpec<T> {
  /** One page of the list in a window: a single request. */
  list(window: ListWindow, req: PageAt): Promise<Page<T>>;
  idOf(item: T): string;
  /** Commits a page, inside the transaction that also stores the cursor (await only store calls). */
  writePage(items: T[]): Promise<{ inserted: number; updated: number }>;
}

export interface Window {
  from: Date;
  to: Date;
  /** What to pass as the list's filter: the bounds and format chosen for the server (dateguard.ts). */
  filter: { from: Date; to: Date; dateFormat: DateFormat };
}

interface InProgress {
  from: string;
  to: string;
  offset: number;
  totalCount: number | null;
  /** The filter format the offset belongs to; a resumed window read in another format starts over. */
  format?: DateFormat;
}

export interface WindowedState {
  current: InProgress | null;
}

const MAX_PASSES_BEFORE_SPLIT = 3;
const MAX_PASSES = 8;
const DAY = 86_400_000;

/** Records seen leaving windows while paging, in this run: the slack of the split check. */
interface Drift {
  n: number;
}

/**
 * A pass of its own beside the stream's cursor (reconcile's all-time pass): its progress lives in
 * sync_state under `partition`, and it starts at `from` unless a killed pass is resumed.
 */
export interface WindowedPass {
  partition: string;
  from: Date;
}

export async function runWindowed<T>(ctx: SyncContext, s: StreamRun, spec: WindowSpec<T>, own?: WindowedPass): Promise<void> {
  const { env } = ctx;
  const partition = own?.partition ?? '';
  const saved = await ctx.state.get<WindowedState>(s.name, partition);
  const end = ctx.runStart;
  let mode = await resolveDateMode(ctx, s);
  let dayMode = mode.format === 'date';
  const startDate = new Date(`${env.SYNC_START_DATE}T00:00:00.000Z`);

  let resume: InProgress | null = null;
  let pos: Date;
  if (own && !saved.state?.current) {
    pos = own.from;
  } else if (!own && (ctx.full || ctx.since)) {
    pos = ctx.since ?? startDate;
  } else if (saved.state?.current) {
    // A killed run left a window half done: finish it from the last committed page.
    resume = saved.state.current;
    pos = new Date(resume.from);
    if ((resume.format ?? env.LEELOO_DATE_FORMAT) !== mode.format) resume = { ...resume, offset: 0, totalCount: null };
  } else if (saved.cursor) {
    pos = new Date(new Date(saved.cursor).getTime() - env.SYNC_LOOKBACK_MINUTES * 60_000);
  } else {
    pos = startDate;
  }
  if (dayMode) pos = floorDay(pos);

  const drift: Drift = { n: 0 };
  let reprobed = false;
  let span = end.getTime() - pos.getTime();
  while (pos < end) {
    throwIfAborted(ctx.signal);
    const to = resume ? (dayMode ? ceilDay(new Date(resume.to)) : new Date(resume.to)) : nextTo(pos, span, end, dayMode);
    const window = makeWindow(mode, pos, to);
    let outcome: Outcome;
    try {
      outcome = await scanWindow(ctx, s, spec, mode, window, resume, drift, partition);
      if (outcome.kind === 'split') {
        const half = Math.max(1, Math.floor((to.getTime() - pos.getTime()) / 2));
        await checkSplit(ctx, s, spec, mode, window, outcome.total, nextTo(pos, half, to, dayMode), drift);
      }
    } catch (err) {
      if (!(err instanceof FilterViolation)) throw err;
      // The server does not read the filter as assumed. Rows already committed are real records
      // (upserts), but the window is not proven: the cursor stays where it is.
      if (!mode.auto || reprobed) throw new Error(err.message + (mode.auto ? '; a new probe did not explain it' : '; run leeloo-sync doctor, or set LEELOO_DATE_FORMAT=auto'));
      reprobed = true;
      const f = await probeOnce(ctx, s, true);
      if (f.mode === 'ignored') throw ignoredError(s, f);
      const next: DateMode = { format: f.mode, dateTo: f.dateTo, auto: true };
      if (next.format === mode.format && next.dateTo === mode.dateTo) throw new Error(`${err.message}; a new probe confirmed the assumption, so the answers cannot be trusted`);
      s.log.warn({ was: assumption(mode), now: assumption(next) }, `${err.message}; re-probed, rescanning the window`);
      mode = next;
      dayMode = mode.format === 'date';
      if (dayMode) pos = floorDay(pos);
      resume = null;
      span = to.getTime() - pos.getTime();
      continue;
    }
    resume = null;
    if (outcome.kind === 'split') {
      span = Math.max(1, Math.floor((to.getTime() - pos.getTime()) / 2));
      continue;
    }
    s.counters.windows++;
    pos = to;
    // In date mode the last window reaches past the run's start; only up to the start is proven.
    const covered = (outcome.provenTo ?? new Date(Math.min(to.getTime(), end.getTime()))).toISOString();
    await ctx.state.put(s.name, partition, covered, { current: null } satisfies WindowedState);
    // Grow again after a split: the next stretch of time may be sparse.
    span = span * 2;
  }
}

function nextTo(pos: Date, span: number, end: Date, dayMode: boolean): Date {
  const to = new Date(Math.min(end.getTime(), pos.getTime() + Math.max(span, dayMode ? DAY : 1000)));
  return dayMode ? new Date(Math.min(ceilDay(to).getTime(), ceilDay(end).getTime())) : to;
}

function makeWindow(mode: DateMode, from: Date, to: Date): Window & { span: { from: Date; to: Date } } {
  const f = windowFilter(mode, from, to);
  return { from, to, filter: f.send, span: f.span };
}

function canSplit(mode: DateMode, w: Window): boolean {
  const len = w.to.getTime() - w.from.getTime();
  return mode.format === 'date' ? len > DAY : len > 1000;
}

/**
 * Before a too-deep window is read in halves, the halves' totalCounts (one request each) must
 * add up to the parent's; otherwise the server's filter does not read the bounds as we do.
 */
async function checkSplit<T>(ctx: SyncContext, s: StreamRun, spec: WindowSpec<T>, mode: DateMode, parent: Window, total: number, mid: Date, drift: Drift): Promise<void> {
  const halves = [makeWindow(mode, parent.from, mid), makeWindow(mode, mid, parent.to)];
  const counts: number[] = [];
  for (const h of halves) {
    const page = await s.call(() => spec.list(h, { offset: 0, limit: 1, signal: ctx.signal }));
    s.counters.pages++;
    checkItems(s, mode, h.span, page.items);
    if (page.totalCount === null) return; // nothing to compare
    counts.push(page.totalCount);
  }
  const live = halves[1]!.span.to > ctx.runStart;
  if (splitTrusted(total, counts, { drift: drift.n, live, overlapUnknown: mode.format === 'date' && mode.dateTo === 'unknown' })) return;
  const msg = `${s.name}: splitting the window ${parent.from.toISOString()}..${parent.to.toISOString()} (totalCount ${total}) gave halves of ${counts.join(' + ')}, which cannot be the same records (${assumption(mode)})`;
  if (mode.format === 'datetime' && mode.auto) throw new FilterViolation(msg);
  throw new Error(`${msg}; the server's totalCount or filter cannot be trusted, so nothing was advanced`);
}

type Outcome = { kind: 'complete'; provenTo?: Date } | { kind: 'split'; total: number };

async function scanWindow<T>(
  ctx: SyncContext,
  s: StreamRun,
  spec: WindowSpec<T>,
  mode: DateMode,
  window: Window & { span: { from: Date; to: Date } },
  resume: InProgress | null,
  drift: Drift,
  partition = '',
): Promise<Outcome> {
  const maxRows = ctx.env.SYNC_WINDOW_MAX_ROWS;
  const cursorOf = (offset: number, totalCount: number | null): InProgress => ({
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    offset,
    totalCount,
    format: mode.format,
  });
  const commit = async (items: T[], nextOffset: number, firstTotal: number | null) => {
    // Counted once committed: PostgreSQL runs a transaction again after a deadlock (store/types.ts).
    const r = await ctx.store.transaction(async () => {
      const written = await spec.writePage(items);
      await ctx.state.put(s.name, partition, window.from.toISOString(), { current: cursorOf(nextOffset, firstTotal) } satisfies WindowedState);
      return written;
    });
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
  };

  let lastEarlyEnd: string | null = null;
  for (let pass = 1; ; pass++) {
    const startOffset = resume?.offset ?? 0;
    const knownTotal = resume?.totalCount ?? null;
    const fresh = !resume;
    resume = null;
    let firstTotal: number | null = null;
    const r = await pagedPass(
      ctx,
      s,
      {
        fetchPage: async (offset, limit) => {
          const page = await spec.list(window, { offset, limit, signal: ctx.signal });
          // Checked before the page is committed: rows of a misread window never land.
          checkItems(s, mode, window.span, page.items);
          return page;
        },
        idOf: spec.idOf,
        commit,
        rejectFirst: (page) => {
          firstTotal = page.totalCount;
          return fresh && pass === 1 && page.totalCount !== null && page.totalCount > maxRows && canSplit(mode, window);
        },
      },
      startOffset,
      knownTotal,
    );
    if (r.rejected) {
      s.log.debug({ window: { from: window.from, to: window.to }, maxRows }, 'window too deep for offset paging; splitting');
      return { kind: 'split', total: firstTotal ?? 0 };
    }
    if (r.minTotal !== null && r.maxTotal !== null) drift.n += r.maxTotal - r.minTotal;
    // Two passes ending at the same place under a steady count that claims more: not churn, a
    // count the server does not hold to (records leaving would change the count or the end).
    const earlyEnd = r.endedEarly && r.minTotal === r.maxTotal ? `${r.endOffset}/${r.maxTotal}` : null;
    if (earlyEnd !== null && earlyEnd === lastEarlyEnd) {
      throw new Error(
        `${s.name}: window ${window.from.toISOString()}..${window.to.toISOString()}: the server stopped serving items at ${r.endOffset} twice while its totalCount said ${r.maxTotal}; that totalCount cannot be trusted`,
      );
    }
    lastEarlyEnd = earlyEnd;
    const stable = r.minTotal === r.maxTotal && r.duplicates === 0 && !r.endedEarly;
    if (stable && (r.firstTotal === null || r.endOffset === r.firstTotal)) return { kind: 'complete' };
    // Date mode reads today as one window reaching past the run's start, so new messages enter it
    // while we page and a busy company never holds it still. A record this pass may have missed
    // has a lastMessageTime of today: claiming only up to 00:00 today makes the next run read the
    // whole day again, in whatever mode it uses.
    if (mode.format === 'date' && !r.endedEarly && window.from.getTime() >= floorDay(ctx.runStart).getTime()) {
      s.log.info({ window: { from: window.from.toISOString(), to: window.to.toISOString() }, pass }, 'today changed while paging; the next run reads it again');
      return { kind: 'complete', provenTo: window.from };
    }
    s.log.info(
      { window: { from: window.from.toISOString(), to: window.to.toISOString() }, pass, totalCount: [r.minTotal, r.maxTotal], received: r.endOffset, duplicates: r.duplicates },
      'records moved while paging; rescanning the window',
    );
    if (pass >= MAX_PASSES_BEFORE_SPLIT && canSplit(mode, window)) return { kind: 'split', total: r.firstTotal ?? 0 };
    if (pass >= MAX_PASSES) {
      const w = `${s.name}: window ${window.from.toISOString()}..${window.to.toISOString()}`;
      throw new Error(`${w} kept changing over ${pass} passes; cannot prove it complete`);
    }
  }
}
