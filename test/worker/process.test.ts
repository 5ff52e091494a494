import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { SYNC_QUEUE } from '../../jobs/queues.js';
import { loadConfig } from '../../src/config.js';
import { openMirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';
import { pgUrl } from '../helpers/pg.js';
import { cleanupPrefix, REDIS_URL, sleep, spawnWorker, testPrefix, waitFor, workerEnvVars, type WorkerChild } from './helpers.js';

/*
 * The real `node bin/leeloo-sync.js worker` in child processes: SIGKILL, SIGTERM, the CLI.
 * Small lock TTL and stalled interval so a dead worker's job is taken over within seconds.
 */
const TUNING = ['--lock-ms', '1500', '--stalled-ms', '500'];

describe('worker processes', () => {
  let sim: Simulator;
  const prefixes: string[] = [];
  const dbs: ReturnType<typeof tempDbPath>[] = [];
  const children: WorkerChild[] = [];
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });

  beforeAll(async () => {
    // Latency stretches a full sync to a few seconds, so signals land mid-run.
    sim = await startSimulator({ seed: 5, people: 60, knobs: { latencyMs: 25 } });
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await sim?.close();
    for (const p of prefixes) await cleanupPrefix(p);
    redis.disconnect();
    for (const d of dbs) d.cleanup();
  });

  function setup(extra: Record<string, string> = {}) {
    const prefix = testPrefix();
    const db = tempDbPath('ls-worker-proc-');
    prefixes.push(prefix);
    dbs.push(db);
    const vars = workerEnvVars(sim, db.path, prefix, extra);
    const queue = new Queue(SYNC_QUEUE, { connection: redis, prefix });
    const start = () => {
      const w = spawnWorker(vars, TUNING);
      children.push(w);
      return w;
    };
    return { prefix, db, vars, env: loadConfig(vars), queue, start };
  }

  it('a worker SIGKILLed mid-sync leaves its job to another worker, which finishes the mirror', async () => {
    const { db, env, queue, start } = setup();
    const a = start();
    await a.waitForLog((l) => l.msg === 'worker ready', 'worker ready');
    const { id } = await enqueueSyncNow(env, {});
    await a.waitForLog((l) => l.msg === 'stream finished', 'a first stream finished');
    a.child.kill('SIGKILL');
    const killed = await a.exited;
    expect(killed.signal).toBe('SIGKILL');
    // Really mid-run: the job is still claimed and some streams never finished.
    expect(await (await queue.getJob(id))!.getState()).toBe('active');
    const m0 = openMirror(db.path);
    const running = (m0.sqlite.prepare(`SELECT count(*) AS n FROM sync_runs WHERE status = 'running'`).get() as { n: number }).n;
    m0.close();
    expect(running).toBeGreaterThan(0);

    const b = start();
    const done = await waitFor('the job to finish on the second worker', async () => {
      const state = await queue.getJobState(id);
      return state === 'completed' || state === 'failed' ? await queue.getJob(id) : undefined;
    }, 40_000, 100);
    expect(await done.getState(), done.failedReason).toBe('completed');
    expect(done.processedBy).toBe(`${(await b.waitForLog((l) => l.msg === 'worker ready', 'ready')).worker}`);
    expect(b.lines.some((l) => l.msg.startsWith('job stalled') && l.jobId === id)).toBe(true);

    const m = openMirror(db.path);
    try {
      expectMirrorMatches(m.sqlite, sim);
      const statuses = m.sqlite.prepare('SELECT status, count(*) AS n FROM sync_runs GROUP BY status ORDER BY status').all() as { status: string; n: number }[];
      expect(statuses.find((s) => s.status === 'interrupted')?.n).toBe(running);
      expect(statuses.find((s) => s.status === 'running')).toBeUndefined();
    } finally {
      m.close();
    }
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
  });

  it('SIGTERM stops within WORKER_SHUTDOWN_TIMEOUT_MS: the run checkpoints and its job goes back to the queue', async () => {
    const timeoutMs = 5000;
    const { db, env, queue, start } = setup({ WORKER_SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const w = start();
    await w.waitForLog((l) => l.msg === 'worker ready', 'worker ready');
    const { id } = await enqueueSyncNow(env, { full: true });
    await w.waitForLog((l) => l.msg === 'stream finished', 'a first stream finished');
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThan(timeoutMs);
    expect(w.lines.some((l) => l.msg.startsWith('sync job interrupted by shutdown') && l.jobId === id)).toBe(true);
    expect(w.lines.find((l) => l.msg === 'worker stopped')).toMatchObject({ graceful: true });

    // Handed back without using an attempt, and without waiting for the stalled-job check.
    const job = (await queue.getJob(id))!;
    expect(await job.getState()).toBe('waiting');
    expect(job.attemptsMade).toBe(0);
    const m = openMirror(db.path);
    try {
      const rows = m.sqlite.prepare(`SELECT status FROM sync_runs`).all() as { status: string }[];
      expect(rows.some((r) => r.status === 'interrupted')).toBe(true);
      expect(rows.some((r) => r.status === 'running')).toBe(false);
    } finally {
      m.close();
    }

    // The next worker resumes it from the checkpoint to a complete mirror.
    const next = start();
    await waitFor('the returned job to complete', async () => (await (await queue.getJob(id))?.getState()) === 'completed', 40_000, 100);
    const m2 = openMirror(db.path);
    try {
      expectMirrorMatches(m2.sqlite, sim);
    } finally {
      m2.close();
    }
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });

  it('sync-now prints the id of the job it queued; bad input exits 2, an unreachable Redis exits 1', async () => {
    const { vars, queue } = setup();
    const ok = await runCli(['sync-now', '--streams', 'tags,users', '--full'], vars);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^sync-now-\S+\n$/);
    const job = await queue.getJob(ok.stdout.trim());
    expect(job?.data).toEqual({ trigger: 'manual', streams: ['tags', 'users'], full: true });
    expect(job?.opts.attempts).toBe(5);

    const bad = await runCli(['sync-now', '--streams', 'tags,nope'], vars);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^leeloo-sync: unknown stream nope/)]);

    const down = await runCli(['sync-now'], { ...vars, REDIS_URL: 'redis://:secret@127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^leeloo-sync: Redis unavailable at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?: .*ECONNREFUSED/);
    expect(down.stderr).not.toContain('secret');
  });

  it('a PostgreSQL DATABASE_URL naming a database that does not exist: exit 2, one line naming DATABASE_URL without the password', async () => {
    const { vars } = setup();
    const url = pgUrl(`leeloo_test_absent_${process.pid}`, { name: 'postgres', password: 'pg-secret-9' });
    const w = spawnWorker({ ...vars, DATABASE_URL: url });
    children.push(w);
    const exit = await w.exited;
    expect(exit.code).toBe(2);
    const lines = w.stderr().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^leeloo-sync: DATABASE_URL .*leeloo_test_absent_/)]);
    expect(w.stderr()).not.toContain('pg-secret-9');
  });

  it('refuses to expose the dashboard on a non-loopback address without credentials (exit 2, one line)', async () => {
    const { vars } = setup();
    const w = spawnWorker({ ...vars, DASHBOARD_HOST: '0.0.0.0' });
    children.push(w);
    const exit = await w.exited;
    expect(exit.code).toBe(2);
    expect(w.stderr().trim().split('\n')).toEqual([
      'leeloo-sync: DASHBOARD_HOST=0.0.0.0 is not a loopback address: set DASHBOARD_USER and DASHBOARD_PASSWORD to protect the dashboard, or bind 127.0.0.1',
    ]);
    await sleep(0);
  });
});
