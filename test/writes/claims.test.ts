/**
 * Outbox claims (issue #11): relays of two workers share one database, each through its own
 * store (its own connection, or pool), and claim pending rows concurrently. No row may be claimed
 * twice, and together they claim every row. SQLite: two connections to one file; PostgreSQL: two
 * pools on one database, where the claim's FOR UPDATE SKIP LOCKED is what keeps them apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { silentLogger } from '../../src/log.js';
import { claimPending, enqueueWrites, getWrite } from '../../src/writes/outbox.js';
import { OutboxRelay, type JobPresence, type WriteQueue } from '../../src/writes/relay.js';
import { startWriteQueue } from '../../jobs/writes.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { startSimulator } from '../../src/sim/index.js';
import { simEnv } from '../helpers/mirror.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { REDIS_URL, cleanPrefix, uniquePrefix, waitFor } from './helpers.js';

const PERSON = '5b3f543bb2737000133d25b0';
const ROWS = 200;

/** One worker's queue: records the rows this relay gave a job. */
class RecordingQueue implements WriteQueue {
  readonly jobs = new Map<number, JobPresence>();
  async ready() {
    return true;
  }
  async presence(rowId: number): Promise<JobPresence> {
    return this.jobs.get(rowId) ?? 'missing';
  }
  async remove(rowId: number) {
    this.jobs.delete(rowId);
  }
  async add(rows: readonly { id: number; kind: string }[]) {
    // A turn of the event loop per add, as a real queue's round trip: the other relay runs meanwhile.
    await new Promise((r) => setImmediate(r));
    for (const r of rows) this.jobs.set(r.id, 'live');
  }
}

async function fill(store: Store): Promise<number[]> {
  const rows = await enqueueWrites(
    store,
    Array.from({ length: ROWS }, (_, i) => ({ kind: 'add-comment' as const, target: PERSON, payload: { text: `note ${i}` } })),
  );
  return rows.map((r) => r.id);
}

/** `claimers` loops on `store`, each claiming `batch` rows at a time until nothing is left. */
async function claimAll(store: Store, claimers: number, batch: number): Promise<number[]> {
  const got: number[] = [];
  await Promise.all(
    Array.from({ length: claimers }, async () => {
      for (;;) {
        const rows = await claimPending(store, batch);
        expect(rows.length).toBeLessThanOrEqual(batch);
        if (rows.length === 0) return;
        got.push(...rows.map((r) => r.id));
      }
    }),
  );
  return got;
}

