/**
 * deliver(): one attempt of one row against the simulator, without BullMQ. Covers the decision
 * logic: permanent errors, ambiguity, verification after an interrupted attempt, 429 accounting,
 * attempt limits, rows inserted by SQL.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store/types.js';
import { createClientFromEnv, type LeelooClient } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import { deliver, type DeliveryOutcome } from '../../src/writes/deliver.js';
import { enqueueWrite, getWrite, retryWrite, type OutboxRow } from '../../src/writes/outbox.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { simEnv } from '../helpers/mirror.js';
import { requests, syncedCompany, type Fixtures } from './fixtures.js';

const ADD_TAG = 'PUT /api/v2/people/:id/add-tag';
const SEND = 'POST /api/v2/messages/send-message';
const opts = { maxAttempts: 4, backoff: { baseMs: 1000, maxMs: 8000 } };

describe.each(BACKENDS)('deliver (%s)', (backend) => {
  let sim: Simulator;
  let store: Store;
  let client: LeelooClient;
  let fx: Fixtures;
  const db = useBackendDb(backend);
  /** A row inserted by SQL, as a SQL user would, bypassing enqueueWrite's checks. */
  const ins = async (kind: string, target: string, payload: string) =>
    Number((await store.get<{ id: number }>(sql`INSERT INTO outbound_writes (kind, target_id, payload) VALUES (${kind}, ${target}, ${payload}) RETURNING id`))!.id);
  const tagsOf = async (person: string) => (await store.all<{ tag: string }>(sql`SELECT tag FROM person_tags WHERE person_id = ${person} ORDER BY tag`)).map((r) => r.tag);

  beforeAll(async () => {
    ({ sim, store, fx } = await syncedCompany(db.url, { seed: 21, people: 60 }, ['tags', 'people', 'communication_channels', 'orders']));
    client = createClientFromEnv(simEnv(sim, db.url), { logger: silentLogger });
  });
  afterAll(async () => {
    await client?.close();
    await store?.close();
    await sim?.close();
  });
  beforeEach(() => sim.setKnobs({ faultRate: 0, faultKinds: ['5xx', '429', 'truncated', 'drop', 'slow'] }));

  it('a permanent API error makes the row dead after exactly one request, with the answer recorded', async () => {
    const ghost = 'ffffffffffffffffffffffff';
    const row = await enqueueWrite(store, { kind: 'add-tag', target: ghost, payload: { tag_id: fx.tags[0]!.id } });
    const before = requests(sim, ADD_TAG);
    expect(await deliver(store, client, row.id, opts)).toMatchObject({ outcome: 'dead' });
    expect(requests(sim, ADD_TAG) - before).toBe(1);
    const after = (await getWrite(store, row.id))!;
    expect(after).toMatchObject({ status: 'dead', attempts: 1, inflight_at: null });
    expect(after.last_error).toMatch(/HTTP 404/);
    expect(JSON.parse(after.api_response!)).toEqual({ kind: 'http', http_status: 404, body: { status: 0, error: { code: 'NOT_FOUND' } } });
    expect(after.completed_at).not.toBeNull();

    // The API refusing to update an order that is not MANUAL: same, one request.
    const order = fx.otherOrders[0]!;
    const upd = await enqueueWrite(store, { kind: 'update-order', target: order.id, payload: { status: 'RESOLVED' } });
    const b2 = requests(sim, 'POST /api/v2/orders/:id');
    expect(await deliver(store, client, upd.id, opts)).toMatchObject({ outcome: 'dead', error: expect.stringMatching(/ORDER_NOT_MANUAL/) });
    expect(requests(sim, 'POST /api/v2/orders/:id') - b2).toBe(1);
  });

  it('a non-idempotent write whose connection dropped becomes ambiguous and is not resent', async () => {
    const channel = fx.channels[0]!.id;
    const row = await enqueueWrite(store, { kind: 'send-message', target: channel, payload: { text: 'are you still interested?' } });
    sim.setKnobs({ faultRate: 1, faultKinds: ['drop'] });
    const before = requests(sim, SEND);
    const d = await deliver(store, client, row.id, opts);
    sim.setKnobs({ faultRate: 0 });
    expect(d).toMatchObject({ outcome: 'ambiguous', error: expect.stringMatching(/may have been applied.*outbox retry/) });
    expect(requests(sim, SEND) - before).toBe(1);
    expect(await getWrite(store, row.id)).toMatchObject({ status: 'ambiguous', attempts: 1 });
    // Delivering the row again (a re-delivered job) sends nothing.
    expect(await deliver(store, client, row.id, opts)).toEqual({ outcome: 'skipped', status: 'ambiguous' });
    expect(requests(sim, SEND) - before).toBe(1);

    // The user decides: `outbox retry` sends it once more.
    await retryWrite(store, row.id);
    expect(await deliver(store, client, row.id, opts)).toMatchObject({ outcome: 'succeeded', verified: false });
    expect(requests(sim, SEND) - before).toBe(2);
    const local = await store.get(sql`SELECT channel_id, text, type FROM chat_messages WHERE id = ${`outbox-${row.id}`}`);
    expect(local).toEqual({ channel_id: channel, text: 'are you still interested?', type: 'YOUR_MESSAGE' });
  });

  it('an idempotent write that failed after it may have landed is checked before it is resent: applied once', async () => {
    const pairs = fx.missingTagPairs(8);
    sim.setKnobs({ faultRate: 1, faultKinds: ['5xx'] });
    const rows: OutboxRow[] = [];
    for (const p of pairs) {
      const row = await enqueueWrite(store, { kind: 'add-tag', target: p.person, payload: { tag: p.tag.id } });
      const d = await deliver(store, client, row.id, opts);
      expect(d).toMatchObject({ outcome: 'retry', rateLimited: false });
      if (d.outcome === 'retry') expect(d.delayMs).toBeGreaterThanOrEqual(500); // equal jitter: at least half of 1 s
      expect((await getWrite(store, row.id))!.inflight_at).not.toBeNull();
      rows.push(row);
    }
    sim.setKnobs({ faultRate: 0 });
    const outcomes: DeliveryOutcome[] = [];
    for (const row of rows) outcomes.push(await deliver(store, client, row.id, opts));
    const log = sim.writeLog();
    for (const [i, p] of pairs.entries()) {
      // The simulator applies a 5xx-faulted write half the time; either way it is applied exactly once.
      expect(log.filter((e) => e.route === '/api/v2/people/:id/add-tag' && e.params.id === p.person && (e.body as { tag_id: string }).tag_id === p.tag.id)).toHaveLength(1);
      expect(fx.tagsOf(p.person)).toContain(p.tag.name);
      expect(outcomes[i]).toMatchObject({ outcome: 'succeeded' });
      expect(await getWrite(store, rows[i]!.id)).toMatchObject({ status: 'succeeded', attempts: 2, inflight_at: null });
    }
    const verified = outcomes.filter((o) => o.outcome === 'succeeded' && o.verified).length;
    expect(verified).toBeGreaterThan(0); // some landed despite the 5xx and were not sent again
    expect(verified).toBeLessThan(pairs.length);
  });

  it('after a worker died mid-request: idempotent writes are verified, non-idempotent ones become ambiguous', async () => {
    const [p] = fx.missingTagPairs(1);
    const tagRow = await enqueueWrite(store, { kind: 'add-tag', target: p!.person, payload: { tag: p!.tag.name } });
    const comment = await enqueueWrite(store, { kind: 'add-comment', target: p!.person, payload: { text: 'note' } });
    // What a SIGKILL right after the request left looks like: the request applied, the row in flight.
    await client.addTag(p!.person, p!.tag.id);
    await store.run(sql`UPDATE outbound_writes SET attempts = 1, inflight_at = '2020-01-01T00:00:00.000Z dead' WHERE id IN (${tagRow.id}, ${comment.id})`);
    const tagsBefore = requests(sim, ADD_TAG);
    const commentsBefore = requests(sim, 'PUT /api/v2/people/:id/add-comment');
    expect(await deliver(store, client, tagRow.id, opts)).toMatchObject({ outcome: 'succeeded', verified: true });
    expect(requests(sim, ADD_TAG)).toBe(tagsBefore);
    expect(await deliver(store, client, comment.id, opts)).toMatchObject({ outcome: 'ambiguous', error: expect.stringMatching(/interrupted/) });
    expect(requests(sim, 'PUT /api/v2/people/:id/add-comment')).toBe(commentsBefore);
    expect(await getWrite(store, comment.id)).toMatchObject({ status: 'ambiguous', attempts: 1, inflight_at: null });
    // The mirror shows the tag, as it would for a sent one.
    expect(await tagsOf(p!.person)).toContain(p!.tag.name);
  });

  it('a 429 waits for Retry-After and does not count as an attempt', async () => {
    const [p] = fx.missingTagPairs(1);
    const row = await enqueueWrite(store, { kind: 'add-tag', target: p!.person, payload: { tag: p!.tag.name } });
    sim.setKnobs({ faultRate: 1, faultKinds: ['429'], retryAfterSeconds: 2 });
    const d = await deliver(store, client, row.id, opts);
    sim.setKnobs({ faultRate: 0, retryAfterSeconds: 1 });
    expect(d).toEqual({ outcome: 'retry', delayMs: 2000, rateLimited: true, error: expect.stringMatching(/rate_limited HTTP 429/) });
    expect(await getWrite(store, row.id)).toMatchObject({ status: 'pending', attempts: 0, inflight_at: null });
    expect(await deliver(store, client, row.id, opts)).toMatchObject({ outcome: 'succeeded' });
  });

  it('a retryable failure that outlasts the attempts makes the row dead', async () => {
    const [p] = fx.missingTagPairs(1);
    const row = await enqueueWrite(store, { kind: 'add-tag', target: p!.person, payload: { tag: p!.tag.name } });
    sim.setKnobs({ faultRate: 1, faultKinds: ['5xx'] });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await deliver(store, client, row.id, { ...opts, maxAttempts: 3 })).outcome);
    sim.setKnobs({ faultRate: 0 });
    expect(seen).toEqual(['retry', 'retry', 'dead']);
    expect(await getWrite(store, row.id)).toMatchObject({ status: 'dead', attempts: 3, last_error: expect.stringMatching(/^gave up after 3 attempts; last error: .*HTTP 5\d\d/) });
  });

  it("a SQL row cannot carry the worker's internal fields: tag_name is refused, and the name always comes from the mirror", async () => {
    const [p] = fx.missingTagPairs(1);
    const before = requests(sim, ADD_TAG);
    const injected = await ins('add-tag', p!.person, JSON.stringify({ tag_id: p!.tag.id, tag_name: 'injected-name' }));
    expect(await deliver(store, client, injected, opts)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^tag_name: is not a field of this operation \(its fields: tag, tag_id\)$/) });
    expect(requests(sim, ADD_TAG)).toBe(before);
    expect(await tagsOf(p!.person)).not.toContain('injected-name');

    const byId = await ins('add-tag', p!.person, JSON.stringify({ tag_id: p!.tag.id }));
    expect(await deliver(store, client, byId, opts)).toMatchObject({ outcome: 'succeeded' });
    expect(await tagsOf(p!.person)).toContain(p!.tag.name);
    expect(await tagsOf(p!.person)).not.toContain('injected-name');
    // What enqueueWrite stores carries no internal field either.
    const row = await enqueueWrite(store, { kind: 'remove-tag', target: p!.person, payload: { tag: p!.tag.name } });
    expect(JSON.parse(row.payload)).toEqual({ tag_id: p!.tag.id });
  });

  it('an oversized SQL row ends failed naming the field and its limit, and is never sent', async () => {
    const all = () => Object.values(sim.requestCounts()).reduce((a, n) => a + n, 0);
    const before = all();
    const huge = await ins('add-comment', fx.people[0]!.id, JSON.stringify({ text: 'x'.repeat(20 * 1024 * 1024) }));
    const long = await ins('send-message', fx.channels[0]!.id, JSON.stringify({ text: 'é'.repeat(4097) }));
    const nested = await ins('send-template', fx.channels[0]!.id, JSON.stringify({ template_id: fx.people[0]!.id, variables: { name: { first: 'Ann' } } }));
    const d = await deliver(store, client, huge, opts);
    expect(d).toMatchObject({ outcome: 'failed', error: 'text: must be at most 10000 characters (got 20971520)' });
    expect(await getWrite(store, huge)).toMatchObject({ status: 'failed', attempts: 0, last_error: 'text: must be at most 10000 characters (got 20971520)' });
    expect(await deliver(store, client, long, opts)).toMatchObject({ outcome: 'failed', error: 'text: must be at most 4096 characters (got 4097)' });
    expect(await deliver(store, client, nested, opts)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^variables\.name: must be text or a number/) });
    expect(all()).toBe(before);
  });

  it('rows inserted by SQL with bad input end failed with the message, without a request; cancelled rows are skipped', async () => {
    const bad: [number, RegExp][] = [
      [await ins('add-tag', fx.people[0]!.id, '{"tag":"no such tag"}'), /^tag: unknown tag "no such tag"/],
      [await ins('update-order', fx.manualOrders[0]!.id, '{"status":"PAID"}'), /^status: must be RESOLVED or REJECTED/],
      [await ins('send-message', 'not-an-id', '{"text":"x"}'), /^channel \(target_id\): must be a 24-hex id/],
      [await ins('update-person', fx.people[0]!.id, '{"phone":"0669991876"}'), /^phone: must be "\+" followed by/],
      [await ins('tag-person', fx.people[0]!.id, '{}'), /^kind: unknown operation "tag-person"/],
    ];
    // A payload that is not JSON: SQLite stores the text and the worker refuses it; PostgreSQL's
    // jsonb column refuses it at the INSERT (docs/schema.md: jsonb vs JSON text).
    if (backend === 'sqlite') bad.push([await ins('add-comment', fx.people[0]!.id, 'not json'), /^payload: is not valid JSON/]);
    else await expect(ins('add-comment', fx.people[0]!.id, 'not json')).rejects.toThrow(/invalid input syntax for type json/);
    const total = () => Object.entries(sim.requestCounts()).filter(([k]) => !k.startsWith('GET')).reduce((a, [, n]) => a + n, 0);
    const before = total();
    for (const [id, msg] of bad) {
      const d = await deliver(store, client, id, opts);
      expect(d).toMatchObject({ outcome: 'failed', error: expect.stringMatching(msg) });
      expect(await getWrite(store, id)).toMatchObject({ status: 'failed', attempts: 0, last_error: expect.stringMatching(msg) });
    }
    const cancelled = await ins('send-message', fx.channels[0]!.id, '{"text":"never"}');
    await store.run(sql`UPDATE outbound_writes SET status = 'cancelled' WHERE id = ${cancelled}`);
    expect(await deliver(store, client, cancelled, opts)).toEqual({ outcome: 'skipped', status: 'cancelled' });
    expect(total()).toBe(before);
  });
});
