import { spawn } from 'node:child_process';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ValidationError } from '../../src/errors.js';
import { createClientFromEnv, LeelooClient } from '../../src/leeloo/client.js';
import { startSimulator } from '../../src/sim/index.js';
import { failures, syncWith, tempDbPath } from '../helpers/mirror.js';
import { fakeServer, json } from '../leeloo/fake-server.js';
import { rejection } from '../helpers/errors.js';

const TOKEN = 'tok-HOSTILE-4e8a1c2b9d';
const CHILD = fileURLToPath(new URL('./big-body-child.ts', import.meta.url));
const MiB = 1024 * 1024;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function server(handler: Parameters<typeof fakeServer>[0]) {
  const srv = await fakeServer(handler);
  cleanup.push(() => srv.close());
  return srv;
}

function client(url: string, extra: Partial<ConstructorParameters<typeof LeelooClient>[0]> = {}) {
  const c = new LeelooClient({ baseUrl: url, token: TOKEN, rateLimit: 0, retryBaseMs: 5, retryMaxMs: 20, ...extra });
  cleanup.push(() => c.close());
  return c;
}

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('HTTP %i fails at once, names the Location host, and is never followed', async (status) => {
    const other = await server((_r, res) => json(res, { status: 1, data: [] }));
    const srv = await server((_r, res) => {
      res.writeHead(status, { location: `${other.url}/api/v2/tags?stolen=1` });
      res.end();
    });
    const e = await rejection(client(srv.url).listTags());
    expect(e.kind).toBe('redirect');
    expect(e.permanent).toBe(true);
    expect(e.message).toBe(`GET /api/v2/tags answered HTTP ${status} redirect to 127.0.0.1:${other.port}; redirects are not followed (check LEELOO_API_URL)`);
    expect(srv.received).toHaveLength(1);
    expect(other.received).toHaveLength(0);
  });

  it('a write answered with a redirect to another host: one request, the token stays home', async () => {
    const srv = await server((_r, res) => {
      res.writeHead(307, { location: 'https://evil.example.com/collect' });
      res.end();
    });
    const e = await rejection(client(srv.url).addTag('5e1c4676b70fb2001279c268', '5e1c4676b70fb2001279c269'));
    expect(e.message).toContain('answered HTTP 307 redirect to evil.example.com; redirects are not followed');
    expect(e.maybeApplied).toBe(true);
    expect(srv.received).toHaveLength(1);
  });

  it('a redirect without a Location says so', async () => {
    const srv = await server((_r, res) => {
      res.writeHead(302);
      res.end();
    });
    const e = await rejection(client(srv.url).listTags());
    expect(e.message).toBe('GET /api/v2/tags answered HTTP 302 redirect without a Location; redirects are not followed (check LEELOO_API_URL)');
  });
});

/** Sends `total` bytes (null: forever) of a JSON-looking body as fast as the socket takes them. */
function flood(total: number | null, track: { sent: number; closed: Promise<void> }) {
  return (_r: unknown, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to check up front
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    track.closed = new Promise((resolve) => res.on('close', () => resolve()));
    res.write('{"status":1,"data":"');
    const pump = () => {
      while (!res.destroyed && (total === null || track.sent < total)) {
        track.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  };
}

function runChild(url: string, cap: number): Promise<{ message: string; kind?: string; permanent?: boolean; ms: number; rssGrowthMb: number; heapGrowthMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, String(cap)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!));
      } catch {
        reject(new Error(`child exited ${code}: ${err.slice(-500)}`));
      }
    });
  });
}

describe('response bodies are capped (LEELOO_MAX_RESPONSE_BYTES)', () => {
  it.each([
    ['a 300 MB body', 300 * MiB],
    ['an endless body', null],
  ])('%s fails for good after one request, in bounded memory', async (_what, total) => {
    const track = { sent: 0, closed: Promise.resolve() };
    const srv = await server(flood(total, track));
    const r = await runChild(srv.url, 16 * MiB);
    expect(r.message).toBe(`response body of GET /api/v2/tags exceeds LEELOO_MAX_RESPONSE_BYTES (${16 * MiB} bytes)`);
    expect(r.kind).toBe('too_large');
    expect(r.permanent).toBe(true);
    expect(srv.received).toHaveLength(1);
    expect(r.rssGrowthMb).toBeLessThan(100);
    expect(r.heapGrowthMb).toBeLessThan(100);
    // The connection was torn down, not drained: the server stopped well short of 300 MB.
    await track.closed;
    expect(track.sent).toBeLessThan(100 * MiB);
  }, 120_000);

  it('a declared Content-Length past the default cap fails before reading', async () => {
    let closed: Promise<void> = Promise.resolve();
    const srv = await server((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * MiB) });
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      res.write('{"status":1,');
    });
    const env = loadConfig({ LEELOO_API_URL: srv.url, LEELOO_API_TOKEN: TOKEN, LEELOO_RATE_LIMIT: '1000' });
    expect(env.LEELOO_MAX_RESPONSE_BYTES).toBe(67108864);
    const c = createClientFromEnv(env, { retryBaseMs: 5 });
    cleanup.push(() => c.close());
    const e = await rejection(c.getUser('5e42be688d4fff000cafe5c1'));
    expect(e.message).toBe('response body of GET /api/v2/users/5e42be688d4fff000cafe5c1 exceeds LEELOO_MAX_RESPONSE_BYTES (67108864 bytes)');
    expect(srv.received).toHaveLength(1);
    await closed;
  });

  it('a body just under the cap is read', async () => {
    const data = 'x'.repeat(2000);
    const srv = await server((_r, res) => json(res, { status: 1, data: [{ id: 't', name: data }] }));
    expect(await client(srv.url, { maxResponseBytes: 4096 }).listTags()).toEqual([{ id: 't', name: data }]);
  });

  it('the setting is validated', () => {
    expect(loadConfig({ LEELOO_MAX_RESPONSE_BYTES: '1048576' }).LEELOO_MAX_RESPONSE_BYTES).toBe(1048576);
    expect(() => loadConfig({ LEELOO_MAX_RESPONSE_BYTES: '10' })).toThrow(/LEELOO_MAX_RESPONSE_BYTES/);
    expect(() => loadConfig({ LEELOO_MAX_RESPONSE_BYTES: '64MB' })).toThrow(/LEELOO_MAX_RESPONSE_BYTES must be a whole number/);
  });
});

