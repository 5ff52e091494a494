/**
 * The whole write path against the simulator and a real Redis (REDIS_URL, a key prefix of this
 * file's own): outbox → relay → BullMQ → deliver → API → mirror.
 */
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdOf, startWriteQueue, type WriteQueueHandle } from '../../jobs/writes.js';
import type { Store } from '../../src/db/store/types.js';
import { createClientFromEnv, type ClientEvent, type LeelooClient } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cancelWrite, enqueueWrite, getWrite, retryWrite, type OutboxRow } from '../../src/writes/outbox.js';
import type { WriteRequest } from '../../src/writes/validate.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { failures, simEnv, syncStore } from '../helpers/mirror.js';
import { requests, simFixtures, syncedCompany, type Fixtures } from './fixtures.js';
import { REDIS_URL, cleanPrefix, uniquePrefix, waitFinal, waitFor } from './helpers.js';

type Obj = Record<string, unknown>;

describe.each(BACKENDS)('write queue (BullMQ + simulator, %s)', (backend) => {
  let sim: Simulator;
  let store: Store;
  let client: LeelooClient;
  let h: WriteQueueHandle;
  let fx: Fixtures;
  const outcomes: string[] = [];
  const events: (ClientEvent & { at: number })[] = [];
  const db = useBackendDb(backend);
  const prefix = uniquePrefix('queue');

  beforeAll(async () => {
    ({ sim, store, fx } = await syncedCompany(db.url, { seed: 31, people: 80 }));
    const env = simEnv(sim, db.url, { WRITE_MAX_ATTEMPTS: '5' });
    client = createClientFromEnv(env, { logger: silentLogger, onEvent: (e) => events.push({ ...e, at: Date.now() }) });
    h = await startWriteQueue({
      connection: { url: REDIS_URL, maxRetriesPerRequest: null },
      prefix,
      store,
      client,
      env,
      logger: silentLogger,
      onOutcome: (kind, outcome) => outcomes.push(`${kind}:${outcome}`),
      pollMs: 100,
      backoff: { baseMs: 100, maxMs: 1000 },
    });
  });
  afterAll(async () => {
    await h?.close();
    await client?.close();
    await store?.close();
    await sim?.close();
    await cleanPrefix(REDIS_URL, prefix);
  });

  const run = async (req: WriteRequest): Promise<OutboxRow> => {
    const row = await enqueueWrite(store, req);
    const done = await waitFinal(store, row.id);
    expect(done, done.last_error ?? '').toMatchObject({ status: 'succeeded', attempts: 1 });
    return done;
  };
  const q = (query: SQL) => store.get<Obj>(query);

  it('every operation changes the simulated company, and the mirror shows it at once', async () => {
    const [p1, p2] = fx.people;
    const tag = fx.tags.find((t) => !p1!.tags.includes(t.name))!;
    await run({ kind: 'add-tag', target: p1!.id, payload: { tag: tag.name } });
    expect(fx.tagsOf(p1!.id)).toContain(tag.name);
    expect(await q(sql`SELECT 1 AS y FROM person_tags WHERE person_id = ${p1!.id} AND tag = ${tag.name}`)).toEqual({ y: 1 });
    expect(JSON.parse((await q(sql`SELECT tags FROM people WHERE id = ${p1!.id}`))!.tags as string)).toContain(tag.name);

    const tagged = fx.people.find((p) => p.tags.length > 0)!;
    const gone = tagged.tags[0]!;
    await run({ kind: 'remove-tag', target: tagged.id, payload: { tag: gone } });
    expect(fx.tagsOf(tagged.id)).not.toContain(gone);
    expect(await q(sql`SELECT 1 FROM person_tags WHERE person_id = ${tagged.id} AND tag = ${gone}`)).toBeUndefined();

    const comment = await run({ kind: 'add-comment', target: p2!.id, payload: { text: 'Asked for a discount; call back Monday' } });
    const stored = sim.store.comments(p2!.id).at(-1)!;
    expect(stored.text).toBe('Asked for a discount; call back Monday');
    expect(JSON.parse(comment.api_response!)).toMatchObject({ id: stored.id, entity_id: p2!.id });

    await run({ kind: 'update-person', target: p2!.id, payload: { phone: '+380669991876', email: 'new@example.com', custom_fields: [{ type: 'KEYWORD', name: 'city', value: 'Lviv' }] } });
    const d2 = (sim.store.personDetail(p2!.id) as { data: Obj }).data;
    expect(d2).toMatchObject({ phone: '+380669991876', email: 'new@example.com' });
    expect(d2.custom_fields).toContainEqual({ type: 'KEYWORD', name: 'city', value: 'Lviv' });
    expect(await q(sql`SELECT phone, email FROM people WHERE id = ${p2!.id}`)).toEqual({ phone: '+380669991876', email: 'new@example.com' });
    expect(await q(sql`SELECT type, value FROM custom_fields WHERE person_id = ${p2!.id} AND name = 'city'`)).toEqual({ type: 'KEYWORD', value: 'Lviv' });

    const lgt = fx.leadgentools[0]!;
    const created = await run({ kind: 'create-person', target: lgt.id, payload: { name: 'Feliks', email: 'feliks@example.com', phone: '+380953066789' } });
    const answer = JSON.parse(created.api_response!) as { id: string; person_id: string };
    expect((sim.store.personDetail(answer.person_id) as { data: Obj }).data).toMatchObject({ name: 'Feliks', email: 'feliks@example.com' });
    expect(await q(sql`SELECT name, email, phone FROM people WHERE id = ${answer.person_id}`)).toEqual({ name: 'Feliks', email: 'feliks@example.com', phone: '+380953066789' });
    expect(await q(sql`SELECT person_id, source FROM communication_channels WHERE id = ${answer.id}`)).toEqual({ person_id: answer.person_id, source: 'MANUAL' });

    const sms = fx.connections.find((c) => c.type === 'SMS') ?? fx.connections[0]!;
    await run({ kind: 'add-sms-connection', target: lgt.id, payload: { connection_id: sms.id, data: [{ name: 'Olena', phone: '+380667772233' }], tags: [tag.name] } });
    const olena = ([...sim.store.peopleList()] as { id: string; phone: string; tags: string[]; accounts: { from: string }[] }[]).find((p) => p.phone === '+380667772233');
    expect(olena).toMatchObject({ tags: [tag.name] });
    expect(olena!.accounts.map((a) => a.from)).toContain('SMS');

    const order = fx.manualOrders.find((o) => o.status === 'OPENED') ?? fx.manualOrders[0]!;
    await run({ kind: 'update-order', target: order.id, payload: { status: 'RESOLVED', price: 100, currency: 'USD' } });
    expect(sim.store.orderDetail(order.id)).toMatchObject({ status: 'RESOLVED', price: 100, currency: 'USD' });
    expect(await q(sql`SELECT status, price, currency FROM orders WHERE id = ${order.id}`)).toEqual({ status: 'RESOLVED', price: 100, currency: 'USD' });

    const newOrder = await run({ kind: 'create-order', target: p1!.id, payload: { offerId: fx.offers[0]!.id, paymentCreditsId: fx.paymentCredits[0]!.id } });
    const oid = (JSON.parse(newOrder.api_response!) as { id: string }).id;
    expect(sim.store.orderDetail(oid)).toMatchObject({ status: 'OPENED', paymentMethod: 'MANUAL' });
    expect(await q(sql`SELECT person_id, status FROM orders WHERE id = ${oid}`)).toEqual({ person_id: p1!.id, status: 'OPENED' });

    const channel = fx.channels[3]!.id;
    const msg = await run({ kind: 'send-message', target: channel, payload: { text: 'Your order has shipped' } });
    expect(sim.store.chatMessages(channel)![0]).toMatchObject({ text: 'Your order has shipped', type: 'YOUR_MESSAGE' });
    expect(await q(sql`SELECT channel_id, text, type FROM chat_messages WHERE id = ${`outbox-${msg.id}`}`)).toEqual({ channel_id: channel, text: 'Your order has shipped', type: 'YOUR_MESSAGE' });

    const tpl = await run({ kind: 'send-template', target: channel, payload: { template_id: fx.templates[0]!.id, variables: { name: 'Ann' } } });
    const newest = sim.store.chatMessages(channel)![0]!;
    expect(newest.type).toBe('YOUR_MESSAGE');
    expect(newest.text).not.toBe('Your order has shipped');
    expect(await q(sql`SELECT channel_id, type FROM chat_messages WHERE id = ${`outbox-${tpl.id}`}`)).toEqual({ channel_id: channel, type: 'YOUR_MESSAGE' });

    const tunnel = fx.leadgentools[0]!.tunnelId;
    const sub = fx.channels[5]!;
    await run({ kind: 'manual-subscribe', target: sub.id, payload: { tunnel_id: tunnel, tunnel_block_id: 'aaaaaaaaaaaaaaaaaaaaaaaa' } });
    expect((sim.store.personDetail(sub.person_id) as { data: { subscribeHistory: Obj[] } }).data.subscribeHistory).toContainEqual(
      expect.objectContaining({ tunnelId: tunnel, accountId: sub.id }),
    );
    expect(await q(sql`SELECT details_synced_at FROM people WHERE id = ${sub.person_id}`)).toEqual({ details_synced_at: null });

    await run({ kind: 'create-traffic-source', target: lgt.id, payload: { name: 'CRM import', description: 'from leeloo-sync' } });
    expect(sim.store.trafficSources(lgt.id)).toContainEqual(expect.objectContaining({ name: 'CRM import', description: 'from leeloo-sync' }));

    expect(outcomes.filter((o) => o.endsWith(':succeeded'))).toHaveLength(12);

    // The next ordinary sync agrees with what the writes put in the mirror (tag and contact changes
    // do not move lastMessageTime, so the sync alone would not have seen them), and replaces the
    // provisional chat rows with the real messages.
    const again = await syncStore(sim, db.url);
    try {
      expect(failures(again.result)).toEqual([]);
      await expectMirrorMatches(again.store, sim);
      expect(await q(sql`SELECT count(*) AS n FROM chat_messages WHERE id LIKE 'outbox-%'`)).toEqual({ n: 0 });
    } finally {
      await again.store.close();
    }
  });

  it('a permanent API error: dead after exactly one request, its job failed for good', async () => {
    const before = requests(sim, 'PUT /api/v2/people/:id/add-tag');
    const row = await enqueueWrite(store, { kind: 'add-tag', target: 'eeeeeeeeeeeeeeeeeeeeeeee', payload: { tag_id: fx.tags[0]!.id } });
    const done = await waitFinal(store, row.id);
    expect(done).toMatchObject({ status: 'dead', attempts: 1, last_error: expect.stringMatching(/HTTP 404.*NOT_FOUND/) });
    expect(requests(sim, 'PUT /api/v2/people/:id/add-tag') - before).toBe(1);
    await waitFor('the job to fail', async () => (await h.queue.getJobState(jobIdOf(row.id))) === 'failed');
    const job = await h.queue.getJob(jobIdOf(row.id));
    expect(job!.failedReason).toMatch(/^dead: .*HTTP 404/);
    expect(outcomes).toContain('add-tag:dead');
  });

  it('a 429 waits for Retry-After before the next attempt', async () => {
    const [p] = fx.missingTagPairs(1);
    events.length = 0;
    sim.setKnobs({ faultRate: 1, faultKinds: ['429'], retryAfterSeconds: 2 });
    const row = await enqueueWrite(store, { kind: 'add-tag', target: p!.person, payload: { tag: p!.tag.name } });
    const limited = await waitFor('a 429', () => events.find((e) => e.type === 'request' && e.status === 429));
    sim.setKnobs({ faultRate: 0 });
    const done = await waitFinal(store, row.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 }); // the 429 is not an attempt
    const next = events.find((e) => e.type === 'request' && e.at > limited.at && e.status === 200)!;
    expect(next.at - limited.at).toBeGreaterThanOrEqual(1950);
    expect(requests(sim, 'PUT /api/v2/people/:id/add-tag')).toBeGreaterThan(0);
    expect(outcomes).toContain('add-tag:rate_limited');
  });

  it('a row is queued once: a job left behind by a crash is reused, a lost job is re-created', async () => {
    const [a, b] = fx.missingTagPairs(2);
    // Crash between adding the job and marking the row queued: the relay finds the job, adds none.
    await h.worker.pause();
    try {
      const row = await enqueueWrite(store, { kind: 'add-tag', target: a!.person, payload: { tag: a!.tag.name } });
      await h.queue.add('add-tag', { id: row.id }, { jobId: jobIdOf(row.id) });
      expect(await h.relay()).toBeGreaterThanOrEqual(1);
      await h.relay();
      expect((await getWrite(store, row.id))!.status).toBe('queued');
      const jobs = (await h.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])).filter((j) => j.data.id === row.id);
      expect(jobs.map((j) => j.id)).toEqual([jobIdOf(row.id)]);

      // Redis lost the job of a queued row: reconciliation queues it again.
      const lost = await enqueueWrite(store, { kind: 'add-tag', target: b!.person, payload: { tag: b!.tag.name } });
      await store.run(sql`UPDATE outbound_writes SET status = 'queued' WHERE id = ${lost.id}`);
      expect(await h.reconcile()).toBe(1);
      expect(await h.queue.getJobState(jobIdOf(lost.id))).toBe('waiting');
    } finally {
      h.worker.resume();
    }
    for (const p of [a!, b!]) await waitFor(`tag ${p.tag.name} on ${p.person}`, () => fx.tagsOf(p.person).includes(p.tag.name));
    // Each applied once.
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.writeLog().filter((e) => [a!, b!].some((p) => e.params.id === p.person && (e.body as Obj).tag_id === p.tag.id))).toHaveLength(2);
  });

  it('cancel keeps a write from being sent; retry sends it', async () => {
    const channel = fx.channels[7]!.id;
    const before = requests(sim, 'POST /api/v2/messages/send-message');
    await h.worker.pause();
    let row: OutboxRow;
    try {
      row = await enqueueWrite(store, { kind: 'send-message', target: channel, payload: { text: 'cancel me' } });
      await h.relay();
      expect((await getWrite(store, row.id))!.status).toBe('queued');
      expect((await cancelWrite(store, row.id)).status).toBe('cancelled');
    } finally {
      h.worker.resume();
    }
    // The job runs, finds the row cancelled and completes without a request.
    await waitFor('the cancelled job to complete', async () => (await h.queue.getJobState(jobIdOf(row!.id))) === 'completed');
    expect((await getWrite(store, row!.id))!.status).toBe('cancelled');
    expect(requests(sim, 'POST /api/v2/messages/send-message')).toBe(before);

    await retryWrite(store, row!.id);
    expect(await waitFinal(store, row!.id)).toMatchObject({ status: 'succeeded' });
    expect(requests(sim, 'POST /api/v2/messages/send-message')).toBe(before + 1);
  });

  it('a row inserted by plain SQL is delivered; one with bad input ends failed without a request', async () => {
    const [p] = fx.missingTagPairs(1);
    const ins = async (kind: string, target: string, payload: string) =>
      Number((await store.get<{ id: number }>(sql`INSERT INTO outbound_writes (kind, target_id, payload) VALUES (${kind}, ${target}, ${payload}) RETURNING id`))!.id);
    const good = await ins('add-tag', p!.person, JSON.stringify({ tag: p!.tag.name }));
    const bad = await ins('update-order', fx.manualOrders[0]!.id, '{"status":"DONE"}');
    const orderPosts = requests(sim, 'POST /api/v2/orders/:id');
    expect(await waitFinal(store, good)).toMatchObject({ status: 'succeeded' });
    expect(await waitFinal(store, bad)).toMatchObject({ status: 'failed', attempts: 0, last_error: 'status: must be RESOLVED or REJECTED' });
    expect(requests(sim, 'POST /api/v2/orders/:id')).toBe(orderPosts);
    expect(fx.tagsOf(p!.person)).toContain(p!.tag.name);
  });
});

