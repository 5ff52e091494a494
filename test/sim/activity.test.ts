import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseSimOptions } from '../../src/cli/sim.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, WIDE, get } from './helpers.js';

describe('activity', () => {
  let sim: Simulator;
  afterEach(() => sim.close());

  it('new messages move lastMessageTime of the channel and its person to the real current time', async () => {
    sim = await startSimulator({ seed: 8, people: 200, now: NOW });
    const t0 = Date.now();
    const before = sim.store.counts();
    const report = sim.activity({ messages: 6 });
    expect(report.messagedChannelIds).toHaveLength(6);
    const channels = [...sim.store.channelsList()];
    const people = new Map([...sim.store.peopleList()].map((p) => [p.id, p]));
    for (const id of report.messagedChannelIds) {
      const c = channels.find((x) => x.id === id)!;
      expect(Date.parse(c.lastMessageTime!)).toBeGreaterThanOrEqual(t0);
      const last = sim.store.chatMessages(id)![0]!;
      expect(last).toMatchObject({ type: 'FRIEND_MESSAGE', createdAt: c.lastMessageTime });
      const p = people.get(c.person_id)!;
      expect(p.lastMessageTime! >= c.lastMessageTime!).toBe(true);
      expect(sim.store.personDetail(p.id)!.data.updated_at >= c.lastMessageTime!).toBe(true);
    }
    const moved = new Set(report.messagedChannelIds);
    expect(channels.slice(0, moved.size).every((c) => moved.has(c.id))).toBe(true);
    expect(sim.store.counts().messages).toBe(before.messages + 6);
    // The seeded window no longer holds them: they left for "now".
    const old = await get(sim, `/api/v2/communication-channels?filter[last_message][to]=${encodeURIComponent(NOW.toISOString())}&limit=10000`);
    expect(old.json.meta.totalCount).toBe(before.channels - moved.size);
  });

  it('adds people, changes and adds orders', async () => {
    sim = await startSimulator({ seed: 8, people: 200, now: NOW });
    const t0 = Date.now();
    const before = sim.store.counts();
    const ordersBefore = new Map([...sim.store.ordersList()].map((o) => [o.id, o]));
    const r = sim.activity({ newPeople: 3, orderChanges: 4, newOrders: 2 });
    expect(sim.store.counts().people).toBe(before.people + 3);
    const top = [...sim.store.peopleList()].slice(0, 3).map((p) => p.id);
    expect(new Set(top)).toEqual(new Set(r.newPersonIds));
    for (const id of r.newPersonIds) {
      const d = sim.store.personDetail(id)!.data;
      expect(Date.parse(d.created_at)).toBeGreaterThanOrEqual(t0);
      for (const a of d.accounts) expect(sim.store.chatMessages(a.account_id)!.length).toBeGreaterThan(0);
    }
    expect(r.changedOrderIds).toHaveLength(4);
    for (const id of r.changedOrderIds) {
      const now = sim.store.orderDetail(id)!;
      expect(Date.parse(now.updatedAt)).toBeGreaterThanOrEqual(t0);
      // Changed once: the status is a different one.
      if (r.changedOrderIds.filter((x) => x === id).length === 1) expect(now.status).not.toBe(ordersBefore.get(id)!.status);
    }
    expect(sim.store.counts().orders).toBe(before.orders + 2);
    for (const id of r.newOrderIds) expect(ordersBefore.has(id)).toBe(false);
    const listed = (await get(sim, `/api/v2/people?filter[last_message][from]=${encodeURIComponent(new Date(t0).toISOString())}&filter[last_message][to]=2100-01-01`)).json;
    expect(listed.meta.totalCount).toBe(3);
  });

  it('activityPerListRequest applies events on list requests only', async () => {
    sim = await startSimulator({ seed: 8, people: 100, now: NOW, knobs: { activityPerListRequest: 2 } });
    const fingerprint = () => JSON.stringify([sim.store.counts(), [...sim.store.channelsList()].slice(0, 5), [...sim.store.ordersList()].slice(0, 5)]);
    const start = fingerprint();
    await get(sim, '/api/v2/tags');
    await get(sim, `/api/v2/people/${[...sim.store.peopleList()][0]!.id}`);
    expect(fingerprint()).toBe(start);
    const nowIso = encodeURIComponent(NOW.toISOString());
    for (let i = 0; i < 5; i++) await get(sim, `/api/v2/people?${WIDE}`);
    expect(fingerprint()).not.toBe(start);
    const moved = await get(sim, `/api/v2/communication-channels?filter[last_message][from]=${nowIso}`);
    expect(moved.json.meta.totalCount).toBeGreaterThan(0);
    sim.setKnobs({ activityPerListRequest: 0 });
    const still = fingerprint();
    await get(sim, `/api/v2/people?${WIDE}`);
    expect(fingerprint()).toBe(still);
  });
});

