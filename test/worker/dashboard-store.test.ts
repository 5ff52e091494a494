/**
 * The dashboard keeps one read-only store for all its requests (src/dashboard/store.ts), opened
 * at the first request that finds a mirror and closed with the dashboard, on both backends.
 */
import { readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../../src/dashboard/app.js';
import { dashboardStore } from '../../src/dashboard/store.js';
import type { Store } from '../../src/db/store/types.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { startSimulator } from '../../src/sim/index.js';
import { BACKENDS, useBackendDb, type BackendDb } from '../helpers/backends.js';
import { syncPassing } from '../helpers/expect-mirror.js';
import { adminQuery } from '../helpers/pg.js';
import { tempDbPath } from '../helpers/mirror.js';

describe('dashboardStore', () => {
  const fakeStore = () => {
    const s = { closed: 0, close: async () => void s.closed++ };
    return s;
  };

  it('opens once, at the first get, however many requests share it; closes it on close; refuses after', async () => {
    const db = tempDbPath('ls-dstore-');
    try {
      const made: ReturnType<typeof fakeStore>[] = [];
      const open = async () => {
        const s = fakeStore();
        made.push(s);
        await new Promise((r) => setTimeout(r, 10));
        return s as unknown as Store;
      };
      // A file must exist for SQLite (mirrorAbsence); the fake opener never reads it.
      writeFileSync(db.path, '');
      const d = dashboardStore(db.path, open);
      expect(made).toHaveLength(0);
      const got = await Promise.all(Array.from({ length: 20 }, () => d.get()));
      expect(made).toHaveLength(1);
      for (const g of got) expect(g).toEqual({ store: made[0] });
      await d.get();
      expect(made).toHaveLength(1);
      await d.close();
      expect(made[0]!.closed).toBe(1);
      await expect(d.get()).rejects.toThrow(/shutting down/);
    } finally {
      db.cleanup();
    }
  });

  it('a failed open is not kept (the next request tries again); no file means no open; a file replaced is opened again; a file removed closes the store', async () => {
    const db = tempDbPath('ls-dstore-');
    let opens = 0;
    const stores: ReturnType<typeof fakeStore>[] = [];
    const open = async () => {
      opens++;
      if (opens === 1) throw new Error('no mirror yet');
      const s = fakeStore();
      stores.push(s);
      return s as unknown as Store;
    };
    const d = dashboardStore(db.path, open);
    expect(await d.get()).toEqual({ absent: db.path });
    expect(opens).toBe(0);
    writeFileSync(db.path, '');
    await expect(d.get()).rejects.toThrow('no mirror yet');
    expect('store' in (await d.get())).toBe(true);
    expect(opens).toBe(2);
    // Another file moved into place (a restore): the handle would keep reading the old one.
    const next = `${db.path}.restored`;
    writeFileSync(next, '');
    renameSync(next, db.path);
    const reopened = await d.get();
    expect(opens).toBe(3);
    expect(stores[0]!.closed).toBe(1);
    expect(reopened).toEqual({ store: stores[1] });
    expect(await d.get()).toEqual({ store: stores[1] });
    db.cleanup();
    expect(await d.get()).toEqual({ absent: db.path });
    expect(stores[1]!.closed).toBe(1);
    await d.close();
    expect(stores[1]!.closed).toBe(1);
    expect(opens).toBe(3);
  });
});

/** What the test database or file has open for this process: PostgreSQL sessions of leeloo-sync, or file descriptors on the SQLite file. */
async function handlesOn(db: BackendDb): Promise<number> {
  if (db.backend === 'sqlite') {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === db.path) n++;
      } catch {
        // Closed between the listing and the look.
      }
    }
    return n;
  }
  const name = new URL(db.url).pathname.slice(1);
  const { rows } = await adminQuery("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'leeloo-sync'", [name]);
  return (rows[0] as { n: number }).n;
}

/** handlesOn once it reaches 0: a PostgreSQL backend leaves pg_stat_activity a moment after its client hung up. */
async function drained(db: BackendDb): Promise<number> {
  const until = Date.now() + 3000;
  for (;;) {
    const n = await handlesOn(db);
    if (n === 0 || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(BACKENDS)('the dashboard on %s', (backend) => {
  const db = useBackendDb(backend);
  const dashboards: Dashboard[] = [];
  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.close()));
  });

  it('serves many requests from one store (one small pool), and closing the dashboard closes it', { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ seed: 3, people: 8 });
    try {
      await syncPassing(sim, db.url, { streams: ['people', 'tags'] });
    } finally {
      await sim.close();
    }
    await db.release();
    expect(await drained(db)).toBe(0);
    const d = await startDashboard({
      env: { DASHBOARD_HOST: '127.0.0.1', DASHBOARD_PORT: 0, DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined },
      mirrorPath: db.url,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: silentLogger,
    });
    dashboards.push(d);
    const base = `http://127.0.0.1:${d.port}`;
    // Opened lazily: nothing before the first request.
    expect(await handlesOn(db)).toBe(0);
    let peak = 0;
    const paths = ['/mirror.json', '/mirror', '/reports'];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const r = await fetch(`${base}${paths[i % paths.length]}`);
          peak = Math.max(peak, await handlesOn(db));
          return { status: r.status, body: await r.text() };
        }),
      );
      for (const a of answers) expect(a.status, a.body).toBe(200);
      expect(JSON.parse(answers[0]!.body).rowCounts.people).toBe(8);
    }
    // The store stays open between requests: one SQLite handle, or a pool of at most two.
    const held = await handlesOn(db);
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThanOrEqual(backend === 'sqlite' ? 1 : 2);
    expect(peak).toBeLessThanOrEqual(backend === 'sqlite' ? 1 : 2);
    await d.close();
    expect(await drained(db)).toBe(0);
  });
});
