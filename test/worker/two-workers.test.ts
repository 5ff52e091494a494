import type { Job, Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { startWorker, type WorkerRuntime } from '../../jobs/runtime.js';
import { openStore } from '../../src/db/store/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { expectMirrorMatchesOn } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';
import { createTestDatabase } from '../helpers/pg.js';
import { cleanupPrefix, memoryLogger, testPrefix, waitFor, workerEnv, type LogLine } from './helpers.js';

/** The shared database of one block: a SQLite file, or a PostgreSQL database of its own. */
async function sharedDatabase(backend: 'sqlite' | 'postgres'): Promise<{ url: string; cleanup(): Promise<void> }> {
  if (backend === 'sqlite') {
    const db = tempDbPath('ls-two-workers-');
    return { url: db.path, cleanup: async () => db.cleanup() };
  }
  const db = await createTestDatabase();
  return { url: db.url, cleanup: () => db.drop() };
}

describe.each(['sqlite', 'postgres'] as const)('two workers on one Redis and one %s database', (backend) => {
  let sim: Simulator;
  const workers: WorkerRuntime[] = [];
  const logs: LogLine[][] = [];
  let queue: Queue;
  const prefix = testPrefix();
  let db: Awaited<ReturnType<typeof sharedDatabase>> | undefined;
  let env: ReturnType<typeof workerEnv>;

  beforeAll(async () => {
    db = await sharedDatabase(backend);
    // The server allows 60 requests per sliding second; each worker is configured for 50/s.
    // Two workers pacing themselves separately would send up to 100/s and collect 429s.
    sim = await startSimulator({ seed: 11, people: 40, knobs: { latencyMs: 6, rateLimitRps: 60 } });
    env = workerEnv(sim, db.url, prefix, { LEELOO_RATE_LIMIT: '50' });
    for (const name of ['A', 'B']) {
      const { logger, lines } = memoryLogger();
      logs.push(lines);
      workers.push(await startWorker({ env, logger, name, tuning: { lockMs: 2000, deferMs: 300 }, dashboard: false }));
    }
    await Promise.all(workers.map((w) => w.ready));
    queue = workers[0]!.queues[0]!;
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close(5000)));
    await sim?.close();
    await cleanupPrefix(prefix);
    await db?.cleanup();
  });

  async function settle(ids: string[]): Promise<Job[]> {
    return waitFor(
      `jobs ${ids.join(', ')} to finish`,
      async () => {
        const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
        if (!states.every((s) => s === 'completed' || s === 'failed')) return undefined;
        // Fetched once finished, so finishedOn and the results are there.
        return (await Promise.all(ids.map((id) => queue.getJob(id)))) as Job[];
      },
      60_000,
      100,
    );
  }

  it('share one API budget: two syncs in parallel get no 429', async () => {
    // About the same number of requests each, so they overlap for most of their run.
    const a = await enqueueSyncNow(env, { streams: ['people', 'orders'] });
    const b = await enqueueSyncNow(env, { streams: ['communication_channels', 'chat_messages'] });
    const jobs = await settle([a.id, b.id]);
    for (const j of jobs) expect(await j.getState(), j.failedReason).toBe('completed');
    // Disjoint streams: both ran, one on each worker, at the same time.
    expect(new Set(jobs.map((j) => j.processedBy))).toEqual(new Set(['A', 'B']));
    const [ja, jb] = jobs as [Job, Job];
    expect(ja.processedOn!).toBeLessThan(jb.finishedOn!);
    expect(jb.processedOn!).toBeLessThan(ja.finishedOn!);
    expect(sim.rateLimitedCount()).toBe(0);
  });

  it('never run one stream twice at once: overlapping triggers are skipped or deferred', async () => {
    const ids = [
      (await enqueueSyncNow(env, { full: true })).id,
      (await enqueueSyncNow(env, { streams: ['people', 'communication_channels', 'chat_messages'] })).id,
      (await enqueueSyncNow(env, { streams: ['people'] })).id,
      (await enqueueSyncNow(env, { streams: ['tags', 'tunnels', 'leadgentools'] })).id,
      (await enqueueSyncNow(env, { streams: ['chat_messages', 'communication_channels'], full: true })).id,
    ];
    const jobs = await settle(ids);
    for (const j of jobs) expect(await j.getState(), j.failedReason).toBe('completed');
    expect(new Set(jobs.map((j) => j.processedBy)).size).toBe(2);

    const all = logs.flat();
    const overlapped = all.filter((l) => l.msg.startsWith('sync job skipped') || l.msg.startsWith('sync job deferred'));
    expect(overlapped.length).toBeGreaterThan(0);
    // A full run is never skipped, only deferred until its streams are free.
    const fullIds = new Set([ids[0], ids[4]]);
    expect(all.filter((l) => l.msg.startsWith('sync job skipped') && fullIds.has(String(l.jobId)))).toEqual([]);

    const store = await openStore(env.DATABASE_URL, { migrate: false });
    try {
      // Every stream's runs, in order of start: each ends before the next begins.
      const runs = await store.all<{ stream: string; s: string; f: string | null; status: string }>(
        sql`SELECT stream, started_at AS s, finished_at AS f, status FROM sync_runs ORDER BY stream, started_at`,
      );
      expect(runs.length).toBeGreaterThan(12);
      expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
      for (let i = 1; i < runs.length; i++) {
        const prev = runs[i - 1]!;
        const cur = runs[i]!;
        if (prev.stream === cur.stream) expect(prev.f! <= cur.s, `${cur.stream}: run at ${cur.s} overlaps one ending ${prev.f}`).toBe(true);
      }
      await expectMirrorMatchesOn((q) => store.all(sql.raw(q)), sim);
    } finally {
      await store.close();
    }
    expect(sim.rateLimitedCount()).toBe(0);
  });
});
