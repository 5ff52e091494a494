import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { startWorker, type WorkerRuntime } from '../../jobs/runtime.js';
import type { SyncJobResult } from '../../jobs/queues.js';
import { judgeRun } from '../../jobs/sync.js';
import { openMirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { newCounters } from '../../src/sync/context.js';
import type { RunResult, StreamResult } from '../../src/sync/engine.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';
import { cleanupPrefix, memoryLogger, testPrefix, waitFor, workerEnv } from './helpers.js';

async function waitForState(queue: Queue, id: string, states: string[], timeoutMs = 30_000) {
  return waitFor(`job ${id} in ${states.join('/')}`, async () => {
    const state = await queue.getJobState(id);
    // Fetched after the state matched, so returnvalue and attempts are those of that state.
    return states.includes(state) ? await queue.getJob(id) : undefined;
  }, timeoutMs);
}

/** The value of one sample of the Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('worker jobs', () => {
  let sim: Simulator;
  let rt: WorkerRuntime;
  let queue: Queue;
  const prefix = testPrefix();
  const db = tempDbPath('ls-worker-jobs-');
  const { logger, lines } = memoryLogger();
  let env: ReturnType<typeof workerEnv>;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, people: 30, knobs: { latencyMs: 1 } });
    env = workerEnv(sim, db.path, prefix);
    rt = await startWorker({ env, logger, tuning: { lockMs: 2000 }, clientOptions: { retryBaseMs: 5, retryMaxMs: 50 } });
    await rt.ready;
    queue = rt.queues[0]!;
  });
  afterAll(async () => {
    await rt?.close(5000);
    await sim?.close();
    await cleanupPrefix(prefix);
    db.cleanup();
  });

  it('runs a sync-now job through the same engine as the CLI, to a mirror equal to the API', async () => {
    const { id, deduplicated } = await enqueueSyncNow(env, {});
    expect(deduplicated).toBe(false);
    const job = await waitForState(queue, id, ['completed', 'failed']);
    expect(await job.getState(), job.failedReason).toBe('completed');
    expect((job.returnvalue as SyncJobResult).streams?.every((s) => s.status === 'succeeded')).toBe(true);
    const m = openMirror(db.path);
    try {
      expectMirrorMatches(m.sqlite, sim);
      const triggers = m.sqlite.prepare('SELECT DISTINCT trigger FROM sync_runs').all();
      expect(triggers).toEqual([{ trigger: 'manual' }]);
    } finally {
      m.close();
    }
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    sim.setKnobs({ faultRate: 1, faultKinds: ['5xx'] });
    const { id } = await enqueueSyncNow(env, { streams: ['tags'] });
    // First attempt fails (the client's own retries exhausted) and waits out BullMQ's backoff.
    const job = await waitForState(queue, id, ['delayed', 'failed']);
    expect(await job.getState()).toBe('delayed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/tags: .*5\d\d/);
    sim.setKnobs({ faultRate: 0 });
    await job.promote(); // skip the 30 s backoff
    const done = await waitForState(queue, id, ['completed', 'failed']);
    expect(await done.getState()).toBe('completed');
    expect(done.attemptsMade).toBe(2);
    expect(lines.filter((l) => l.jobId === id).map((l) => l.msg)).toEqual(
      expect.arrayContaining(['sync job failed; retrying with backoff', 'sync job completed']),
    );
    expect(lines.some((l) => l.jobId === id && l.msg === 'job failed for good')).toBe(false);
  });

  it('exposes rows, requests, retries, 429s, job durations, queue depths and last success on /metrics', async () => {
    sim.setKnobs({ faultRate: 0.3, faultKinds: ['429'], retryAfterSeconds: 0 });
    const { id } = await enqueueSyncNow(env, { streams: ['people'], full: true });
    const job = await waitForState(queue, id, ['completed', 'failed']);
    sim.setKnobs({ faultRate: 0 });
    expect(await job.getState(), job.failedReason).toBe('completed');

    const res = await fetch(`${rt.dashboard!.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'leeloo_sync_rows_synced_total', { stream: 'people', op: 'inserted' })).toBe(30);
    expect(sample(text, 'leeloo_sync_rows_synced_total', { stream: 'chat_messages', op: 'inserted' })).toBeGreaterThan(0);
    expect(sample(text, 'leeloo_sync_api_requests_total', { route: '/api/v2/people/:id', status: '200' })).toBeGreaterThanOrEqual(60);
    expect(sample(text, 'leeloo_sync_api_requests_total', { status: '429' })).toBeGreaterThan(0);
    expect(sample(text, 'leeloo_sync_api_rate_limited_total')).toBeGreaterThan(0);
    expect(sample(text, 'leeloo_sync_api_retries_total')).toBeGreaterThan(0);
    expect(sample(text, 'leeloo_sync_jobs_total', { name: 'sync-now', outcome: 'completed' })).toBe(3);
    expect(sample(text, 'leeloo_sync_jobs_total', { name: 'sync-now', outcome: 'retry' })).toBe(1);
    expect(sample(text, 'leeloo_sync_job_duration_seconds_count', { queue: 'sync', name: 'sync-now', outcome: 'completed' })).toBe(3);
    expect(sample(text, 'leeloo_sync_queue_jobs', { queue: 'sync', state: 'completed' })).toBe(3);
    expect(sample(text, 'leeloo_sync_queue_jobs', { queue: 'sync', state: 'delayed' })).toBe(1); // the nightly scheduler's next run
    const last = sample(text, 'leeloo_sync_last_success_timestamp_seconds', { stream: 'people' });
    expect(last).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(last).toBeLessThanOrEqual(Date.now() / 1000);
    expect(text).toContain('leeloo_sync_process_cpu_seconds_total');
    // A fixed LEELOO_RATE_LIMIT (5000 here) is the current rate; nothing is learned.
    expect(sample(text, 'leeloo_sync_rate_limit_current', { mode: 'fixed' })).toBe(5000);
    expect(sample(text, 'leeloo_sync_rate_limit_learned')).toBeUndefined();
  });

  it('fails a job with a permanent error (bad token) at once, without retries, and reports it', async () => {
    const badPrefix = testPrefix();
    const bad = memoryLogger();
    const badEnv = workerEnv(sim, db.path, badPrefix, { LEELOO_API_TOKEN: 'not-the-token' });
    const badRt = await startWorker({ env: badEnv, logger: bad.logger, tuning: { lockMs: 2000 }, dashboard: false });
    try {
      await badRt.ready;
      const { id } = await enqueueSyncNow(badEnv, { streams: ['people', 'tags'] });
      const job = await waitForState(badRt.queues[0]!, id, ['failed', 'delayed']);
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.opts.attempts).toBe(5);
      expect(job.failedReason).toMatch(/^permanent failure: .*401/);
      expect(bad.lines.some((l) => l.msg === 'job failed for good' && l.jobId === id)).toBe(true);
    } finally {
      await badRt.close(5000);
      await cleanupPrefix(badPrefix);
    }
  });

  it('deduplicates a repeated sync-now while the first still waits', async () => {
    // No worker on this prefix: the first request stays waiting.
    const idlePrefix = testPrefix();
    const idleEnv = workerEnv(sim, db.path, idlePrefix);
    try {
      const a = await enqueueSyncNow(idleEnv, { streams: ['people', 'tags'] });
      const b = await enqueueSyncNow(idleEnv, { streams: ['tags', 'people'] });
      const c = await enqueueSyncNow(idleEnv, { streams: ['tags', 'people'], full: true });
      expect(b).toEqual({ id: a.id, deduplicated: true });
      expect(c.deduplicated).toBe(false);
      expect(c.id).not.toBe(a.id);
    } finally {
      await cleanupPrefix(idlePrefix);
    }
  });

  it('runs the nightly job as a reconcile, and sync-now only when asked', async () => {
    const nightly = (await queue.getJobSchedulers()).find((x) => x.key === 'nightly');
    expect(nightly?.template?.data).toEqual({ trigger: 'nightly', reconcile: true });
    const job = await queue.add('nightly', nightly!.template!.data);
    const done = await waitForState(queue, job.id!, ['completed', 'failed']);
    expect(await done.getState(), done.failedReason).toBe('completed');
    const asked = await enqueueSyncNow(env, { streams: ['people'], reconcile: true });
    const plain = await enqueueSyncNow(env, { streams: ['people'] });
    expect(plain.id).not.toBe(asked.id);
    for (const id of [asked.id, plain.id]) expect(await (await waitForState(queue, id, ['completed', 'failed'])).getState()).toBe('completed');
    const m = openMirror(db.path);
    try {
      const triggers = (runId: string | undefined) => m.sqlite.prepare('SELECT DISTINCT trigger FROM sync_runs WHERE run_id = ?').pluck().all(runId);
      expect(triggers((done.returnvalue as SyncJobResult).runId)).toEqual(['nightly+reconcile']);
      const runOf = async (id: string) => ((await queue.getJob(id))!.returnvalue as SyncJobResult).runId;
      expect(triggers(await runOf(asked.id))).toEqual(['manual+reconcile']);
      expect(triggers(await runOf(plain.id))).toEqual(['manual']);
      // The reconcile passes keep their own progress, beside the incremental cursors.
      const parts = m.sqlite.prepare("SELECT stream FROM sync_state WHERE partition = 'reconcile' ORDER BY stream").pluck().all();
      expect(parts).toEqual(['communication_channels', 'people']);
      expectMirrorMatches(m.sqlite, sim);
    } finally {
      m.close();
    }
  });
});

describe('judgeRun', () => {
  const s = (stream: string, status: StreamResult['status'], permanent?: boolean): StreamResult => ({
    stream,
    status,
    counters: newCounters(),
    permanent,
    error: status === 'succeeded' ? undefined : `${stream} broke`,
    startedAt: '',
    finishedAt: '',
  });
  const run = (...streams: StreamResult[]): RunResult => ({ runId: 'r', ok: streams.every((x) => x.status === 'succeeded'), streams, meanInFlight: 1 });

  it('fails for good only when every failed stream failed permanently', () => {
    expect(judgeRun(run(s('people', 'succeeded')))).toEqual({ kind: 'ok' });
    expect(judgeRun(run(s('people', 'failed', true), s('chat_messages', 'skipped'), s('tags', 'interrupted'))).kind).toBe('permanent');
    expect(judgeRun(run(s('people', 'failed', true), s('tags', 'failed', false))).kind).toBe('transient');
    expect(judgeRun(run(s('people', 'interrupted'))).kind).toBe('transient');
  });
});
