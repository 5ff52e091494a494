import type { Simulator } from '../../src/sim/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, or undefined when it is not JSON. */
  json: any;
}

/** One request to the simulator with its token (unless `token: null`). */
export async function call(
  sim: Simulator,
  method: string,
  path: string,
  opts: { token?: string | null; json?: unknown; form?: Record<string, string>; multipart?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? sim.token : opts.token;
  if (token !== null) headers['X-Leeloo-AuthToken'] = token;
  let body: string | FormData | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.multipart) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(opts.multipart)) fd.append(k, v);
    body = fd;
  }
  const res = await fetch(sim.url + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const get = (sim: Simulator, path: string) => call(sim, 'GET', path);

export const WIDE = 'filter[last_message][from]=2000-01-01&filter[last_message][to]=2100-01-01';

export const keys = (o: object) => Object.keys(o).sort();

export const NOW = new Date('2024-06-01T12:00:00.000Z');
