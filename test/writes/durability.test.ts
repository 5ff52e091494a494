/**
 * Durability of the outbox: a worker SIGKILLed mid-delivery, a Redis restarted empty, Redis
 * down. Runs a private redis-server (no persistence), so a restart loses every key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWriteQueue } from '../../jobs/writes.js';
import type { Store } from '../../src/db/store/types.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import type { WriteRequest } from '../../src/writes/validate.js';
import { enqueueWrites, type OutboxRow } from '../../src/writes/outbox.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { simEnv } from '../helpers/mirror.js';
import { syncedCompany, type Fixtures } from './fixtures.js';
import { PrivateRedis, freePort, waitFor } from './helpers.js';

const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));

describe.each(BACKENDS)('outbox durability (%s)', (backend) => {
  let sim: Simulator;
  let store: Store;
  let redis: PrivateRedis;
  let fx: Fixtures;
  const db = useBackendDb(backend);
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    ({ sim, store, fx } = await syncedCompany(db.url, { seed: 41, people: 400, knobs: { latencyMs: 2 } }, ['tags', 'people']));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await store?.close();
    await sim?.close();
    await redis?.stop();
  });

  const statuses = async () =>
    Object.fromEntries((await store.all<{ status: string; n: number }>(sql`SELECT status, count(*) AS n FROM outbound_writes GROUP BY status`)).map((r) => [r.status, r.n]));
  const settled = async () => (await store.get<{ n: number }>(sql`SELECT count(*) AS n FROM outbound_writes WHERE status NOT IN ('pending', 'queued')`))!.n;
  const statusOf = async (id: number) => (await store.get<{ status: string }>(sql`SELECT status FROM outbound_writes WHERE id = ${id}`))?.status;

  function startChild(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: db.url,
        LEELOO_API_URL: sim.url,
        LEELOO_API_TOKEN: sim.token,
        LEELOO_RATE_LIMIT: '200',
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'durability',
        WRITE_MAX_ATTEMPTS: '50',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`worker child exited (${code}) before it was ready: ${err}`)));
    });
  }

  const kill = (c: ChildProcess, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill(signal);
    });

  // Each write costs a PostgreSQL run about twice what it costs SQLite (round trips per claim,
  // attempt and outcome): half the writes there, the same share settled at each fault.
  const total = backend === 'postgres' ? 500 : 1000;

  it(`${total} writes through a SIGKILLed worker and a restarted Redis: idempotent ones applied exactly once, none lost`, { timeout: 120_000 }, async () => {
    const tagPairs = fx.missingTagPairs(total * 0.9);
    const reqs: WriteRequest[] = tagPairs.map((p) => ({ kind: 'add-tag', target: p.person, payload: { tag: p.tag.name } }));
    const comments = Array.from({ length: total * 0.1 }, (_, i) => ({ person: fx.people[i % fx.people.length]!.id, text: `durability note ${i}` }));
    // Interleaved, so both kinds are in flight when the worker dies.
    comments.forEach((c, i) => reqs.splice(i * 10, 0, { kind: 'add-comment', target: c.person, payload: { text: c.text } }));
    const rows = await enqueueWrites(store, reqs);
    expect(rows).toHaveLength(total);

    let worker = await startChild();
    await waitFor('a quarter of the writes settled', async () => (await settled()) >= total / 4, 30_000);
    await kill(worker, 'SIGKILL');
    const atKill = await settled();
    expect(atKill).toBeLessThan(total);

    worker = await startChild();
    await waitFor('55% of the writes settled', async () => (await settled()) >= total * 0.55, 30_000);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 300));
    await redis.start(); // empty: every job and lock is gone
    const atRestart = await settled();
    expect(atRestart).toBeLessThan(total);

    await waitFor('every write settled', async () => (await settled()) === total, 60_000, 100);
    await kill(worker, 'SIGTERM');

    const byId = new Map<number, OutboxRow>((await store.all<OutboxRow>(sql`SELECT * FROM outbound_writes`)).map((r) => [r.id, r]));
    const log = sim.writeLog();
    const tagWrites = new Map<string, number>();
    for (const e of log) {
      if (e.route !== '/api/v2/people/:id/add-tag') continue;
      const key = `${e.params.id} ${(e.body as { tag_id: string }).tag_id}`;
      tagWrites.set(key, (tagWrites.get(key) ?? 0) + 1);
    }
    const bad: string[] = [];
    for (const row of rows) {
      const now = byId.get(row.id)!;
      if (row.kind === 'add-tag') {
        const p = JSON.parse(row.payload) as { tag_id: string };
        const n = tagWrites.get(`${row.target_id} ${p.tag_id}`) ?? 0;
        if (now.status !== 'succeeded' || n !== 1) bad.push(`#${row.id} add-tag ${now.status}, ${n} in the write log (${now.last_error})`);
      } else {
        const text = (JSON.parse(row.payload) as { text: string }).text;
        const n = sim.store.comments(row.target_id!).filter((c) => c.text === text).length;
        // A comment is never sent twice; one cut off mid-request is ambiguous (sent or not), never lost silently.
        if (!((now.status === 'succeeded' && n === 1) || (now.status === 'ambiguous' && n <= 1))) bad.push(`#${row.id} add-comment ${now.status}, ${n} stored`);
      }
    }
    expect(bad).toEqual([]);
    expect((await statuses()).succeeded).toBeGreaterThanOrEqual(total * 0.99);
    // The mirror shows every tag.
    const tagged = new Set((await store.all<{ k: string }>(sql`SELECT person_id || ' ' || tag AS k FROM person_tags`)).map((r) => r.k));
    const missing = tagPairs.filter((p) => !tagged.has(`${p.person} ${p.tag.name}`));
    expect(missing).toEqual([]);
  });

  it('with Redis down, new writes stay pending; they go out once it is back, with queued ones it lost', async () => {
    await redis.stop();
    // Relayed into a Redis that has since lost it: the worker must notice once Redis is back.
    const [orphan] = fx.missingTagPairs(1);
    const [lostRow] = await enqueueWrites(store, [{ kind: 'add-tag', target: orphan!.person, payload: { tag_id: orphan!.tag.id } }]);
    await store.run(sql`UPDATE outbound_writes SET status = 'queued' WHERE id = ${lostRow!.id}`);
    const env = simEnv(sim, db.url);
    const client = createClientFromEnv(env, { logger: silentLogger });
    const h = await startWriteQueue({
      connection: { url: redis.url, maxRetriesPerRequest: null, retryStrategy: () => 100 },
      prefix: 'down',
      store,
      client,
      env,
      logger: silentLogger,
      pollMs: 100,
    });
    try {
      const pairs = fx.missingTagPairs(20);
      const rows = await enqueueWrites(
        store,
        pairs.map((p) => ({ kind: 'add-tag', target: p.person, payload: { tag_id: p.tag.id } })),
      );
      await new Promise((r) => setTimeout(r, 1500));
      const ids = rows.map((r) => r.id);
      const st = async () => (await store.all<{ status: string }>(sql`SELECT status FROM outbound_writes WHERE id IN ${ids}`)).map((r) => r.status);
      expect(new Set(await st())).toEqual(new Set(['pending']));
      expect(await statusOf(lostRow!.id)).toBe('queued');
      await redis.start();
      await waitFor('the writes to go out', async () => (await st()).every((s) => s === 'succeeded'), 20_000);
      for (const p of pairs) expect(fx.tagsOf(p.person)).toContain(p.tag.name);
      // Re-queued on reconnect, not after the minute-long periodic check.
      await waitFor('the lost queued write', async () => (await statusOf(lostRow!.id)) === 'succeeded', 10_000);
      expect(fx.tagsOf(orphan!.person)).toContain(orphan!.tag.name);
    } finally {
      await h.close();
      await client.close();
    }
  });
});
