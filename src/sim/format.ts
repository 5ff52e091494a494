const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
/** `YYYY-MM-DDT` of recently formatted days (a synced company spans a few thousand days). */
const dayPrefixes = new Map<number, string>();

function dayPrefix(day: number): string {
  let s = dayPrefixes.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size >= 8192) dayPrefixes.clear();
    dayPrefixes.set(day, s);
  }
  return s;
}

/**
 * `2020-02-06T11:30:30.035Z`: the form of most timestamps in the docs. The same string as
 * `new Date(ms).toISOString()`, built from a cached date part and the time's digits: every list
 * item and chat message carries one or two, and toISOString was a seventh of the simulator's own
 * CPU per request (bench/sim-requests.ts). Other values (before 1970, past 9999, fractions of a
 * millisecond) take toISOString itself.
 */
export function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > 253_402_300_799_999) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let r = ms - day * DAY_MS;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const s = Math.floor(r / 1000);
  return `${dayPrefix(day)}${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[r - s * 1000]}Z`;
}

/**
 * `2015-04-02T14:20Z`: users, tunnels and the order-detail example carry minute-precision
 * timestamps without seconds (leeloo-api-v2.txt, GET /tunnels, GET /users, GET /orders/{id}).
 */
export function shortIso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/**
 * V8 keeps a concatenation as a tree of its pieces (a ConsString) until something flattens it.
 * Copying through a Buffer gives one flat string: for 100k generated people this saves about a
 * quarter of the heap.
 */
export function flat(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