describe('counters and control routes', () => {
  let sim: Simulator;
  afterEach(() => sim.close());

  it('counts requests per route template, resets, and serves the /__sim/ routes without a token', async () => {
    sim = await startSimulator({ seed: 1, people: 20, now: NOW });
    const p = [...sim.store.peopleList()][0]!;
    await get(sim, `/api/v2/people?${WIDE}`);
    await get(sim, `/api/v2/people/${p.id}`);
    await get(sim, `/api/v2/people/${p.id}`);
    await get(sim, `/api/v2/communication-channels/${p.accounts[0]!.account_id}/chat-messages`);
    await get(sim, '/api/v1/accounts');
    expect(sim.requestCounts()).toEqual({
      'GET /api/v2/people': 1,
      'GET /api/v2/people/:id': 2,
      'GET /api/v2/communication-channels/:id/chat-messages': 1,
      'GET /api/v1/accounts': 1,
    });
    const remote = await (await fetch(`${sim.url}/__sim/counts`)).json();
    expect(remote).toEqual({ counts: sim.requestCounts(), rateLimited: 0 });
    expect((await fetch(`${sim.url}/__sim/reset-counts`, { method: 'POST' })).status).toBe(200);
    expect(sim.requestCounts()).toEqual({});

    const health = (await (await fetch(`${sim.url}/__sim/health`)).json()) as { connections: number };
    expect(health).toMatchObject({ ok: true, people: 20 });
    // Every request of this test went over fetch's kept-alive connections, not one each.
    expect(health.connections).toBeGreaterThan(0);
    expect(health.connections).toBeLessThan(5);

    const knobs = await fetch(`${sim.url}/__sim/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pageCap: 4, latencyMs: 2 }) });
    expect(await knobs.json()).toMatchObject({ pageCap: 4, latencyMs: 2 });
    expect(sim.knobs.pageCap).toBe(4);
    expect((await get(sim, `/api/v2/people?${WIDE}`)).json.data).toHaveLength(4);
    const bad = await fetch(`${sim.url}/__sim/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ faultRate: 7 }) });
    expect(bad.status).toBe(400);
    expect(sim.knobs.faultRate).toBe(0);

    const act = await fetch(`${sim.url}/__sim/activity`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: 2, newPeople: 1 }) });
    const report = (await act.json()) as { messagedChannelIds: string[]; newPersonIds: string[] };
    expect(report.messagedChannelIds).toHaveLength(2);
    expect(report.newPersonIds).toHaveLength(1);
    expect(sim.store.counts().people).toBe(21);
    expect(((await fetch(`${sim.url}/__sim/store-counts`).then((r) => r.json())) as { people: number }).people).toBe(21);
    expect((await fetch(`${sim.url}/__sim/nothing`)).status).toBe(404);
    // Control requests are not API requests.
    expect(Object.keys(sim.requestCounts())).toEqual(['GET /api/v2/people']);
  });
});

describe('sim CLI options', () => {
  it('parses flags into simulator options', () => {
    expect(
      parseSimOptions({
        people: '1000',
        seed: '7',
        port: '8787',
        host: '0.0.0.0',
        token: 't',
        latency: '15',
        pageCap: '50',
        faultRate: '0.05',
        faultKinds: '5xx,429',
        rateLimit: '10',
        messagesOrder: 'oldest',
        activityPerList: '0.5',
      }),
    ).toEqual({
      people: 1000,
      seed: 7,
      port: 8787,
      host: '0.0.0.0',
      token: 't',
      knobs: { latencyMs: 15, pageCap: 50, faultRate: 0.05, faultKinds: ['5xx', '429'], rateLimitRps: 10, messagesOrder: 'oldest', activityPerListRequest: 0.5 },
    });
    expect(parseSimOptions({})).toEqual({ knobs: {} });
  });

  it('rejects bad values with a ConfigError naming the flag', () => {
    const cases: [Record<string, string>, string][] = [
      [{ people: 'many' }, '--people'],
      [{ people: '-1' }, '--people'],
      [{ port: '70000' }, '--port'],
      [{ faultRate: '1.5' }, '--fault-rate'],
      [{ faultKinds: '5xx,meteor' }, '--fault-kinds'],
      [{ messagesOrder: 'sideways' }, '--messages-order'],
      [{ rateLimit: '0' }, '--rate-limit'],
      [{ pageCap: '0' }, '--page-cap'],
      [{ latency: 'slow' }, '--latency'],
      [{ activityPerList: '-2' }, '--activity-per-list'],
      [{ token: ' ' }, '--token'],
    ];
    for (const [opts, flag] of cases) {
      let err: unknown;
      try {
        parseSimOptions(opts);
      } catch (e) {
        err = e;
      }
      expect(err, flag).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(flag);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
