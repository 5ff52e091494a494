import type { IncomingMessage } from 'node:http';

/** An answer other than success: thrown by handlers, turned into the response by the server. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

/** The documented failure body: {"status":0,"error":{"fields":{...},"code":"FORMAT_ERROR"}}. */
export function formatError(fields: Record<string, string>): HttpFailure {
  return new HttpFailure(400, { status: 0, error: { fields, code: 'FORMAT_ERROR' } });
}

export function notFound(): HttpFailure {
  return new HttpFailure(404, { status: 0, error: { code: 'NOT_FOUND' } });
}

/** A request the API understands but refuses (e.g. updating an order that is not manual). */
export function refused(code: string, message: string): HttpFailure {
  return new HttpFailure(400, { status: 0, error: { code, message } });
}

export type Body = Record<string, unknown>;

const MAX_BODY = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  // A request without a body (every GET of a sync): no stream iterator to set up. It shares the
  // machine with the client in the benchmarks, so its CPU per request counts.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return EMPTY;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpFailure(413, { status: 0, error: { code: 'PAYLOAD_TOO_LARGE' } });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function addField(out: Body, key: string, value: unknown): void {
  const name = key.endsWith('[]') ? key.slice(0, -2) : key;
  const prev = out[name];
  if (prev === undefined) out[name] = key.endsWith('[]') ? [value] : value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = [prev, value];
}

/**
 * The docs mark add-tag, remove-tag, POST /orders/{id} and manual-subscribe as form-data and the
 * rest as JSON; real clients send either, so every write accepts JSON, multipart/form-data and
 * application/x-www-form-urlencoded. Repeated form keys (or `key[]`) become arrays.
 */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<Body> {
  const ct = (contentType ?? '').toLowerCase();
  const text = raw.toString('utf8');
  const bad = () => formatError({ body: 'INVALID' });
  if (ct.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType as string } }).formData();
    } catch {
      throw bad();
    }
    const out: Body = {};
    for (const [k, v] of form.entries()) addField(out, k, typeof v === 'string' ? v : v.name);
    return out;
  }
  if (ct.startsWith('application/x-www-form-urlencoded')) {
    const out: Body = {};
    for (const [k, v] of new URLSearchParams(text)) addField(out, k, v);
    return out;
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad();
  return parsed as Body;
}

/** A scalar body field as a trimmed string (form fields are strings, JSON may send numbers). */
export function field(body: Body, name: string): string | undefined {
  const v = body[name];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** A field that may arrive as a JSON array, a repeated form key, or a JSON string of an array. */
export function listField(body: Body, name: string): unknown[] | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(s);
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // not JSON: a single value
      }
    }
    return [s];
  }
  return [v];
}

/** A free-text field kept as sent (not trimmed); undefined when absent or blank. */
export function textField(body: Body, name: string): string | undefined {
  const v = body[name];
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
