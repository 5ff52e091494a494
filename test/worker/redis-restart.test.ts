import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { SYNC_QUEUE } from '../../jobs/queues.js';
import { loadConfig } from '../../src/config.js';
import { openMirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';
import { freePort, sleep, spawnWorker, startPrivateRedis, testPrefix, waitFor, workerEnvVars, type WorkerChild } from './helpers.js';

/*
 * A Redis of this test's own (no persistence), killed and restarted on the same port while a
 * sync runs. Nothing of the run may be lost: the mirror is in SQLite, the worker reconnects,
 * puts its schedulers back into the empty Redis and keeps serving.
 */
describe('a Redis restart mid-run', () => {
  let sim: Simulator;
  let redisServer: Awaited<ReturnType<typeof startPrivateRedis>>;
  let port: number;
  let worker: WorkerChild | undefined;
  const db = tempDbPath('ls-redis-restart-');
  const prefix = testPrefix();

  beforeAll(async () => {
    sim = await startSimulator({ seed: 9, people: 60, knobs: { latencyMs: 25 } });
    port = await freePort();
    redisServer = await startPrivateRedis(port);
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    await redisServer?.stop();
    await sim?.close();
    db.cleanup();
  });

  it('is survived: the run completes, the worker reconnects, re-registers its schedulers and takes new jobs', async () => {
    const vars = workerEnvVars(sim, db.path, prefix, { REDIS_URL: `redis://127.0.0.1:${port}`, SCHEDULE_FREQUENT_MINUTES: '0' });
    const env = loadConfig(vars);
    worker = spawnWorker(vars, ['--lock-ms', '1500', '--stalled-ms', '500']);
    const w = worker;
    await w.waitForLog((l) => l.msg === 'worker ready', 'worker ready');
    const { id: first } = await enqueueSyncNow(env, {});
    await w.waitForLog((l) => l.msg === 'sync job started' && l.jobId === first, 'sync job started');
    await sleep(300);

    await redisServer.stop();
    await w.waitForLog((l) => l.msg === 'Redis connection lost; reconnecting with backoff', 'connection lost');
    await sleep(800);
    redisServer = await startPrivateRedis(port);
    await w.waitForLog((l) => l.msg === 'Redis connection restored', 'connection restored');
    await w.waitForLog((l) => l.msg === 'job schedulers re-registered after reconnecting to Redis', 'schedulers re-registered');

    // The run that was in flight finishes into SQLite: nothing lost.
    const finished = await w.waitForLog((l) => l.msg === 'sync finished', 'the first run to finish', 40_000);
    expect(finished.ok).toBe(true);
    expect(w.child.exitCode).toBeNull();
    const m = openMirror(db.path);
    try {
      expectMirrorMatches(m.sqlite, sim);
      expect(m.sqlite.prepare(`SELECT DISTINCT status FROM sync_runs`).all()).toEqual([{ status: 'succeeded' }]);
    } finally {
      m.close();
    }

    // The fresh Redis has the schedulers again, and the worker serves new requests.
    const redis = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: null });
    const queue = new Queue(SYNC_QUEUE, { connection: redis, prefix });
    try {
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual(['nightly']);
      const { id: second } = await enqueueSyncNow(env, { streams: ['tags'] });
      await waitFor('the job queued after the restart to complete', async () => (await (await queue.getJob(second))?.getState()) === 'completed', 20_000, 100);
    } finally {
      await queue.close();
      redis.disconnect();
    }
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  });
});
