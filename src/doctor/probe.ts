import type { LeelooClient } from '../leeloo/client.js';
import { floorDay, normalizeTimestamp, type DateToReading } from '../leeloo/dates.js';
import type { DateFormat } from '../leeloo/dates.js';
import type { FindingsStore } from '../sync/findings.js';

/** Finding `date_filter`: how the server reads `filter[last_message]`. */
export interface DateFilterFinding {
  /** What syncs use: sub-day datetime windows, whole-day date windows, or nothing works (`ignored`). */
  mode: DateFormat | 'ignored';
  /** How a date-only `to` is read: through the end of its day, or as 00:00 of it. */
  dateTo: DateToReading;
  /** The person the probe judged by. */
  sample: { id: string; lastMessageTime: string } | null;
}

export const DATE_FILTER = 'date_filter';

export interface ProbeResult {
  finding: DateFilterFinding;
  /** False when the answers could not decide (no usable record, or it moved meanwhile). */
  conclusive: boolean;
  detail: string;
}

export interface ProbeOptions {
  startDate: Date;
  now: Date;
  signal?: AbortSignal;
  /** Wraps every request (the sync's pool and attribution, doctor's budget). */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
}

const DAY = 86_400_000;
const SEC = 1000;
/** Requests one probe makes: the sample list and four windows. */
export const PROBE_REQUESTS = 5;

/**
 * Learns the date-filter precision from a known record, in 5 requests: take a person with
 * lastMessageTime T, then ask (a) a datetime window T±2 s, which must list it; (b) a datetime
 * window starting 2 s after T, which must not; (c) the date-only window from=to=date(T), which
 * lists it only if a `to` date reaches through its day; (d) the date-only window of the next
 * day, which must never list it. Datetimes are honoured when (a) lists and (b) does not. A
 * server that lists the person in (d) does not apply the filter at all.
 */
export async function probeDateFilter(client: LeelooClient, o: ProbeOptions): Promise<ProbeResult> {
  const call = o.call ?? (<T>(fn: () => Promise<T>) => fn());
  const list = (from: Date, to: Date, dateFormat: DateFormat, limit: number) => call(() => client.peoplePage({ from, to, dateFormat }, { limit, signal: o.signal }));
  const unknown = (detail: string, sample: DateFilterFinding['sample'] = null): ProbeResult => ({
    finding: { mode: 'date', dateTo: 'unknown', sample },
    conclusive: false,
    detail: `${detail}; date windows that cover either reading of \`to\``,
  });

  // Date-only bounds whatever the server does with datetimes: to = tomorrow covers now under both readings.
  const recent = await list(o.startDate, new Date(floorDay(o.now).getTime() + DAY), 'date', 20);
  const pick = recent.items.find((p) => {
    const t = normalizeTimestamp(p.lastMessageTime);
    if (!t) return false;
    const ms = Date.parse(t);
    const ofDay = ms - floorDay(new Date(ms)).getTime();
    // Away from midnight, so the windows below stay inside one date, and not in the future.
    return ofDay > 5 * 60 * SEC && ofDay < DAY - 5 * 60 * SEC && ms < o.now.getTime() - 5 * SEC;
  });
  if (!pick) return unknown('no person with a usable lastMessageTime to probe with');
  const T = Date.parse(normalizeTimestamp(pick.lastMessageTime) as string);
  const sample = { id: pick.id, lastMessageTime: new Date(T).toISOString() };
  let moved = false;
  const has = async (from: Date, to: Date, format: DateFormat): Promise<boolean | null> => {
    const r = await list(from, to, format, 100);
    const hit = r.items.find((p) => p.id === pick.id);
    if (hit) {
      if (normalizeTimestamp(hit.lastMessageTime) !== sample.lastMessageTime) moved = true;
      return true;
    }
    // Absent from a page that did not hold the whole answer proves nothing.
    return r.totalCount !== null && r.totalCount > r.items.length ? null : false;
  };
  const around = await has(new Date(T - 2 * SEC), new Date(T + 2 * SEC), 'datetime');
  const after = await has(new Date(T + 2 * SEC), new Date(T + 62 * SEC), 'datetime');
  const day = floorDay(new Date(T));
  const sameDate = await has(day, day, 'date');
  const nextDate = await has(new Date(day.getTime() + DAY), new Date(day.getTime() + DAY), 'date');
  if (moved) return unknown(`person ${pick.id} wrote while being probed`, sample);
  if (nextDate === true) {
    return {
      finding: { mode: 'ignored', dateTo: 'unknown', sample },
      conclusive: true,
      detail: `person ${pick.id} (lastMessageTime ${sample.lastMessageTime}) is listed by a window of the next day: filter[last_message] is not applied`,
    };
  }
  if (around === null || after === null || sameDate === null || nextDate === null) return unknown('a probe window was too crowded to decide', sample);
  const dateTo: DateToReading = sameDate ? 'day' : 'day-start';
  const toText = dateTo === 'day' ? 'a `to` date reaches through the end of its day' : 'a `to` date means 00:00 of that date';
  if (around && !after) {
    return { finding: { mode: 'datetime', dateTo, sample }, conclusive: true, detail: `full datetimes are honoured (person ${pick.id} is in T±2 s and not after it); ${toText}` };
  }
  if (sameDate !== around) return unknown(`contradictory answers for person ${pick.id}`, sample);
  return {
    finding: { mode: 'date', dateTo, sample },
    conclusive: true,
    detail: `only the date part is honoured (person ${pick.id}, T=${sample.lastMessageTime}: ${around ? 'listed after T' : 'missing from T±2 s'}); ${toText}`,
  };
}

/** A stored date_filter finding, or null when absent or not of this shape. */
export function storedDateFilter(findings: FindingsStore): DateFilterFinding | null {
  const f = findings.get<DateFilterFinding>(DATE_FILTER);
  const v = f?.value;
  if (!v || typeof v !== 'object') return null;
  if (!['datetime', 'date', 'ignored'].includes(v.mode) || !['day', 'day-start', 'unknown'].includes(v.dateTo)) return null;
  return v;
}
