import { ceilDay, floorDay } from '../leeloo/dates.js';
import type { Page } from '../leeloo/paginate.js';
import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';
import { pagedPass } from './paging.js';

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
 */

export interface WindowSpec<T> {
  fetchPage(window: Window, offset: number, limit: number): Promise<Page<T>>;
  idOf(item: T): string;
  /** Commits a page: synchronous, runs inside the transaction that also stores the cursor. */
  writePage(items: T[]): { inserted: number; updated: number };
}

export interface Window {
  from: Date;
  to: Date;
}

interface InProgress {
  from: string;
  to: string;
  offset: number;
  totalCount: number | null;
}

export interface WindowedState {
  current: InProgress | null;
}

const MAX_PASSES_BEFORE_SPLIT = 3;
const MAX_PASSES = 8;
const DAY = 86_400_000;

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
  const saved = ctx.state.get<WindowedState>(s.name, partition);
  const end = ctx.runStart;
  const dayMode = env.LEELOO_DATE_FORMAT === 'date';
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
  } else if (saved.cursor) {
    pos = new Date(new Date(saved.cursor).getTime() - env.SYNC_LOOKBACK_MINUTES * 60_000);
  } else {
    pos = startDate;
  }
  if (dayMode) pos = floorDay(pos);

  let span = end.getTime() - pos.getTime();
  while (pos < end) {
    throwIfAborted(ctx.signal);
    let to: Date;
    if (resume) to = new Date(resume.to);
    else {
      to = new Date(Math.min(end.getTime(), pos.getTime() + Math.max(span, dayMode ? DAY : 1000)));
      if (dayMode) to = new Date(Math.min(ceilDay(to).getTime(), ceilDay(end).getTime()));
    }
    const window: Window = { from: pos, to };
    const outcome = await scanWindow(ctx, s, spec, window, resume, partition);
    resume = null;
    if (outcome === 'split') {
      span = Math.max(1, Math.floor((to.getTime() - pos.getTime()) / 2));
      continue;
    }
    s.counters.windows++;
    pos = to;
    ctx.mirror.sqlite.transaction(() => ctx.state.put(s.name, partition, to.toISOString(), { current: null } satisfies WindowedState))();
    // Grow again after a split: the next stretch of time may be sparse.
    span = span * 2;
  }
}

function canSplit(ctx: SyncContext, w: Window): boolean {
  const len = w.to.getTime() - w.from.getTime();
  return ctx.env.LEELOO_DATE_FORMAT === 'date' ? len > DAY : len > 1000;
}

async function scanWindow<T>(
  ctx: SyncContext,
  s: StreamRun,
  spec: WindowSpec<T>,
  window: Window,
  resume: InProgress | null,
  partition = '',
): Promise<'complete' | 'split'> {
  const maxRows = ctx.env.SYNC_WINDOW_MAX_ROWS;
  const cursorOf = (offset: number, totalCount: number | null): InProgress => ({
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    offset,
    totalCount,
  });
  const commit = ctx.mirror.sqlite.transaction((items: T[], nextOffset: number, firstTotal: number | null) => {
    const r = spec.writePage(items);
    ctx.state.put(s.name, partition, window.from.toISOString(), { current: cursorOf(nextOffset, firstTotal) } satisfies WindowedState);
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
  });

  for (let pass = 1; ; pass++) {
    const startOffset = resume?.offset ?? 0;
    const knownTotal = resume?.totalCount ?? null;
    const fresh = !resume;
    resume = null;
    const r = await pagedPass(
      ctx,
      s,
      {
        fetchPage: (offset, limit) => spec.fetchPage(window, offset, limit),
        idOf: spec.idOf,
        commit,
        rejectFirst: (page) =>
          fresh && pass === 1 && page.totalCount !== null && page.totalCount > maxRows && canSplit(ctx, window),
      },
      startOffset,
      knownTotal,
    );
    if (r.rejected) {
      s.log.debug({ window, maxRows }, 'window too deep for offset paging; splitting');
      return 'split';
    }
    const stable = r.minTotal === r.maxTotal && r.duplicates === 0 && !r.endedEarly;
    if (stable && (r.firstTotal === null || r.endOffset === r.firstTotal)) return 'complete';
    s.log.info(
      { window: { from: window.from.toISOString(), to: window.to.toISOString() }, pass, totalCount: [r.minTotal, r.maxTotal], received: r.endOffset, duplicates: r.duplicates },
      'records moved while paging; rescanning the window',
    );
    if (pass >= MAX_PASSES_BEFORE_SPLIT && canSplit(ctx, window)) return 'split';
    if (pass >= MAX_PASSES) {
      throw new Error(
        `${s.name}: window ${window.from.toISOString()}..${window.to.toISOString()} kept changing over ${pass} passes; cannot prove it complete`,
      );
    }
  }
}