describe.each(BACKENDS)('createWritesModule in the worker runtime (%s)', (backend) => {
  const db = useBackendDb(backend);
  it('delivers, counts writes by kind and outcome in /metrics, and stops with the worker', async () => {
    const { startWorker } = await import('../../jobs/runtime.js');
    const { createWritesModule } = await import('../../jobs/writes.js');
    const sim = await startSimulator({ seed: 33, people: 30 });
    const prefix = uniquePrefix('module');
    const { store } = await syncStore(sim, db.url, { streams: ['tags', 'people'] });
    try {
      const env = simEnv(sim, db.url, { REDIS_URL, REDIS_PREFIX: prefix });
      const rt = await startWorker({ env, logger: silentLogger, modules: [createWritesModule], dashboard: false, tuning: { lockMs: 2000 } });
      try {
        await rt.ready;
        const fx = simFixtures(sim);
        const [p] = fx.missingTagPairs(1);
        const ok = await enqueueWrite(store, { kind: 'add-tag', target: p!.person, payload: { tag: p!.tag.name } });
        const refused = await enqueueWrite(store, { kind: 'add-comment', target: 'dddddddddddddddddddddddd', payload: { text: 'x' } });
        expect(await waitFinal(store, ok.id)).toMatchObject({ status: 'succeeded' });
        expect(await waitFinal(store, refused.id)).toMatchObject({ status: 'dead' });
        const text = await rt.metrics.registry.metrics();
        expect(text).toMatch(/leeloo_sync_writes_total\{kind="add-tag",outcome="succeeded"\} 1/);
        expect(text).toMatch(/leeloo_sync_writes_total\{kind="add-comment",outcome="dead"\} 1/);
        expect(text).toMatch(/leeloo_sync_outbox_rows\{status="succeeded"\} 1/);
        expect(text).toMatch(/leeloo_sync_queue_jobs\{queue="writes",state="failed"\} 1/);
      } finally {
        expect(await rt.close(10_000)).toEqual({ graceful: true });
      }
    } finally {
      await store.close();
      await sim.close();
      await cleanPrefix(REDIS_URL, prefix);
    }
  });
});
