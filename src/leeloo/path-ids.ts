import { ValidationError } from '../errors.js';

/**
 * Ids that end up in a request path. They come from the API itself (a list's ids feed its detail
 * requests), so a hostile or broken answer could hand us `..`, `a/b` or `%2e%2e`: URL parsing
 * would normalise such a segment into another route. Every path id the docs name is a 24-hex
 * ObjectId (docs/leeloo-api.md, "Basics"); anything else is refused
 * before a URL is built.
 */
const OBJECT_ID = /^[0-9a-fA-F]{24}$/;
/** Named first, for a clearer message than "not a 24-hex id". */
const UNSAFE = /[/\\?#%]/;
const SHOWN_MAX = 40;

/** The id as one percent-encoded path segment, or a ValidationError naming `field` and the value. */
export function pathSegment(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field, `must be a non-empty id string (got ${shown(value)})`);
  if (value === '.' || value === '..') throw new ValidationError(field, `${shown(value)} is a dot segment, not an id; refusing to build a request path from it`);
  if (UNSAFE.test(value)) throw new ValidationError(field, `${shown(value)} contains "/", "\\", "?", "#" or "%"; refusing to build a request path from it`);
  if (!OBJECT_ID.test(value)) throw new ValidationError(field, `${shown(value)} is not a 24-hex id; refusing to build a request path from it`);
  return encodeURIComponent(value);
}

function shown(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  const cut = value.length > SHOWN_MAX ? `${value.slice(0, SHOWN_MAX)}…` : value;
  return JSON.stringify(cut);
}