describe('ids in paths', () => {
  const BAD = ['..', '.', 'a/b', '%2e%2e', '%2E%2E', '..%2f', 'a\\b', 'x?y', 'x#y', '', ' ', 'not-an-object-id', '5e1c4676b70fb2001279c26', '5e1c4676b70fb2001279c268/../x'];
  const OK = '5e1c4676b70fb2001279c268';
  type Call = [string, string, (c: LeelooClient, id: string) => Promise<unknown>];
  const CALLS: Call[] = [
    ['listTemplates', 'categoryId', (c, id) => c.listTemplates(id)],
    ['chatMessagesPage', 'channelId', (c, id) => c.chatMessagesPage(id)],
    ['getChannelPerson', 'accountId', (c, id) => c.getChannelPerson(id)],
    ['getOrder', 'orderId', (c, id) => c.getOrder(id)],
    ['getPerson', 'personId', (c, id) => c.getPerson(id)],
    ['getTunnel', 'tunnelId', (c, id) => c.getTunnel(id)],
    ['getTunnelStats', 'tunnelId', (c, id) => c.getTunnelStats(id)],
    ['getUser', 'userId', (c, id) => c.getUser(id)],
    ['getAccount', 'accountId', (c, id) => c.getAccount(id)],
    ['accountChatMessagesPage', 'accountId', (c, id) => c.accountChatMessagesPage(id)],
    ['createTrafficSource', 'leadgentoolId', (c, id) => c.createTrafficSource(id, { name: 'n' })],
    ['updateOrder', 'orderId', (c, id) => c.updateOrder(id, { status: 'RESOLVED' })],
    ['updatePerson', 'personId', (c, id) => c.updatePerson(id, { email: 'a@b.c' })],
    ['addComment', 'personId', (c, id) => c.addComment(id, 'x')],
    ['addTag', 'personId', (c, id) => c.addTag(id, OK)],
    ['removeTag', 'personId', (c, id) => c.removeTag(id, OK)],
    ['manualSubscribe', 'accountId', (c, id) => c.manualSubscribe(id, { tunnel_id: OK, tunnel_block_id: OK })],
  ];

  it.each(CALLS)('%s refuses a path id that is not 24-hex, with zero requests', async (_name, field, call) => {
    const srv = await server((_r, res) => json(res, { status: 1, data: [] }));
    const c = client(srv.url);
    for (const bad of BAD) {
      const e = await Promise.resolve()
        .then(() => call(c, bad))
        .then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      const msg = (e as ValidationError).message;
      expect(msg.startsWith(`${field}: `), msg).toBe(true);
      expect(msg.split('\n')).toHaveLength(1);
      if (bad.trim() !== '') expect(msg).toContain(JSON.stringify(bad));
    }
    expect(srv.received).toHaveLength(0);
  });

  it('names the bad value truncated', async () => {
    const e = await client('http://127.0.0.1:9')
      .getPerson(`..${'/x'.repeat(500)}`)
      .catch((err: unknown) => err);
    expect((e as Error).message.length).toBeLessThan(160);
    expect((e as Error).message).toMatch(/^personId: "\.\.\/x\/x.*…" contains "\/"/);
  });

  it.each([
    ['category', '..', ['template_categories', 'message_templates'], 'message_templates', 'categoryId: ".." is a dot segment, not an id'],
    ['tunnel', '..', ['tunnels', 'leadgentools', 'tunnel_stats'], 'leadgentools', 'tunnelId: ".." is a dot segment, not an id'],
    ['tunnel', 'a/b', ['tunnels', 'tunnel_stats'], 'tunnel_stats', 'tunnelId: "a/b" contains "/"'],
  ])('a %s id %j from the API fails its stream for good, without requesting another route', async (kind, id, streams, failing, message) => {
    const sim = await startSimulator({ seed: 11, people: 5 });
    const db = tempDbPath('ls-path-ids-');
    cleanup.push(async () => {
      await sim.close();
      db.cleanup();
    });
    const r = await fetch(`${sim.url}/__sim/hostile-id`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, id }) });
    expect(r.status).toBe(200);
    const { result, mirror } = await syncWith(sim, db.path, { streams });
    mirror.close();
    const bad = result.streams.find((s) => s.stream === failing)!;
    expect(bad.status, failures(result).join('; ')).toBe('failed');
    expect(bad.permanent).toBe(true);
    expect(bad.error).toContain(message);
    const routes = Object.keys(sim.requestCounts());
    expect(routes.filter((k) => k.includes('(unmatched)'))).toEqual([]);
    // Only the routes these streams read, never one a dot segment would have led to.
    const allowed = new Set(['GET /api/v2/categories/templates', 'GET /api/v2/categories/templates/:id', 'GET /api/v2/tunnels', 'GET /api/v2/tunnels/:id', 'GET /api/v2/tunnels/:id/stats', 'GET /api/v2/tunnels/stats']);
    expect(routes.filter((k) => !allowed.has(k))).toEqual([]);
  });
});
