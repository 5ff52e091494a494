import { normalizeTimestamp } from '../leeloo/dates.js';
import { clean } from '../leeloo/sentinels.js';

/**
 * Mapping helpers from API payloads (schema-checked, typed by their zod schemas) to SQL row
 * values: the API's sentinels become null, timestamps full ISO-8601 UTC.
 */

/** A string value with the API's sentinels ("NOT_DEFINED", "NO_DATA") turned into null. */
export function str(v: unknown): string | null {
  const c = clean(v);
  if (c === null || c === undefined) return null;
  return typeof c === 'string' ? c : String(c);
}

export function num(v: unknown): number | null {
  const c = clean(v);
  if (c === null || c === undefined || c === '') return null;
  const n = typeof c === 'number' ? c : Number(c);
  return Number.isFinite(n) ? n : null;
}

export function int(v: unknown): number | null {
  const n = num(v);
  return n === null ? null : Math.trunc(n);
}

export function bool01(v: unknown): number | null {
  if (v === true || v === 'true' || v === 1) return 1;
  if (v === false || v === 'false' || v === 0) return 0;
  return null;
}

/** Any API timestamp form (`2015-04-02T14:20Z`, `…35.035Z`) as full ISO-8601 UTC, or null. */
export function ts(v: unknown): string | null {
  return typeof v === 'string' ? normalizeTimestamp(v) : null;
}

export function json(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

export const rawJson = (v: unknown): string => JSON.stringify(v);

/** A list field the schema allows to be null or absent. */
export function array<T>(v: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

/** `{id, name}` items (template categories): the row of a table with just those. */
export const toNamedRow = (t: { id: string; name?: string | null }, syncedAt: string) => ({ id: t.id, name: str(t.name), raw: rawJson(t), syncedAt });

/** `{id, name, createdAt, updatedAt}` items (users, tunnels). */
export const toDatedRow = (t: { id: string; name?: string | null; createdAt?: string | null; updatedAt?: string | null }, syncedAt: string) => ({
  id: t.id,
  name: str(t.name),
  createdAt: ts(t.createdAt),
  updatedAt: ts(t.updatedAt),
  raw: rawJson(t),
  syncedAt,
});

/** The fields a v2 channel, a v1 account and a channel row share (`from` is the messenger). */
export const channelFields = (a: { name?: string | null; from?: string | null; botStatus?: string | null; lastMessageTime?: string | null; createdAt?: string | null }) => ({
  name: str(a.name),
  source: str(a.from),
  botStatus: str(a.botStatus),
  lastMessageTime: ts(a.lastMessageTime),
  createdAt: ts(a.createdAt),
});
