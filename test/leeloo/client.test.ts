import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ValidationError } from '../../src/errors.js';
import { createClientFromEnv, LeelooClient, type ClientEvent, type LeelooClientOptions } from '../../src/leeloo/client.js';
import { drop, fakeServer, json, type Handler } from './fake-server.js';
import { rejection } from '../helpers/errors.js';

const TOKEN = 'tok-UNIT-7c1f3e9a2b8d4c6e';
// Path ids are 24-hex ObjectIds (docs/leeloo-api.md); the client refuses anything else.
const P1 = '5e1c4676b70fb2001279c268';
const O1 = '5e5502a01b1668000ccc93ee';
const U1 = '5e42be688d4fff000cafe5c1';
const A1 = '5e42be688d4fff000cafe5cc';
const ok = (data: unknown, extra: Record<string, unknown> = {}) => ({ status: 1, data, ...extra });

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(handler: Handler, opts: Partial<LeelooClientOptions> = {}) {
  const srv = await fakeServer(handler);
  const events: ClientEvent[] = [];
  const client = new LeelooClient({ baseUrl: `${srv.url}/`, token: TOKEN, rateLimit: 0, retryBaseMs: 5, retryMaxMs: 20, onEvent: (e) => events.push(e), ...opts });
  cleanup.push(async () => {
    await client.close();
    await srv.close();
  });
  return { srv, client, events };
}

