import { ValidationError } from '../errors.js';
import { isSentinel } from './sentinels.js';

export type DateFormat = 'datetime' | 'date';

const DAY_MS = 86_400_000;

/**
 * The API writes timestamps in several shapes: `2020-02-06T11:30:30.035Z` (most lists),
 * `2015-04-02T14:20Z` (order/tunnel/user examples, no seconds) and `2018-06-27 07:32` (the
 * paymentDate example, space separated, no zone). The docs say all dates are UTC, so a missing
 * zone means UTC. Offsets, if the API ever sends them, are honoured.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * The years a timestamp may have. The API's dates are 20xx (docs/leeloo-api.md, "Dates"); a year
 * below 1000 is a "zero date" placeholder (0001-01-01) or a typo, a kind of sentinel like
 * NOT_DEFINED ("Missing values"), so it reads as null rather than as a time. Years past 9999
 * would print as `+010000-…`, which no longer sorts as text beside the mirror's other times.
 * Checked on the parsed year before Date.UTC, which would read 0-99 as 1900-1999.
 */
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;

/** Positions of the separators of `YYYY-MM-DDTHH:mm:ss.sssZ`; every other position is a digit. */
const SEPARATORS: Readonly<Record<number, number>> = { 4: 45, 7: 45, 10: 84, 13: 58, 16: 58, 19: 46, 23: 90 };
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two digits of `s` at `i` as a number. */
function two(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
}

/**
 * Whether `s` already is a valid canonical timestamp, checked by character codes: a regular
 * expression plus a Date round trip cost 3 % of a full sync's CPU here. Years below MIN_YEAR are
 * left to the full parse, which refuses them.
 */
function isCanonical(s: string): boolean {
  if (s.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = s.charCodeAt(i);
    const sep = SEPARATORS[i];
    if (sep !== undefined ? c !== sep : c < 48 || c > 57) return false;
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1 || two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 59) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS[month - 1]! + (leap ? 1 : 0);
}

/** `t` (ms since the epoch) as canonical ISO text, or null when invalid or outside MIN_YEAR..MAX_YEAR. */
function isoWithinYears(t: number): string | null {
  if (!Number.isFinite(t)) return null;
  const d = new Date(t);
  const year = d.getUTCFullYear();
  return Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR ? null : d.toISOString();
}

/** Any API timestamp form as full ISO-8601 UTC (`YYYY-MM-DDTHH:mm:ss.sssZ`), or null. */
export function normalizeTimestamp(value: unknown): string | null {
  // Most list timestamps already are canonical, and a valid one is its own answer. Anything
  // else takes the full parse.
  if (typeof value === 'string' && isCanonical(value)) return value;
  if (value instanceof Date) return isoWithinYears(value.getTime());
  if (typeof value === 'number') return isoWithinYears(value);
  if (typeof value !== 'string' || isSentinel(value)) return null;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Reject 2021-02-30 and the like instead of letting Date roll them over.
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  const z = zone.toUpperCase();
  if (z !== 'Z' && z !== 'UTC' && z !== 'GMT') {
    const sign = z.startsWith('-') ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = Number(digits.slice(2, 4) || '0');
    if (offH > 23 || offM > 59) return null;
    t -= sign * (offH * 60 + offM) * 60_000;
  }
  // An offset can carry 1000-01-01T00:30+01:00 below MIN_YEAR (or 9999-12-31 past MAX_YEAR).
  return isoWithinYears(t);
}

function assertValid(d: Date, field: string): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new ValidationError(field, 'is not a valid date');
}

/** Midnight UTC at or before `d`. */
export function floorDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

/** Midnight UTC at or after `d` (`d` itself when it already is a midnight). */
export function ceilDay(d: Date): Date {
  return new Date(Math.ceil(d.getTime() / DAY_MS) * DAY_MS);
}

/**
 * A bound of `filter[last_message][from|to]`. The docs show `YYYY-MM-DD` and call the people
 * parameter "js_date", so both forms are offered. In date mode the bounds are widened to whole
 * days (from floored, to ceiled) so the window the caller asked for is never narrowed; the
 * caller sees extra records at the edges, never missing ones.
 */
export function formatFilterDate(d: Date, format: DateFormat, edge: 'from' | 'to'): string {
  assertValid(d, `filter[last_message][${edge}]`);
  if (format === 'datetime') return d.toISOString();
  const day = edge === 'from' ? floorDay(d) : ceilDay(d);
  return day.toISOString().slice(0, 10);
}

/**
 * How a server that honours only the date part of `filter[last_message]` reads a `to` date:
 * through the end of that day (`day`), or as 00:00 of it (`day-start`), or not known yet.
 */
export type DateToReading = 'day' | 'day-start' | 'unknown';

/**
 * The `to` to send in date mode for a window ending at `to`, so that the server's reading of the
 * date covers the window and as little more as possible. Under `day-start` the date must be
 * the day after the window's last instant (ceilDay): a `to` of today would hide today. Under
 * `day` the date of the window's last instant suffices. Unknown: ceilDay, which covers both
 * (one extra day under `day`: extra rows are harmless upserts).
 */
export function dateModeTo(to: Date, reading: DateToReading): Date {
  assertValid(to, 'filter[last_message][to]');
  const c = ceilDay(to);
  return reading === 'day' ? new Date(c.getTime() - DAY_MS) : c;
}

/**
 * The instants a date-mode window [from, to] actually lists on the server, both inclusive:
 * from 00:00 of `from`'s date to the end of what the sent `to` date means under `reading`
 * (the wider `day` reading when unknown).
 */
export function dateModeSpan(from: Date, to: Date, reading: DateToReading): { from: Date; to: Date } {
  const sent = dateModeTo(to, reading).getTime();
  return { from: floorDay(from), to: new Date(reading === 'day-start' ? sent : sent + DAY_MS - 1) };
}

/** `paymentDate` of POST /orders/{id}: the docs' example is `2018-06-27 07:32` (UTC). */
export function formatPaymentDate(d: Date | string): string {
  if (typeof d === 'string') return d;
  assertValid(d, 'paymentDate');
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** `transactionDate` of POST /orders: documented as `2020-02-04T11:46:48.803Z`. */
export function formatIsoDate(d: Date | string, field: string): string {
  if (typeof d === 'string') return d;
  assertValid(d, field);
  return d.toISOString();
}
