/**
 * The API spells "no value" as strings instead of null: "NOT_DEFINED" for email, phone,
 * profileImage and gender, "NO_DATA" for gender (docs/leeloo-api.md, "Missing values: NOT_DEFINED
 * and NO_DATA"). Raw payloads keep them; mapped values use these helpers.
 */
export const SENTINELS: ReadonlySet<string> = new Set(['NOT_DEFINED', 'NO_DATA']);

export function isSentinel(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 7) return false;
  // Asked of nearly every mapped string: only one starting with "N", whitespace or a non-ASCII
  // character (trim() also removes Unicode spaces) can be a sentinel, so the rest skip the trim.
  const c = value.charCodeAt(0);
  if (c !== 78 && c > 32 && c < 128) return false;
  return SENTINELS.has(value.trim());
}

/** `value` itself, or null when it is a sentinel (or undefined). Does not descend into objects. */
export function clean<T>(value: T): Exclude<T, undefined> | null {
  if (value === undefined || isSentinel(value)) return null;
  return value as Exclude<T, undefined>;
}

/**
 * A string for SQL: sentinels, null and undefined become null; numbers and booleans are
 * stringified; objects are not strings and become null. An empty string stays empty (the API
 * sends `"locale": ""` for "known to be empty", distinct from a sentinel).
 */
export function cleanString(value: unknown): string | null {
  if (value === null || value === undefined || isSentinel(value)) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return null;
}

/** A deep copy with every sentinel string replaced by null; the input is not modified. */
export function cleanDeep<T>(value: T): T {
  if (isSentinel(value)) return null as T;
  if (Array.isArray(value)) return value.map((v) => cleanDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cleanDeep(v);
    return out as T;
  }
  return value;
}
