import { Queue } from 'bullmq';
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
import { syncWith, tempDbPath } from '../helpers/mirror.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from './helpers.js';

const ROUTES = ['/', '/mirror', '/mirror.json', '/metrics', `${QUEUES_PATH}/`, `${QUEUES_PATH}/api/queues`];

describe('dashboard access', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

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

  async function serve(env: { DASHBOARD_HOST: string; DASHBOARD_USER?: string; DASHBOARD_PASSWORD?: string }) {
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

  it('refuses to start on 0.0.0.0 without credentials', async () => {
    await expect(serve({ DASHBOARD_HOST: '0.0.0.0' })).rejects.toThrow(/not a loopback address/);
  });
});