describe('LeelooClient transport', () => {
  it('sends the token header to base URL + /api/v2 (trailing slash tolerated) and returns the payload as received', async () => {
    const tags = [{ name: 'VIP', id: 't1', extra: { nested: true } }];
    const { srv, client } = await setup((_r, res) => json(res, ok(tags)));
    const got = await client.listTags();
    expect(got).toEqual(tags);
    expect(Object.keys(got[0]!)).toEqual(['name', 'id', 'extra']); // key order kept: raw payload untouched
    const r = srv.received[0]!;
    expect(r.method).toBe('GET');
    expect(r.path).toBe('/api/v2/tags');
    expect(r.headers['x-leeloo-authtoken']).toBe(TOKEN);
  });

  it('builds list queries: limit/offset, repeated tags, date filters in both modes', async () => {
    const { srv, client } = await setup((_r, res) => json(res, ok([], { meta: { totalCount: 0 } })));
    const from = new Date('2020-02-10T05:00:00Z');
    const to = new Date('2020-04-14T10:00:00Z');
    await client.peoplePage({ from, to, tags: ['vip', 'a b'], phone: '+380966565556', email: 'f@g.com' }, { limit: 20 });
    const q = srv.received[0]!.query;
    expect(q.get('limit')).toBe('20');
    expect(q.get('offset')).toBe('0');
    expect(q.getAll('filter[tags]')).toEqual(['vip', 'a b']);
    expect(q.get('filter[last_message][from]')).toBe('2020-02-10T05:00:00.000Z');
    expect(q.get('filter[last_message][to]')).toBe('2020-04-14T10:00:00.000Z');
    expect(q.get('filter[phone]')).toBe('+380966565556'); // "+" survives encoding
    expect(srv.received[0]!.url).toContain('filter[last_message][from]=');

    const dayClient = new LeelooClient({ baseUrl: srv.url, token: TOKEN, rateLimit: 0, dateFormat: 'date' });
    cleanup.push(() => dayClient.close());
    await dayClient.channelsPage({ from, to });
    const q2 = srv.received[1]!.query;
    expect(q2.get('filter[last_message][from]')).toBe('2020-02-10');
    expect(q2.get('filter[last_message][to]')).toBe('2020-04-15');
    expect(q2.get('limit')).toBe('100');

    await client.accountsPage({ tags: ['tag3', 'tag2'] });
    expect(srv.received[2]!.path).toBe('/api/v1/accounts');
    expect(srv.received[2]!.url).toContain('filter[tags]=tag3,tag2');
  });

  it('sends form-data where the docs say form-data and JSON elsewhere', async () => {
    const { srv, client } = await setup((r, res) => json(res, ok(r.path.endsWith(`/orders/${O1}`) ? { id: 'o1' } : {})));
    await client.addTag(P1, 'tag1');
    await client.updateOrder(O1, { status: 'RESOLVED', paymentDate: new Date('2018-06-27T07:32:00Z'), price: 100, currency: 'RUB', userComments: 'x' });
    await client.manualSubscribe(A1, { tunnel_id: 't', tunnel_block_id: 'b' });
    await client.sendMessage({ account_id: 'a1', text: 'hi' });
    const [tag, order, sub, msg] = srv.received;
    expect(tag!.method).toBe('PUT');
    expect(tag!.path).toBe(`/api/v2/people/${P1}/add-tag`);
    expect(tag!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(tag!.body).toMatch(/name="tag_id"\r\n\r\ntag1\r\n/);
    expect(order!.method).toBe('POST');
    expect(order!.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(order!.body).toMatch(/name="paymentDate"\r\n\r\n2018-06-27 07:32\r\n/);
    expect(order!.body).toMatch(/name="price"\r\n\r\n100\r\n/);
    expect(sub!.body).toMatch(/name="tunnel_block_id"\r\n\r\nb\r\n/);
    expect(msg!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(msg!.body)).toEqual({ account_id: 'a1', text: 'hi' });
  });

  it('treats {"status":0} on HTTP 200 as a permanent error, not retried', async () => {
    const { srv, client } = await setup((_r, res) => json(res, { status: 0, error: { fields: { authToken: 'REQUIRED' }, code: 'FORMAT_ERROR' } }));
    const e = await rejection(client.listTags());
    expect(e.kind).toBe('api');
    expect(e.status).toBe(200);
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('FORMAT_ERROR');
    expect(srv.received).toHaveLength(1);
    expect(client.stats).toEqual({ requests: 1, retries: 0, rateLimited: 0, errors: 1 });
  });

  it.each([400, 401, 403, 404, 422])('does not retry HTTP %i', async (status) => {
    const { srv, client } = await setup((_r, res) => json(res, { status: 0, error: { code: 'X' } }, status));
    const e = await rejection(client.getUser(U1));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(status);
    expect(e.permanent).toBe(true);
    expect(e.path).toBe(`/api/v2/users/${U1}`);
    expect(srv.received).toHaveLength(1);
  });

  it('retries a plain-text 429 after its Retry-After, and backs off globally', async () => {
    const { srv, client, events } = await setup((_r, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' });
        res.end('Too many requests, please try again later.');
      } else json(res, ok([]));
    });
    const t0 = performance.now();
    await client.listTags();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(srv.received).toHaveLength(2);
    expect(client.stats).toMatchObject({ requests: 2, retries: 1, rateLimited: 1, errors: 0 });
    expect(events.filter((e) => e.type === 'rate_limited')).toEqual([{ type: 'rate_limited', route: '/api/v2/tags', retryAfterMs: 1000 }]);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ route: '/api/v2/tags', attempt: 1, delayMs: 1000 });
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    const { client } = await setup((_r, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': new Date(Date.now() + 3000).toUTCString() });
        res.end('Too many requests, please try again later.');
      } else json(res, ok([]));
    });
    const t0 = performance.now();
    await client.listTags();
    // toUTCString drops the milliseconds, so the wait is between 2 and 3 s
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1950);
  });

  it('retries a 429 even for a non-idempotent write (it was refused, not applied)', async () => {
    const { srv, client } = await setup((_r, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end('Too many requests, please try again later.');
      } else json(res, ok({ id: 'c1', text: 'x' }));
    });
    const c = await client.addComment(P1, 'x');
    expect(c.id).toBe('c1');
    expect(srv.received).toHaveLength(2);
  });

  it('retries 5xx, truncated JSON and dropped connections for reads', async () => {
    const { srv, client } = await setup((_r, res, n) => {
      if (n === 1) json(res, { status: 0 }, 503);
      else if (n === 2) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":1,"data":[{"id":"t1"');
      } else if (n === 3) drop(res);
      else json(res, ok([{ id: 't1' }]));
    });
    expect(await client.listTags()).toEqual([{ id: 't1' }]);
    expect(srv.received).toHaveLength(4);
    expect(client.stats.retries).toBe(3);
  });

  it('times out a slow answer and retries it', async () => {
    const { srv, client } = await setup(
      (_r, res, n) => {
        if (n === 1) setTimeout(() => json(res, ok([])), 1500);
        else json(res, ok([{ id: 'x' }]));
      },
      { timeoutMs: 200 },
    );
    expect(await client.listTags()).toEqual([{ id: 'x' }]);
    expect(srv.received).toHaveLength(2);
  });

  it('a timeout with retries: 0 is one request and a retryable timeout error', async () => {
    const { srv, client } = await setup((_r, res) => setTimeout(() => json(res, ok([])), 1000), { timeoutMs: 150 });
    const e = await rejection(client.listTags({ retries: 0 }));
    expect(e.kind).toBe('timeout');
    expect(e.permanent).toBe(false);
    expect(e.maybeApplied).toBe(false); // a read applies nothing
    expect(srv.received).toHaveLength(1);
  });

  it.each([
    ['5xx', (res: Parameters<Handler>[1]) => json(res, { status: 0 }, 502)],
    ['drop', (res: Parameters<Handler>[1]) => drop(res)],
    [
      'truncated',
      (res: Parameters<Handler>[1]) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":1,"da');
      },
    ],
  ])('a non-idempotent write after an ambiguous failure (%s) throws maybeApplied and is not resent', async (_name, fault) => {
    const { srv, client } = await setup((_r, res) => fault(res));
    const e = await rejection(client.createPerson({ name: 'N', phone: '+380953066789', leadgentool_id: 'l1' }));
    expect(e.maybeApplied).toBe(true);
    expect(srv.received).toHaveLength(1);
  });

  it('a non-idempotent write after a timeout throws maybeApplied and is not resent', async () => {
    const { srv, client } = await setup((_r, res) => setTimeout(() => json(res, ok({})), 1000), { timeoutMs: 150 });
    const e = await rejection(client.sendTemplate({ account_id: 'a', template_id: 't', variables: { k: 'v' } }));
    expect(e.kind).toBe('timeout');
    expect(e.maybeApplied).toBe(true);
    expect(srv.received).toHaveLength(1);
  });

  it('an idempotent write is retried after a dropped connection', async () => {
    const { srv, client } = await setup((_r, res, n) => (n === 1 ? drop(res) : json(res, ok({}))));
    await client.removeTag(P1, 't1');
    expect(srv.received).toHaveLength(2);
  });

  it('a refused connection is retried even for a non-idempotent write (never sent)', async () => {
    const srv = await fakeServer(() => undefined);
    const url = srv.url;
    await srv.close();
    const client = new LeelooClient({ baseUrl: url, token: TOKEN, rateLimit: 0, retryBaseMs: 1, retryMaxMs: 5, maxRetries: 2 });
    cleanup.push(() => client.close());
    const e = await rejection(client.sendMessage({ account_id: 'a', text: 'x' }));
    expect(e.kind).toBe('network');
    expect(e.maybeApplied).toBe(false);
    expect(client.stats.retries).toBe(2);
    expect(client.stats.requests).toBe(3);
  });

  it('per-call retries: 0 makes exactly one request', async () => {
    const { srv, client } = await setup((_r, res) => json(res, { status: 0 }, 503));
    const e = await rejection(client.addTag(P1, 't1', { retries: 0 }));
    expect(e.status).toBe(503);
    expect(e.permanent).toBe(false);
    expect(srv.received).toHaveLength(1);
  });

  it('gives up after maxRetries', async () => {
    const { srv, client } = await setup((_r, res) => json(res, { status: 0 }, 500), { maxRetries: 3 });
    await rejection(client.listConnections());
    expect(srv.received).toHaveLength(4);
    expect(client.stats).toMatchObject({ requests: 4, retries: 3, errors: 1 });
  });

  it('a payload that does not match is a permanent schema error naming the path and the issue path', async () => {
    const { srv, client } = await setup((_r, res) => json(res, ok([{ id: 'a' }, { id: 42 }], { meta: { totalCount: 2 } })));
    const e = await rejection(client.usersPage());
    expect(e.kind).toBe('schema');
    expect(e.permanent).toBe(true);
    expect(e.path).toBe('/api/v2/users');
    expect(e.message).toContain('data[1].id');
    expect(srv.received).toHaveLength(1);
  });

  it('error excerpts are short, single-line and never contain the token', async () => {
    const { client } = await setup((r, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end(`<html>\n<body>bad token ${String(r.headers['x-leeloo-authtoken'])}\n${'x'.repeat(1000)}</body></html>`);
    });
    const e = await rejection(client.getOrder(O1));
    expect(e.bodyExcerpt!.length).toBeLessThanOrEqual(200);
    expect(e.bodyExcerpt).not.toMatch(/\n/);
    expect(e.message).not.toContain(TOKEN);
    expect(JSON.stringify(e)).not.toContain(TOKEN);
    expect(e.message).toContain('[REDACTED]');
  });

  it('reports request events with the route template and counts stats', async () => {
    const { client, events } = await setup((_r, res) => json(res, ok({ id: 'p1', name: 'x' }, { included: {} })));
    const r = await client.getPerson(P1);
    expect(r.person.id).toBe('p1');
    expect(r.included).toEqual({});
    const req = events.find((e) => e.type === 'request');
    expect(req).toMatchObject({ type: 'request', method: 'GET', route: '/api/v2/people/:id', status: 200 });
    expect(client.stats.requests).toBe(1);
  });

  it('aborts through the caller signal without retrying', async () => {
    const { srv, client } = await setup((_r, res) => setTimeout(() => json(res, ok([])), 2000));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutdown')), 100);
    await expect(client.listTags({ signal: ac.signal })).rejects.toThrow('shutdown');
    expect(srv.received).toHaveLength(1);
  });

  it('validates writes before sending', async () => {
    const { srv, client } = await setup((_r, res) => json(res, ok({})));
    await expect(client.createPerson({ name: 'n', phone: '380953066789', leadgentool_id: 'l' })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.addTag('', 't')).rejects.toBeInstanceOf(ValidationError);
    await expect(client.updateOrder('o', { status: 'OPENED' as never })).rejects.toBeInstanceOf(ValidationError);
    expect(srv.received).toHaveLength(0);
  });

  it('keeps path segments from changing the route', async () => {
    const { srv, client } = await setup((_r, res) => json(res, ok({ id: 'x' })));
    await expect(client.getUser('../tags')).rejects.toThrow(/^userId: "\.\.\/tags" contains "\/"/);
    expect(srv.received).toHaveLength(0);
  });

  it('createClientFromEnv wires the environment', async () => {
    const { srv } = await setup((_r, res) => json(res, ok([{ id: 't' }])));
    const env = loadConfig({ LEELOO_API_URL: srv.url, LEELOO_API_TOKEN: TOKEN, LEELOO_PAGE_SIZE: '7', LEELOO_DATE_FORMAT: 'date' });
    const c = createClientFromEnv(env, { rateLimit: 0 });
    cleanup.push(() => c.close());
    expect(c.pageSize).toBe(7);
    expect(c.dateFormat).toBe('date');
    expect(await c.listTags()).toEqual([{ id: 't' }]);
    expect(() => createClientFromEnv(loadConfig({}))).toThrow(/LEELOO_API_TOKEN/);
  });
});
