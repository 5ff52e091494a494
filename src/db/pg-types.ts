/**
 * The PostgreSQL column types of the mirror (schema-pg.ts): each takes and gives the JS values
 * the SQLite columns hold, so the sync writes the same row objects to both backends.
 */
import { customType } from 'drizzle-orm/pg-core';

const PG_TIME = /^(\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

/**
 * PostgreSQL's timestamptz output (`2020-02-06 11:30:30.035+00`, any session TimeZone, up to
 * microseconds) as the mirror's ISO-8601 UTC text with milliseconds (`2020-02-06T11:30:30.035Z`).
 * Microseconds are cut, not rounded: the API never sends finer than milliseconds.
 */
export function toIsoTimestamp(value: string): string {
  const m = PG_TIME.exec(value.trim());
  if (!m || m[13] !== undefined) throw new Error(`not a PostgreSQL timestamptz: ${value}`);
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh = '0', om = '0', os = '0'] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const offset = z || !sign ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms) - offset;
  return new Date(t).toISOString();
}

/**
 * JSON text as jsonb accepts it. jsonb refuses the escape `\u0000` (it cannot store NUL in
 * text), which JSON text may hold, so it becomes `\ufffd` (the replacement character); an even
 * run of backslashes before `u0000` is an escaped backslash, not an escape, and is kept.
 */
export function jsonbText(json: string): string {
  if (!json.includes('u0000')) return json;
  return json.replace(/(\\+)u0000/g, (m, bs: string) => (bs.length % 2 === 1 ? `${bs.slice(0, -1)}\\ufffd` : m));
}

/** Text as PostgreSQL's text accepts it: U+0000 becomes U+FFFD. Unchanged (no copy) without one. */
export function nulFree(text: string): string {
  return text.indexOf('\u0000') === -1 ? text : text.replaceAll('\u0000', '\ufffd');
}

/**
 * A statement's parameters as PostgreSQL accepts them: the one place every value the PG store
 * binds (writers and raw SQL alike) passes through. The API may send U+0000 in any string (a
 * name, a message, a tag); PostgreSQL refuses it in any text-format parameter (text, jsonb, …),
 * which would fail the page's transaction, and with it the stream on every retry. So a string
 * holding the character gets U+FFFD for it: only values that could not have been stored change.
 * The JSON escape `\u0000` is not a NUL and is left alone here: a text column keeps it (the
 * outbox's `api_response`), and JSON bound to jsonb goes through jsonbText (the `jsonb` column
 * type below; raw SQL through `jsonFor`). SQLite stores what the API sent. The usual case costs
 * one indexOf per string and copies nothing.
 */
export function pgParameters(values: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'string') continue;
    const clean = nulFree(v);
    if (clean === v) continue;
    out ??= values.slice();
    out[i] = clean;
  }
  return out ?? values;
}

/**
 * JSON text for a jsonb column that raw SQL writes (sync_state.state, api_findings.value,
 * tunnels.detail_raw): on PostgreSQL through jsonbText, as the writers' `jsonb` column type does;
 * on SQLite as it is.
 */
export const jsonFor = (dialect: 'sqlite' | 'postgres', json: string): string => (dialect === 'postgres' ? jsonbText(json) : json);

/** timestamptz holding the mirror's ISO-8601 UTC strings. */
export const isoTime = customType<{ data: string; driverData: string }>({
  dataType: () => 'timestamp with time zone',
  toDriver: (v) => v,
  fromDriver: (v) => toIsoTimestamp(v),
});

/**
 * jsonb holding JSON text. Read back it is jsonb's normal form (keys sorted by length then
 * bytes, duplicates dropped, no insignificant whitespace), so compare parsed values, not text.
 */
export const jsonb = customType<{ data: string; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (v) => jsonbText(v),
  fromDriver: (v) => (typeof v === 'string' ? v : JSON.stringify(v)),
});

/** boolean holding the mirror's 0/1 integers. */
export const flag = customType<{ data: number; driverData: boolean }>({
  dataType: () => 'boolean',
  toDriver: (v) => v !== 0,
  fromDriver: (v) => (v ? 1 : 0),
});