function expectPartition(ids: readonly number[], a: readonly number[], b: readonly number[]): void {
  const all = [...a, ...b];
  expect(new Set(all).size).toBe(all.length);
  expect([...all].sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
  // Both took part: a test where one relay did everything would prove nothing.
  expect(a.length).toBeGreaterThan(0);
  expect(b.length).toBeGreaterThan(0);
}

async function statusCounts(store: Store): Promise<Record<string, number>> {
  const rows = await store.all<{ status: string; n: number }>(sql`SELECT status, count(*) AS n FROM outbound_writes GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

function claimSuite(name: string, open: () => Promise<{ one: Store; two: Store; done(): Promise<void> }>) {
  describe(`outbox claims on ${name}`, () => {
    let stores: { one: Store; two: Store; done(): Promise<void> } | undefined;
    afterEach(async () => {
      await stores?.done();
      stores = undefined;
    });

    it('two stores claiming concurrently never claim one row twice, and together claim all', async () => {
      stores = await open();
      const { one, two } = stores;
      const ids = await fill(one);
      const [a, b] = await Promise.all([claimAll(one, 4, 7), claimAll(two, 4, 7)]);
      expectPartition(ids, a, b);
      expect(await statusCounts(two)).toEqual({ queued: ROWS });
    });

    it("two relays give each row one job, on one worker's queue or the other's", async () => {
      stores = await open();
      const { one, two } = stores;
      const ids = await fill(two);
      const [qa, qb] = [new RecordingQueue(), new RecordingQueue()];
      const ra = new OutboxRelay({ store: one, queue: qa, logger: silentLogger, batch: 9 });
      const rb = new OutboxRelay({ store: two, queue: qb, logger: silentLogger, batch: 9 });
      try {
        // relay() ends when a round comes back short; each keeps going until the outbox is drained.
        const drain = async (r: OutboxRelay) => {
          while ((await r.relay()) > 0);
        };
        await Promise.all([drain(ra), drain(rb)]);
      } finally {
        await Promise.all([ra.stop(), rb.stop()]);
      }
      expectPartition(ids, [...qa.jobs.keys()], [...qb.jobs.keys()]);
      expect(await statusCounts(one)).toEqual({ queued: ROWS });
      expect((await getWrite(one, ids[0]!))?.status).toBe('queued');
    });

    it('two workers (relay, BullMQ, delivery) on one database and one Redis send every write exactly once', async () => {
      stores = await open();
      const { one, two } = stores;
      const sim = await startSimulator({ seed: 51, people: 20 });
      const prefix = uniquePrefix('claims');
      const env = simEnv(sim, join(tmpdir(), 'unused.db'), { WRITE_MAX_ATTEMPTS: '5' });
      const clients = [createClientFromEnv(env, { logger: silentLogger }), createClientFromEnv(env, { logger: silentLogger })];
      const person = String([...sim.store.peopleList()][0]!.id);
      const handles = [];
      try {
        const rows = await enqueueWrites(
          one,
          Array.from({ length: 60 }, (_, i) => ({ kind: 'add-comment' as const, target: person, payload: { text: `note ${i}` } })),
        );
        for (const [i, store] of [one, two].entries()) {
          handles.push(
            await startWriteQueue({ connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix, store, client: clients[i]!, env, logger: silentLogger, pollMs: 20, backoff: { baseMs: 50, maxMs: 200 } }),
          );
        }
        await waitFor('every write to succeed', async () => (await statusCounts(two)).succeeded === rows.length, 30_000);
        const sent = sim.writeLog().filter((e) => e.route === '/api/v2/people/:id/add-comment' && e.params.id === person);
        const texts = sent.map((e) => (e.body as { comment: string }).comment).sort();
        expect(texts).toEqual(rows.map((_, i) => `note ${i}`).sort());
      } finally {
        for (const h of handles) await h.close();
        for (const c of clients) await c.close();
        await sim.close();
        await cleanPrefix(REDIS_URL, prefix);
      }
    });
  });
}

claimSuite('SQLite (two connections to one file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-claims-'));
  const path = join(dir, 'mirror.db');
  const one = await openStore(path);
  const two = await openStore(path);
  return {
    one,
    two,
    async done() {
      await one.close();
      await two.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('PostgreSQL', () => {
  let db: TestDatabase | undefined;
  const openPair = async () => {
    db = await createTestDatabase();
    const url = db.url;
    const one = await openStore(url, { poolSize: 4 });
    const two = await openStore(url, { poolSize: 4 });
    return {
      one,
      two,
      async done() {
        await one.close();
        await two.close();
        await db?.drop();
        db = undefined;
      },
    };
  };
  claimSuite('PostgreSQL (two pools on one database)', openPair);

  it("a claim skips the rows another worker's open transaction holds, instead of waiting for it", async () => {
    const { one, two, done } = await openPair();
    try {
      const ids = await fill(one);
      let theirs: number[] = [];
      const mine = await one.transaction(async () => {
        const rows = await claimPending(one, 10);
        // While these rows are locked, the other worker's claim must come back at once with others.
        // (Awaiting another store inside a transaction breaks the rule of types.ts on purpose: the
        // timer turns a claim that waits for the lock into a failure instead of a deadlock.)
        theirs = await Promise.race([
          claimPending(two, 10).then((r) => r.map((x) => x.id)),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the claim waited for the locked rows')), 5000)),
        ]);
        return rows.map((r) => r.id);
      });
      expect(mine).toEqual(ids.slice(0, 10));
      expect(theirs).toEqual(ids.slice(10, 20));
    } finally {
      await done();
    }
  });
});
