/**
 * The one place secrets are redacted. A hostile or careless server may echo the token back in
 * any encoding (a JSON body escapes `"` and `\`, a proxy URL-encodes it, an auth page shows it
 * base64'd), so each registered secret is matched in every form it can take on its way to a
 * log line, a database column, Redis or the dashboard. Dependency-free: errors.ts and log.ts
 * both use it.
 */

export const REDACTED = '[REDACTED]';
/** Shorter values would redact ordinary words; no real token or password is this short. */
const MIN_SECRET_LENGTH = 4;
/** A base64 run shorter than this could match unrelated base64 by chance. */
const MIN_BASE64_CORE = 12;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  pattern = buildPattern();
}

export function hasSecrets(): boolean {
  return secrets.size > 0;
}

/** `text` with every registered secret, in every known encoding, replaced by `[REDACTED]`. */
export function redact(text: string): string {
  if (!pattern || text.length < MIN_SECRET_LENGTH) return text;
  pattern.lastIndex = 0;
  return text.replace(pattern, REDACTED);
}

/**
 * A copy of a JSON-like value with every string redacted (keys too); errors are copied with
 * their message, stack, cause and own fields redacted.
 */
export function redactDeep<T>(value: T): T {
  if (!pattern) return value;
  return walk(value, new WeakMap()) as T;
}

function walk(v: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof v === 'string') return redact(v);
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return seen.get(v);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(walk(x, seen));
    return out;
  }
  if (v instanceof Date || ArrayBuffer.isView(v)) return v;
  if (v instanceof Error) {
    // Same prototype, so pino's err serializer and instanceof checks still see the error type.
    const e = Object.create(Object.getPrototypeOf(v) as object) as Error;
    seen.set(v, e);
    for (const [k, x] of Object.entries(v)) Object.defineProperty(e, redact(k), { value: walk(x, seen), enumerable: true, writable: true, configurable: true });
    const hidden = (k: string, x: unknown) => Object.defineProperty(e, k, { value: x, enumerable: false, writable: true, configurable: true });
    hidden('message', redact(v.message));
    if (v.stack !== undefined) hidden('stack', redact(v.stack));
    if ('cause' in v) hidden('cause', walk(v.cause, seen));
    return e;
  }
  // What JSON.stringify (and so pino) would write for a URL, a Decimal and the like.
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return walk(toJSON.call(v), seen);
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const [k, x] of Object.entries(v)) out[redact(k)] = walk(x, seen);
  return out;
}

/** Every form `s` can take in text we produce or receive; exported for tests. */
export function encodingsOf(s: string): string[] {
  const base = new Set<string>([s]);
  const url = encodeURIComponent(s);
  base.add(url);
  base.add(url.replace(/%20/g, '+'));
  base.add(new URLSearchParams({ x: s }).toString().slice(2)); // form encoding also escapes !'()~
  base.add(encodeURI(s));
  for (const bytes of new Set([Buffer.from(s, 'utf8'), Buffer.from(s, 'latin1')].map((b) => b.toString('hex')))) {
    for (const b64 of base64Forms(Buffer.from(bytes, 'hex'))) base.add(b64);
  }
  // Each form again as it appears inside a JSON string (a JSON body, a pino line), once and
  // twice escaped (a JSON body quoted inside a log line), with `\/` (PHP-style) and \u escapes.
  const out = new Set<string>();
  for (const b of base) {
    out.add(b);
    let j = b;
    for (let depth = 0; depth < 2; depth++) {
      j = jsonInner(j);
      out.add(j);
      out.add(j.replace(/\//g, '\\/'));
      out.add(asciiJson(j));
    }
  }
  // And each of those as an HTML page shows it (the dashboard).
  for (const f of [...out]) out.add(htmlEscape(f));
  return [...out].filter((x) => x.length >= MIN_SECRET_LENGTH);
}

function buildPattern(): RegExp {
  const forms = new Set<string>();
  for (const s of secrets) for (const f of encodingsOf(s)) forms.add(f);
  // Longest first: at a given position the widest encoding wins, so no tail of it is left.
  const sources = [...forms].sort((a, b) => b.length - a.length).map(toSource);
  return new RegExp(sources.join('|'), 'g');
}

/** A literal, with percent-escapes matched in either hex case (`%2F` or `%2f`). */
function toSource(form: string): string {
  return form.replace(/%([0-9A-Fa-f])([0-9A-Fa-f])|[.*+?^${}()|[\]\\/-]/g, (m, a?: string, b?: string) => {
    if (a === undefined || b === undefined) return `\\${m}`;
    return `%${hexClass(a)}${hexClass(b)}`;
  });
}

function hexClass(c: string): string {
  return /[0-9]/.test(c) ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`;
}

function jsonInner(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function asciiJson(s: string): string {
  return s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * base64 and base64url of the bytes, padded and not, and the runs that stay the same whatever
 * precedes or follows them (the token base64'd inside a longer value, e.g. `Basic user:token`).
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const head = shift === 0 ? 0 : 4;
    const full = Math.floor((shift + bytes.length) / 3) * 4;
    const core = b64.slice(head, full);
    const forms = shift === 0 ? [b64, b64.replace(/=+$/, ''), core] : [core];
    for (const f of forms) {
      if (f.length < MIN_BASE64_CORE && f !== b64) continue;
      out.push(f, f.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

/**
 * What an HTTP header value can carry unchanged: printable Latin-1. A CR or LF would split the
 * header (undici refuses it, which would surface as a retried network error), and characters
 * past U+00FF cannot be sent at all.
 */
export const HEADER_SAFE = /^[\x20-\x7E\xA0-\xFF]+$/;

/**
 * `err` fit to leave the process (BullMQ stores a failed job's message and stack in Redis): the
 * error itself when nothing in it needs redacting, otherwise a plain Error with both redacted.
 */
export function redactedError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(redact(String(err)));
  const message = redact(err.message);
  const stack = err.stack === undefined ? undefined : redact(err.stack);
  if (message === err.message && stack === err.stack) return err;
  const safe = new Error(message);
  safe.name = err.name;
  if (stack !== undefined) safe.stack = stack;
  return safe;
}
