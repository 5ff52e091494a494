import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { LeelooClient } from '../../src/leeloo/client.js';
import { fakeServer, type Handler } from './fake-server.js';
import { rejection } from '../helpers/errors.js';

// The transport collects bodies through undici's dispatch handler (src/leeloo/http.ts), not a
// stream: these pin what that path must still do.
const TOKEN = 'tok-HTTP-4d2a9c7e1b3f5a60';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(handler: Handler, base = (url: string) => url) {
  const srv = await fakeServer(handler);
  const client = new LeelooClient({ baseUrl: base(srv.url), token: TOKEN, rateLimit: 0, maxRetries: 0 });
  cleanup.push(async () => {
    await client.close();
    await srv.close();
  });
  return { srv, client };
}

describe('HttpTransport', () => {
  it('keeps the base URL’s own path in front of /api/v2', async () => {
    const { srv, client } = await setup(
      (_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 1, data: [] }));
      },
      (url) => `${url}/proxy/leeloo/`,
    );
    await client.listTags();
    expect(srv.received[0]!.path).toBe('/proxy/leeloo/api/v2/tags');
  });

  it('joins a chunked body whose multi-byte characters are split across chunks', async () => {
    const name = 'Ёлка 🎄 '.repeat(3000);
    const body = Buffer.from(JSON.stringify({ status: 1, data: [{ id: 't1', name }] }), 'utf8');
    const { client } = await setup((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // no content-length: chunked
      // Odd cuts land inside the 2- and 4-byte sequences.
      let i = 0;
      const step = () => {
        if (i >= body.length) return res.end();
        res.write(body.subarray(i, i + 997));
        i += 997;
        setImmediate(step);
      };
      step();
    });
    const tags = await client.listTags();
    expect(tags).toEqual([{ id: 't1', name }]);
  });

  it('a failure still carries a one-line excerpt of the body, without the token', async () => {
    const { client } = await setup((_r, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(`{"status":0,\n"error":{"code":"FORMAT_ERROR","echo":"${TOKEN}"}}`);
    });
    const e = await rejection(client.listTags());
    expect(e).toBeInstanceOf(ApiError);
    const err = e as ApiError;
    expect(err.status).toBe(400);
    expect(err.bodyExcerpt).toContain('FORMAT_ERROR');
    expect(err.bodyExcerpt).not.toContain(TOKEN);
    expect(err.bodyExcerpt).not.toMatch(/\n/);
  });

  it('a caller abort while the request waits for its answer rejects with the caller’s reason', async () => {
    const { srv, client } = await setup(() => undefined); // never answers
    const ac = new AbortController();
    const p = client.listTags({ signal: ac.signal });
    while (srv.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort(new Error('stopping'));
    await expect(p).rejects.toThrow('stopping');
  });

  it('an answer slower than the timeout fails as a timeout', async () => {
    const srv = await fakeServer(() => undefined);
    const client = new LeelooClient({ baseUrl: srv.url, token: TOKEN, rateLimit: 0, maxRetries: 0, timeoutMs: 150 });
    cleanup.push(async () => {
      await client.close();
      await srv.close();
    });
    const e = await rejection(client.listTags());
    expect((e as ApiError).kind).toBe('timeout');
  });
});
