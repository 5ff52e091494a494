/**
 * The one parser of numeric and date command-line options: plain decimal digits only (no `0x10`,
 * `1e3`, `+5`, `10.0` for whole numbers), a range named in the error, and one ConfigError line
 * (exit 2) naming the option. Numbers past the range are refused as such, never passed on to
 * SQLite as a float it calls a datatype mismatch.
 */
import { ConfigError } from '../errors.js';

export interface Range {
  min: number;
  max: number;
}

const fmt = (n: number) => String(n);
const shown = (v: string) => (v.length > 40 ? `${v.slice(0, 40)}…` : v);

export function parseWhole(option: string, value: string | undefined, range: Range): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const what = `${option} must be a whole number from ${fmt(range.min)} to ${fmt(range.max)}`;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`${what}, in plain decimal digits (got "${shown(value)}")`);
  const n = Number(v);
  if (n < range.min || n > range.max) throw new ConfigError(`${what} (got ${shown(v)}, out of range)`);
  return n;
}

export function parseDecimal(option: string, value: string | undefined, range: Range): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const what = `${option} must be a number from ${fmt(range.min)} to ${fmt(range.max)}`;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new ConfigError(`${what}, in plain decimal digits (got "${shown(value)}")`);
  const n = Number(v);
  if (n < range.min || n > range.max) throw new ConfigError(`${what} (got ${shown(v)}, out of range)`);
  return n;
}

const DAY = 86_400_000;
/** Earlier than anything a Leeloo company holds; later than tomorrow is a typo. */
export const EARLIEST_DAY = '2000-01-01';

/** `YYYY-MM-DD` (UTC), a real calendar day from 2000-01-01 to tomorrow. */
export function parseDay(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const d = m ? new Date(`${v}T00:00:00.000Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || !d.toISOString().startsWith(v)) {
    throw new ConfigError(`${option} must be a date YYYY-MM-DD (got "${shown(value)}")`);
  }
  const latest = new Date(Date.now() + DAY);
  if (v < EARLIEST_DAY || d.getTime() > latest.getTime()) {
    throw new ConfigError(`${option} must be a date from ${EARLIEST_DAY} to ${latest.toISOString().slice(0, 10)} (got ${v})`);
  }
  return d;
}
