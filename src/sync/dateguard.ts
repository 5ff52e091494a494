import { DATE_FILTER, probeDateFilter, storedDateFilter, type DateFilterFinding } from '../doctor/probe.js';
import { dateModeSpan, dateModeTo, normalizeTimestamp, type DateFormat, type DateToReading } from '../leeloo/dates.js';
import type { Page, PageRequest } from '../leeloo/endpoints.js';
import type { StreamRun, SyncContext } from './context.js';

/**
 * How the windowed streams filter by last_message in this run, and the checks that hold the
 * server to it. With LEELOO_DATE_FORMAT=auto the date_filter finding decides (doctor's, or the
 * probe a run makes by itself when there is none); an explicit setting is obeyed and only
 * checked.
 */
export interface DateMode {
  format: DateFormat;
  dateTo: DateToReading;
  /** Chosen from the findings (may be re-probed and changed), not by an explicit setting. */
  auto: boolean;
}

/** A listed item the server should not have listed under the assumed reading of the filter. */
export class FilterViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterViolation';
  }
}

/** Beyond this, an item outside its window is the server's doing, not clock rounding. */
export const TOLERANCE_MS = 1000;

const probes = new WeakMap<SyncContext, Promise<DateFilterFinding>>();

/** One probe per run, shared by the streams that need it; stored with source `probe`. */
export function probeOnce(ctx: SyncContext, s: StreamRun, force = false): Promise<DateFilterFinding> {
  let p = force ? undefined : probes.get(ctx);
  if (!p) {
    p = (async () => {
      const r = await probeDateFilter(ctx.client, {
        startDate: new Date(`${ctx.env.SYNC_START_DATE}T00:00:00.000Z`),
        now: new Date(),
        signal: ctx.signal,
        call: (fn) => s.call(fn),
      });
      if (r.conclusive) await ctx.findings.put(DATE_FILTER, r.finding, 'probe', r.detail);
      s.log.info({ finding: r.finding, conclusive: r.conclusive }, `date filter probe: ${r.detail}`);
      return r.finding;
    })();
    p.catch(() => undefined);
    probes.set(ctx, p);
  }
  return p;
}

export function ignoredError(s: StreamRun, f: DateFilterFinding): Error {
  return new Error(
    `${s.name}: the server does not apply filter[last_message] (date_filter finding: person ${f.sample?.id ?? '?'} listed outside its window); no window can be proven complete, so nothing was advanced — check with leeloo-sync doctor`,
  );
}

export async function resolveDateMode(ctx: SyncContext, s: StreamRun): Promise<DateMode> {
  const setting = ctx.env.LEELOO_DATE_FORMAT;
  let f = storedDateFilter(ctx.findings);
  if (setting !== 'auto') return { format: setting, dateTo: f?.dateTo ?? 'unknown', auto: false };
  // A stored "ignored" may have been a glitch: look again rather than fail every run on it.
  if (!f || f.mode === 'ignored') f = await probeOnce(ctx, s);
  if (f.mode === 'ignored') throw ignoredError(s, f);
  if (f.mode === 'date') s.log.info({ dateTo: f.dateTo }, 'the server honours only the date part of filter[last_message]: using whole-day windows');
  return { format: f.mode, dateTo: f.dateTo, auto: true };
}

/** What to send for the window [from, to], and the instants the server will list for it. */
export function windowFilter(mode: DateMode, from: Date, to: Date): { send: { from: Date; to: Date; dateFormat: DateFormat }; span: { from: Date; to: Date } } {
  if (mode.format === 'datetime') return { send: { from, to, dateFormat: 'datetime' }, span: { from, to } };
  return { send: { from, to: dateModeTo(to, mode.dateTo), dateFormat: 'date' }, span: dateModeSpan(from, to, mode.dateTo) };
}

/** Throws FilterViolation for the first item whose lastMessageTime lies outside `span`. */
export function checkItems(s: Pick<StreamRun, 'name'>, mode: DateMode, span: { from: Date; to: Date }, items: readonly unknown[]): void {
  for (const item of items) {
    if (typeof item !== 'object' || item === null || !('lastMessageTime' in item)) continue;
    const t = normalizeTimestamp(item.lastMessageTime);
    if (t === null) continue;
    const ms = Date.parse(t);
    if (ms >= span.from.getTime() - TOLERANCE_MS && ms <= span.to.getTime() + TOLERANCE_MS) continue;
    const id = 'id' in item ? String(item.id) : '?';
    throw new FilterViolation(
      `${s.name}: the server does not honour filter[last_message] as assumed (${assumption(mode)}): item ${id} has lastMessageTime ${t}, outside the window ${span.from.toISOString()}..${span.to.toISOString()}`,
    );
  }
}

export function assumption(mode: DateMode): string {
  if (mode.format === 'datetime') return `full datetimes${mode.auto ? '' : ', LEELOO_DATE_FORMAT=datetime'}`;
  return `date only, a \`to\` date read as ${mode.dateTo === 'day' ? 'the end of its day' : mode.dateTo === 'day-start' ? '00:00 of it' : 'either'}`;
}

/**
 * Whether the totalCounts of a split window's children can be trusted against the parent's.
 * Records only leave a window while we page (see windowed.ts), so the children hold at most
 * the parent's records and at least those minus what was seen leaving (`drift`), give or take
 * a record exactly on the shared boundary (both bounds are inclusive). A window reaching past
 * the run's start (`live`, date mode) may also gain records. Children that hold more than the
 * parent mean overlapping reads of the filter (a date-only server reading datetimes); far
 * fewer mean a filter cutting records away.
 */
export function splitTrusted(parent: number, children: readonly number[], o: { drift: number; live: boolean; overlapUnknown?: boolean }): boolean {
  const sum = children.reduce((a, b) => a + b, 0);
  const slack = o.drift + Math.max(2, Math.ceil(parent * 0.01));
  if (sum > parent + (o.live ? slack : 2) && !o.overlapUnknown) return false;
  return sum >= parent - slack;
}

/**
 * The filter of a look-up outside the cursor walk (reconcile's read of records that moved, a
 * deletion's second look): full datetimes only when the stored finding says the server honours
 * them, else whole days wide enough for either reading of `to`. Wider is safe here: these reads
 * only ever keep rows (a record they list is not marked deleted), never prove absence by a
 * narrower window than the server reads.
 */
export function lookupFilter(ctx: SyncContext, from: Date, to: Date): { from: Date; to: Date; dateFormat: DateFormat } {
  const setting = ctx.env.LEELOO_DATE_FORMAT;
  const f = storedDateFilter(ctx.findings);
  const format: DateFormat = setting === 'auto' ? (f?.mode === 'datetime' ? 'datetime' : 'date') : setting;
  return windowFilter({ format, dateTo: f?.dateTo ?? 'unknown', auto: setting === 'auto' }, from, to).send;
}

/**
 * A windowed stream's `list` (windowed.ts WindowSpec) over a client list filtered by
 * last_message: windows of the walk send the filter chosen for the server, look-ups lookupFilter's.
 */
export function lastMessageList<T>(
  ctx: SyncContext,
  page: (f: { from: Date; to: Date; dateFormat: DateFormat }, req: PageRequest) => Promise<Page<T>>,
): (w: { from: Date; to: Date; filter?: { from: Date; to: Date; dateFormat: DateFormat } }, req: PageRequest) => Promise<Page<T>> {
  return (w, req) => page(w.filter ?? lookupFilter(ctx, w.from, w.to), { ...req, signal: ctx.signal });
}
