/**
 * /metrics on a SQLite mirror reads the last successes through one lazily opened read-only
 * store, shared with the dashboard and closed at shutdown, instead of opening one per scrape.
 */
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerRuntime } from '../../jobs/runtime.js';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator } from '../../src/sim/index.js';
import { syncPassing } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';
import { cleanupPrefix, testPrefix, workerEnv } from './helpers.js';

/** The value of last_success for `stream` in a scrape, or undefined. */
function lastSuccessOf(text: string, stream: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`leeloo_sync_last_success_timestamp_seconds{stream="${stream}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** File descriptors this process holds on `path`. */
function fdsOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // Closed between the listing and the look.
    }
  }
  return n;
}

describe('the worker /metrics scrape on SQLite', () => {
  const prefix = testPrefix();
  const db = tempDbPath('ls-scrape-');
  let rt: WorkerRuntime | undefined;
  afterAll(async () => {
    await rt?.close(5000);
    await cleanupPrefix(prefix);
    db.cleanup();
  });

  it('opens one store for every scrape (and the dashboard), picks up a mirror that appears later, and closes it at shutdown', { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ seed: 5, people: 6 });
    try {
      const opens: string[] = [];
      const open = async (url: string): Promise<Store> => {
        opens.push(url);
        return openStore(url, { migrate: false, readonly: true, poolSize: 2 });
      };
      rt = await startWorker({ env: workerEnv(sim, db.path, prefix), logger: silentLogger, openMirror: open });
      await rt.ready;
      // The boot migrated a fresh file; take it away: as before the first sync, there is no mirror.
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${db.path}${suffix}`, { force: true });
      const scrape = async () => {
        const res = await fetch(`${rt!.dashboard!.url}/metrics`);
        expect(res.status).toBe(200);
        return res.text();
      };
      for (let i = 0; i < 3; i++) expect(lastSuccessOf(await scrape(), 'tags')).toBeUndefined();
      expect(opens).toEqual([]);

      await syncPassing(sim, db.path, { streams: ['tags'] });
      const texts = [await scrape(), await scrape(), await rt.metrics.registry.metrics()];
      for (const text of texts) expect(lastSuccessOf(text, 'tags')).toBeGreaterThan(Date.now() / 1000 - 60);
      // The dashboard's pages read through the same store.
      expect((await fetch(`${rt.dashboard!.url}/mirror.json`)).status).toBe(200);
      expect(opens).toEqual([db.path]);
      expect(fdsOn(db.path)).toBe(1);

      await rt.close(5000);
      expect(fdsOn(db.path)).toBe(0);
    } finally {
      await sim.close();
    }
  });
});
