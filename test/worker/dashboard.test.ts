import { request } from 'node:http';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueBoard } from '../../jobs/board.js';
import { SYNC_QUEUE } from '../../jobs/queues.js';
import { QUEUES_PATH, startDashboard, type Dashboard } from '../../src/dashboard/app.js';
import { dashboardAccess, isLoopbackHost } from '../../src/dashboard/auth.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { startSimulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { syncWith, tempDbPath } from '../helpers/mirror.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from './helpers.js';

const ROUTES = ['/', '/mirror', '/mirror.json', '/reports', '/metrics', `${QUEUES_PATH}/`, `${QUEUES_PATH}/api/queues`];

describe('dashboard access', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1', 'evil.localhost', '127.0.0.1.nip.io', 'localhost.attacker.example']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('a name that merely ends in .localhost is not loopback: the worker refuses it without credentials (exit 2)', async () => {
    expect(() => dashboardAccess({ DASHBOARD_HOST: 'evil.localhost', DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined })).toThrow(/not a loopback address/);
    const r = await runCli(['worker'], { DASHBOARD_HOST: 'evil.localhost', LEELOO_API_TOKEN: 't', REDIS_URL: 'redis://127.0.0.1:9' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^leeloo-sync: DASHBOARD_HOST=evil\.localhost is not a loopback address/);
  }, 60_000);

  it('refuses a non-loopback address without credentials, and demands them where configured', () => {
    expect(() => dashboardAccess({ DASHBOARD_HOST: '0.0.0.0', DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined })).toThrow(ConfigError);
    expect(dashboardAccess({ DASHBOARD_HOST: '127.0.0.1', DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined })).toBeUndefined();
    expect(dashboardAccess({ DASHBOARD_HOST: '0.0.0.0', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' })).toEqual({ user: 'ops', password: 'pw' });
    expect(dashboardAccess({ DASHBOARD_HOST: '127.0.0.1', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' })).toEqual({ user: 'ops', password: 'pw' });
  });
});

describe('dashboard server', () => {
  const prefix = testPrefix();
  const db = tempDbPath('ls-dashboard-');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(SYNC_QUEUE, { connection: redis, prefix });
  const dashboards: Dashboard[] = [];

  beforeAll(async () => {
    const sim = await startSimulator({ seed: 3, people: 8 });
    const { mirror } = await syncWith(sim, db.path, { streams: ['people', 'tags'] });
    mirror.close();
    await sim.close();
  });
  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.close()));
    await queue.close();
    redis.disconnect();
    await cleanupPrefix(prefix);
    db.cleanup();
  });

  async function serve(env: { DASHBOARD_HOST: string; DASHBOARD_USER?: string; DASHBOARD_PASSWORD?: string; DASHBOARD_ALLOWED_HOSTS?: string[] }) {
    const metrics = new Metrics({ defaultMetrics: false });
    const d = await startDashboard({
      env: { DASHBOARD_PORT: 0, DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined, ...env },
      mirrorPath: db.path,
      metrics,
      logger: silentLogger,
      board: queueBoard([queue], QUEUES_PATH),
    });
    dashboards.push(d);
    // Whatever the bind address, the test only ever talks to loopback.
    return `http://127.0.0.1:${d.port}`;
  }

  const basic = (user: string, pw: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

  it('on 0.0.0.0 with credentials, every route (/metrics too) asks for them', async () => {
    const base = await serve({ DASHBOARD_HOST: '0.0.0.0', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 's3cret-pw' });
    for (const r of ROUTES) {
      const none = await fetch(base + r, { redirect: 'manual' });
      expect(none.status, r).toBe(401);
      expect(none.headers.get('www-authenticate'), r).toMatch(/^Basic realm="leeloo-sync"/);
      const wrong = await fetch(base + r, { headers: basic('ops', 's3cret-pX'), redirect: 'manual' });
      expect(wrong.status, r).toBe(401);
      const right = await fetch(base + r, { headers: basic('ops', 's3cret-pw'), redirect: 'manual' });
      expect(right.status, r).toBe(r === '/' ? 302 : 200);
    }
  });

  it('on loopback without credentials, serves everything openly: queues, mirror page, metrics', async () => {
    const base = await serve({ DASHBOARD_HOST: '127.0.0.1' });
    const board = await fetch(`${base}${QUEUES_PATH}/api/queues`);
    expect(board.status).toBe(200);
    expect(((await board.json()) as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual([SYNC_QUEUE]);
    expect((await fetch(`${base}${QUEUES_PATH}/`)).headers.get('content-type')).toMatch(/html/);

    const page = await (await fetch(`${base}/mirror`)).text();
    expect(page).toContain('<h2>Rows per table</h2>');
    expect(page).toMatch(/<td>people<\/td><td>8<\/td>/);
    expect(page).toContain('<h2>Stream cursors</h2>');
    expect(page).toMatch(/<td>tags<\/td><td>succeeded<\/td>/);

    const json = (await (await fetch(`${base}/mirror.json`)).json()) as { rowCounts: Record<string, number>; lastSuccess: Record<string, string>; cursors: unknown[] };
    expect(json.rowCounts.people).toBe(8);
    expect(json.rowCounts.tags).toBeGreaterThan(0);
    expect(Object.keys(json.lastSuccess).sort()).toEqual(['people', 'tags']);
    expect(json.cursors.length).toBeGreaterThan(0);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE leeloo_sync_rows_synced_total counter');
  });

  /** A request with exactly these headers (fetch would not let a test set Host). */
  function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }) } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('serves only Host values naming it (DNS rebinding): others get 421', async () => {
    const base = await serve({ DASHBOARD_HOST: '127.0.0.1', DASHBOARD_ALLOWED_HOSTS: ['mirror.internal'] });
    const port = new URL(base).port;
    for (const r of ['/', '/mirror', '/mirror.json', '/metrics', `${QUEUES_PATH}/`, `${QUEUES_PATH}/api/queues`]) {
      for (const host of ['attacker.example.com', `attacker.example.com:${port}`, `evil.localhost:${port}`, '10.0.0.5', 'localhost.attacker.example']) {
        const res = await raw(base + r, 'GET', { Host: host });
        expect({ r, host, status: res.status }).toEqual({ r, host, status: 421 });
      }
      for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LOCALHOST', `mirror.internal:${port}`, 'mirror.internal', `127.0.0.2:${port}`]) {
        const res = await raw(base + r, 'GET', { Host: host });
        expect({ r, host, status: res.status }).toEqual({ r, host, status: r === '/' ? 302 : 200 });
      }
    }
  });

  it('sends no X-Powered-By', async () => {
    const base = await serve({ DASHBOARD_HOST: '127.0.0.1' });
    for (const r of ['/', '/mirror', '/mirror.json', '/metrics', `${QUEUES_PATH}/`, `${QUEUES_PATH}/api/queues`, '/nope']) {
      const res = await fetch(base + r, { redirect: 'manual' });
      expect(res.headers.get('x-powered-by'), r).toBeNull();
    }
  });

  it("refuses cross-site state changes (form posts, foreign Origin); bull-board's own UI requests work", async () => {
    const base = await serve({ DASHBOARD_HOST: '127.0.0.1' });
    const host = new URL(base).host;
    // A job that failed, for the retry button.
    const worker = new Worker(
      SYNC_QUEUE,
      async () => {
        throw new Error('boom');
      },
      { connection: redis.duplicate(), prefix },
    );
    const job = await queue.add('guard-test', { n: 1 }, { attempts: 1 });
    const failed = new Promise<void>((resolve) => worker.on('failed', (j) => j?.id === job.id && resolve()));
    await failed;
    await worker.close();
    const state = async () => (await queue.getJob(job.id!))!.getState();
    expect(await state()).toBe('failed');
    const jobs = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'failed', 'completed'])).length;
    const before = await jobs();

    const retry = `${base}${QUEUES_PATH}/api/queues/${SYNC_QUEUE}/${job.id}/retry`;
    const add = `${base}${QUEUES_PATH}/api/queues/${SYNC_QUEUE}/add`;
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const refused = [
      [add, 'POST', { Host: host, Origin: 'http://attacker.example.com', 'Sec-Fetch-Site': 'cross-site', ...form }, 'name=x'],
      [add, 'POST', { Host: host, ...form }, 'name=x'],
      [add, 'POST', { Host: host, 'Content-Type': 'text/plain' }, '{"name":"x"}'],
      [add, 'POST', { Host: host, Origin: 'null', 'Content-Type': 'multipart/form-data; boundary=b' }, '--b--'],
      [retry, 'PUT', { Host: host, Origin: 'http://attacker.example.com' }, undefined],
      [retry, 'PUT', { Host: host, 'Sec-Fetch-Site': 'same-site', 'X-Requested-With': 'XMLHttpRequest' }, undefined],
      [retry, 'PUT', { Host: host }, undefined],
    ] as const;
    for (const [url, method, headers, body] of refused) {
      const res = await raw(url, method, headers, body);
      expect({ url, method, headers, status: res.status }).toEqual({ url, method, headers, status: 403 });
    }
    expect(await state()).toBe('failed');
    expect(await jobs()).toBe(before);

    // What the UI's axios PUT carries in a browser: Origin and Sec-Fetch-Site of the page itself.
    const ui = await raw(retry, 'PUT', { Host: host, Origin: base, 'Sec-Fetch-Site': 'same-origin', Accept: 'application/json, text/plain, */*' });
    expect(ui.status).toBe(204);
    expect(await state()).toBe('waiting');
    // A script without a browser says so with a header no form can send.
    const cli = await raw(add, 'POST', { Host: host, 'Content-Type': 'application/json' }, JSON.stringify({ name: 'from-a-script', data: {} }));
    expect(cli.status).toBe(200);
    expect(await jobs()).toBe(before + 1);
    await queue.obliterate({ force: true });
  });

  it('refuses to start on 0.0.0.0 without credentials', async () => {
    await expect(serve({ DASHBOARD_HOST: '0.0.0.0' })).rejects.toThrow(/not a loopback address/);
  });
});
