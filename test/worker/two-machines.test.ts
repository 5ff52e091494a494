/**
 * Issue #11 "Two machines": two `leeloo-sync worker` processes, each in a working directory of
 * its own (standing in for two hosts), share one Redis and one PostgreSQL database. A full sync
 * split into per-stream-group jobs runs every stream exactly once across them; write-backs are
 * sent exactly once across their two relays; and when the worker syncing a stream is SIGKILLed,
 * the other takes its job over once the locks expire, and the mirror is exact.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { SYNC_QUEUE } from '../../jobs/queues.js';
import { WRITES_QUEUE } from '../../jobs/writes.js';
import { loadConfig, type Env } from '../../src/config.js';
import { MIGRATIONS_TABLE } from '../../src/db/migrate.js';
import { openStore, type Store } from '../../src/db/store/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { resolveStreams } from '../../src/sync/engine.js';
import { enqueueWrites } from '../../src/writes/outbox.js';
import { expectMirrorMatchesOn } from '../helpers/expect-mirror.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { cleanupPrefix, REDIS_URL, spawnWorker, testPrefix, waitFor, workerEnvVars, type WorkerChild } from './helpers.js';

// A dead worker's job and stream locks are taken over within a couple of seconds.
const TUNING = ['--lock-ms', '1500', '--stalled-ms', '500'];

type RunRow = { stream: string; status: string; started_at: string };

describe('two machines: two worker processes on one Redis and one PostgreSQL', () => {
  let sim: Simulator;
  let db: TestDatabase;
  let store: Store;
  let env: Env;
  let vars: Record<string, string>;
  let queue: Queue;
  const prefix = testPrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const dirs: string[] = [];
  const machines: { dir: string; w: WorkerChild; name: string; dashboard: string }[] = [];
  let groups: string[][];

  async function boot(dir: string) {
    const w = spawnWorker(vars, TUNING, { cwd: dir });
    const ready = await w.waitForLog((l) => l.msg === 'worker ready', 'worker ready', 60_000);
    const m = { dir, w, name: String(ready.worker), dashboard: String(ready.dashboard) };
    machines.push(m);
    return m;
  }

  beforeAll(async () => {
    // Latency stretches a full sync to a few seconds, so the kill lands mid-run.
    sim = await startSimulator({ seed: 23, people: 150, knobs: { latencyMs: 30 } });
    db = await createTestDatabase();
    vars = workerEnvVars(sim, db.url, prefix);
    env = loadConfig(vars);
    queue = new Queue(SYNC_QUEUE, { connection: redis, prefix });
    // People alone (the longest stream, the one killed below); streams that read another's rows
    // in the mirror travel with it, as a real deployment's schedules would group them.
    const all = resolveStreams(undefined, env).map((d) => d.name);
    const together = [['people'], ['communication_channels', 'chat_messages'], ['orders']];
    groups = [...together, all.filter((s) => !together.flat().includes(s))];
    for (const name of ['machine-a', 'machine-b']) dirs.push(mkdtempSync(join(tmpdir(), `ls-${name}-`)));
    // Both boot at once: the migration runs once under its advisory lock.
    await Promise.all(dirs.map((d) => boot(d)));
    store = await openStore(db.url, { migrate: false, poolSize: 2 });
  }, 120_000);

  afterAll(async () => {
    for (const { w } of machines) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(machines.map(({ w }) => w.exited));
    await store?.close();
    await queue?.close();
    redis.disconnect();
    await sim?.close();
    await cleanupPrefix(prefix);
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const runsSince = (since: string) =>
    store.all<RunRow>(sql`SELECT stream, status, started_at FROM sync_runs WHERE started_at >= ${since} ORDER BY stream, started_at`);

  async function settle(ids: string[], timeoutMs = 90_000): Promise<Job[]> {
    return waitFor(
      `jobs ${ids.join(', ')} to finish`,
      async () => {
        const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
        if (!states.every((s) => s === 'completed' || s === 'failed')) return undefined;
        return (await Promise.all(ids.map((id) => queue.getJob(id)))) as Job[];
      },
      timeoutMs,
      100,
    );
  }

  const mirrorRows = <R,>(q: string) => store.all<R>(sql.raw(q));

  it('a full sync split across both runs every stream exactly once, to a mirror equal to the API', async () => {
    const since = new Date().toISOString();
    const ids = [];
    for (const streams of groups) ids.push((await enqueueSyncNow(env, { streams, full: true })).id);
    const jobs = await settle(ids);
    for (const j of jobs) expect(await j.getState(), j.failedReason).toBe('completed');
    // Split across the two machines, not run by one of them.
    expect(new Set(jobs.map((j) => j.processedBy))).toEqual(new Set(machines.map((m) => m.name)));

    const runs = await runsSince(since);
    expect(runs.map((r) => [r.stream, r.status])).toEqual(groups.flat().sort().map((s) => [s, 'succeeded']));
    await expectMirrorMatchesOn(mirrorRows, sim);
    // Each machine's /metrics reads the last successes from PostgreSQL, whoever ran the stream.
    const lastPeople = (await store.get<{ at: string }>(sql`SELECT finished_at AS "at" FROM sync_runs WHERE stream = 'people'`))!.at;
    for (const { dashboard } of machines) {
      const body = await (await fetch(`${dashboard}/metrics`)).text();
      expect(body).toContain(`leeloo_sync_last_success_timestamp_seconds{stream="people"} ${Date.parse(lastPeople) / 1000}`);
    }
    // Booted together on an empty database, they applied each migration once between them.
    const journal = JSON.parse(readFileSync(new URL('../../migrations-pg/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
    const applied = await store.all<{ hash: string }>(sql.raw(`SELECT hash FROM "${MIGRATIONS_TABLE}"`));
    expect(applied.length).toBe(journal.entries.length);
    expect(new Set(applied.map((m) => m.hash)).size).toBe(applied.length);
    // Nothing of the mirror lives in either machine's working directory.
    for (const { dir } of machines) expect(readdirSync(dir)).toEqual([]);
  });

  it('write-backs queued in the PostgreSQL outbox are sent exactly once across the two relays', async () => {
    const person = String([...sim.store.peopleList()][0]!.id);
    const texts = Array.from({ length: 40 }, (_, i) => `two machines note ${i}`);
    const rows = await enqueueWrites(
      store,
      texts.map((text) => ({ kind: 'add-comment' as const, target: person, payload: { text } })),
    );
    const ids = rows.map((r) => r.id);
    await waitFor(
      'every write to succeed',
      async () => {
        const done = await store.all<{ id: number }>(sql`SELECT id FROM outbound_writes WHERE status = 'succeeded'`);
        return done.length === ids.length;
      },
      60_000,
      100,
    );
    const sent = sim
      .writeLog()
      .filter((e) => e.route === '/api/v2/people/:id/add-comment' && e.params.id === person)
      .map((e) => (e.body as { comment: string }).comment);
    expect(sent.sort()).toEqual([...texts].sort());

    const writes = new Queue(WRITES_QUEUE, { connection: redis, prefix });
    try {
      const done = await writes.getJobs(['completed']);
      expect(done.length).toBe(ids.length);
      // Delivered by both machines' workers, each row once.
      expect(new Set(done.map((j) => j.processedBy))).toEqual(new Set(machines.map((m) => m.name)));
    } finally {
      await writes.close();
    }
  });

  it('SIGKILL the machine syncing people mid-run: the other takes the job over and the mirror is exact', async () => {
    const since = new Date().toISOString();
    const ids = [];
    for (const streams of groups) ids.push((await enqueueSyncNow(env, { streams, full: true })).id);
    const peopleJob = ids[0]!;

    // The machine whose run of people is under way: its job started, its run row says running.
    const victim = await waitFor(
      'a machine to be syncing people',
      async () => {
        const running = (await runsSince(since)).some((r) => r.stream === 'people' && r.status === 'running');
        return running ? machines.find((m) => m.w.lines.some((l) => l.msg === 'sync job started' && l.jobId === peopleJob)) : undefined;
      },
      60_000,
      20,
    );
    victim.w.child.kill('SIGKILL');
    expect((await victim.w.exited).signal).toBe('SIGKILL');
    const survivor = machines.find((m) => m !== victim)!;
    // Really mid-run: the job is still claimed by the dead worker, its run never finished.
    expect(await queue.getJobState(peopleJob)).toBe('active');
    expect((await runsSince(since)).filter((r) => r.stream === 'people').map((r) => r.status)).toEqual(['running']);

    const jobs = await settle(ids);
    for (const j of jobs) expect(await j.getState(), j.failedReason).toBe('completed');
    const taken = jobs[0]!;
    expect(taken.processedBy).toBe(survivor.name);
    // Taken over through BullMQ's stalled-job check once the dead worker's lock expired.
    expect(survivor.w.lines.some((l) => l.msg.startsWith('job stalled') && l.jobId === peopleJob)).toBe(true);

    const runs = await runsSince(since);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    // The killed run is marked interrupted; every stream, people included, succeeded once.
    expect(runs.filter((r) => r.status === 'interrupted').map((r) => r.stream)).toEqual(['people']);
    expect(runs.filter((r) => r.status === 'succeeded').map((r) => r.stream)).toEqual(groups.flat().sort());
    await expectMirrorMatchesOn(mirrorRows, sim);

    survivor.w.child.kill('SIGTERM');
    expect((await survivor.w.exited).code).toBe(0);
  });
});
