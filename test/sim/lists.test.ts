import { describe, expect, it } from 'vitest';
import { NOW, WIDE, call, get } from './helpers.js';
import { useSimulator } from '../helpers/sim.js';

const enc = encodeURIComponent;
const win = (from: string, to: string) => `filter[last_message][from]=${enc(from)}&filter[last_message][to]=${enc(to)}`;

describe('list semantics', () => {
  const fx = useSimulator({ seed: 11, people: 400, now: NOW });

  it('pages with limit (default 20) and offset; totalCount counts all matches; pages join up to the whole list', async () => {
    const first = await get(fx.sim, `/api/v2/people?${WIDE}`);
    expect(first.json.data).toHaveLength(20);
    expect(first.json.meta).toEqual({ limit: 20, offset: 0, filteredCount: 20, totalCount: 400 });
    const ids: string[] = [];
    for (let offset = 0; offset < 400; offset += 37) {
      const r = await get(fx.sim, `/api/v2/people?${WIDE}&limit=37&offset=${offset}`);
      expect(r.json.meta.totalCount).toBe(400);
      ids.push(...r.json.data.map((p: { id: string }) => p.id));
    }
    expect(ids).toEqual([...fx.sim.store.peopleList()].map((p) => p.id));
    const past = await get(fx.sim, `/api/v2/people?${WIDE}&offset=400`);
    expect(past.json.data).toEqual([]);
    expect(past.json.meta.totalCount).toBe(400);
  });

  it('lists newest first: people and channels by lastMessageTime, orders, users and tunnels by createdAt', async () => {
    const desc = (xs: string[]) => xs.every((x, i) => i === 0 || Date.parse(xs[i - 1]!) >= Date.parse(x));
    expect(desc([...fx.sim.store.peopleList()].map((p) => p.lastMessageTime!))).toBe(true);
    expect(desc([...fx.sim.store.channelsList()].map((c) => c.lastMessageTime!))).toBe(true);
    expect(desc([...fx.sim.store.accountsList()].map((c) => c.lastMessageTime!))).toBe(true);
    expect(desc([...fx.sim.store.ordersList()].map((o) => o.createdAt))).toBe(true);
    const users = await get(fx.sim, '/api/v2/users?limit=100');
    expect(desc(users.json.data.map((u: { createdAt: string }) => u.createdAt))).toBe(true);
    const tunnels = await get(fx.sim, '/api/v2/tunnels?limit=100');
    expect(desc(tunnels.json.data.map((t: { createdAt: string }) => t.createdAt))).toBe(true);
  });

  it('caps pages at pageCap whatever limit asks, echoing the requested limit', async () => {
    fx.sim.setKnobs({ pageCap: 7 });
    try {
      const r = await get(fx.sim, `/api/v2/people?${WIDE}&limit=100`);
      expect(r.json.data).toHaveLength(7);
      expect(r.json.meta).toMatchObject({ limit: 100, totalCount: 400, filteredCount: 7 });
      const ch = [...fx.sim.store.channelsList()].find((c) => fx.sim.store.chatMessages(c.id)!.length > 20)!;
      const m = await get(fx.sim, `/api/v2/communication-channels/${ch.id}/chat-messages?limit=50`);
      expect(m.json.data).toHaveLength(7);
      const orders = await get(fx.sim, '/api/v2/orders?limit=50');
      expect(orders.json.data).toHaveLength(7);
    } finally {
      fx.sim.setKnobs({ pageCap: null });
    }
  });

  it('filters by lastMessageTime with datetimes, both bounds inclusive', async () => {
    const people = [...fx.sim.store.peopleList()];
    const a = people[300]!.lastMessageTime!;
    const b = people[100]!.lastMessageTime!;
    const expected = people.filter((p) => p.lastMessageTime! >= a && p.lastMessageTime! <= b).map((p) => p.id);
    const r = await get(fx.sim, `/api/v2/people?${win(a, b)}&limit=1000`);
    expect(r.json.data.map((p: { id: string }) => p.id)).toEqual(expected);
    expect(r.json.meta.totalCount).toBe(expected.length);
    expect(expected[0]).toBe(people[100]!.id);
    expect(expected.at(-1)).toBe(people[300]!.id);
    // One millisecond later/earlier excludes the edges.
    const inner = await get(fx.sim, `/api/v2/people?${win(new Date(Date.parse(a) + 1).toISOString(), new Date(Date.parse(b) - 1).toISOString())}&limit=1000`);
    expect(inner.json.meta.totalCount).toBe(expected.length - 2);
  });

  it('filters by date-only bounds as midnight UTC (to is inclusive of exactly midnight)', async () => {
    const people = [...fx.sim.store.peopleList()];
    const from = '2023-01-01';
    const to = '2023-07-01';
    const lo = Date.parse('2023-01-01T00:00:00Z');
    const hi = Date.parse('2023-07-01T00:00:00Z');
    const expected = people.filter((p) => Date.parse(p.lastMessageTime!) >= lo && Date.parse(p.lastMessageTime!) <= hi);
    expect(expected.length).toBeGreaterThan(10);
    const r = await get(fx.sim, `/api/v2/people?${win(from, to)}&limit=1000`);
    expect(r.json.data).toEqual(expected);
    const channels = [...fx.sim.store.channelsList()].filter((c) => Date.parse(c.lastMessageTime!) >= lo && Date.parse(c.lastMessageTime!) <= hi);
    const rc = await get(fx.sim, `/api/v2/communication-channels?${win(from, to)}&limit=1000`);
    expect(rc.json.data).toEqual(channels);
    expect(rc.json.meta.totalCount).toBe(channels.length);
  });

  it('accepts one-sided or no last_message filter on channels', async () => {
    const channels = [...fx.sim.store.channelsList()];
    const cut = channels[50]!.lastMessageTime!;
    const r = await get(fx.sim, `/api/v2/communication-channels?filter[last_message][from]=${enc(cut)}&limit=1000`);
    expect(r.json.meta.totalCount).toBe(channels.filter((c) => c.lastMessageTime! >= cut).length);
    const all = await get(fx.sim, '/api/v2/communication-channels');
    expect(all.json.meta.totalCount).toBe(channels.length);
  });

  it('filters people by tags (any of the repeated filter[tags]), phone and email', async () => {
    const people = [...fx.sim.store.peopleList()];
    const tags = ['VIP "gold"', 'Клиент, опт'];
    const expected = people.filter((p) => p.tags.some((t) => tags.includes(t)));
    expect(expected.length).toBeGreaterThan(5);
    const q = tags.map((t) => `filter[tags]=${enc(t)}`).join('&');
    const r = await get(fx.sim, `/api/v2/people?${WIDE}&${q}&limit=7&offset=3`);
    expect(r.json.meta.totalCount).toBe(expected.length);
    expect(r.json.data).toEqual(expected.slice(3, 10));

    const withPhone = people.find((p) => p.phone !== 'NOT_DEFINED')!;
    const byPhone = await get(fx.sim, `/api/v2/people?${WIDE}&filter[phone]=${enc(withPhone.phone)}`);
    expect(byPhone.json.data.map((p: { id: string }) => p.id)).toEqual([withPhone.id]);
    // An unencoded "+" arrives as a space; the phone still matches.
    const raw = await get(fx.sim, `/api/v2/people?${WIDE}&filter[phone]=${withPhone.phone}`);
    expect(raw.json.meta.totalCount).toBe(1);

    const withEmail = people.find((p) => p.email !== 'NOT_DEFINED')!;
    const byEmail = await get(fx.sim, `/api/v2/people?${WIDE}&filter[email]=${enc(withEmail.email.toUpperCase())}`);
    expect(byEmail.json.data.map((p: { id: string }) => p.id)).toEqual([withEmail.id]);
    const none = await get(fx.sim, `/api/v2/people?${WIDE}&filter[email]=nobody%40nowhere.example`);
    expect(none.json).toEqual({ status: 1, data: [], meta: { limit: 20, offset: 0, filteredCount: 0, totalCount: 0 } });
  });

  it('filters v1 accounts by a comma list of tags (any of them)', async () => {
    const accounts = [...fx.sim.store.accountsList()];
    const expected = accounts.filter((a) => a.tags.includes('tag2') || a.tags.includes('tag3'));
    expect(expected.length).toBeGreaterThan(3);
    const r = await get(fx.sim, '/api/v1/accounts?filter[tags]=tag3,tag2&limit=1000');
    expect(r.json.data).toEqual(expected);
    expect(r.json.meta.totalCount).toBe(expected.length);
  });

  it('serves chat messages oldest first when messagesOrder says so', async () => {
    const ch = [...fx.sim.store.channelsList()].find((c) => fx.sim.store.chatMessages(c.id)!.length >= 5)!;
    const newest = fx.sim.store.chatMessages(ch.id)!;
    fx.sim.setKnobs({ messagesOrder: 'oldest' });
    try {
      const r = await get(fx.sim, `/api/v2/communication-channels/${ch.id}/chat-messages?limit=3&offset=1`);
      expect(r.json.data).toEqual(newest.slice().reverse().slice(1, 4));
      expect(r.json.meta.totalCount).toBe(newest.length);
    } finally {
      fx.sim.setKnobs({ messagesOrder: 'newest' });
    }
    const back = await get(fx.sim, `/api/v2/communication-channels/${ch.id}/chat-messages?limit=2`);
    expect(back.json.data).toEqual(newest.slice(0, 2));
  });
});

describe('errors', () => {
  const fx = useSimulator({ seed: 1, people: 30, now: NOW, token: 'secret-token' });

  it('401 FORMAT_ERROR without a token and UNAUTHORIZED with a wrong one', async () => {
    const missing = await call(fx.sim, 'GET', '/api/v2/tags', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ status: 0, error: { fields: { authToken: 'REQUIRED' }, code: 'FORMAT_ERROR' } });
    const wrong = await call(fx.sim, 'GET', '/api/v2/tags', { token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ status: 0, error: { code: 'UNAUTHORIZED' } });
    const v1 = await call(fx.sim, 'GET', '/api/v1/accounts', { token: null });
    expect(v1.status).toBe(401);
    const write = await call(fx.sim, 'PUT', `/api/v2/people/${[...fx.sim.store.peopleList()][0]!.id}/add-tag`, { token: 'nope', json: { tag_id: fx.sim.store.tags()[0]!.id } });
    expect(write.status).toBe(401);
    expect(fx.sim.writeLog()).toEqual([]);
  });

  it('400 FORMAT_ERROR for a missing or unparseable people window', async () => {
    const none = await get(fx.sim, '/api/v2/people');
    expect(none.status).toBe(400);
    expect(none.json.status).toBe(0);
    expect(none.json.error.code).toBe('FORMAT_ERROR');
    expect(none.json.error.fields).toEqual({ 'filter[last_message][from]': 'REQUIRED' });
    const noTo = await get(fx.sim, '/api/v2/people?filter[last_message][from]=2020-01-01');
    expect(noTo.json.error.fields).toEqual({ 'filter[last_message][to]': 'REQUIRED' });
    const bad = await get(fx.sim, '/api/v2/people?filter[last_message][from]=yesterday&filter[last_message][to]=2020-01-01');
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields).toEqual({ 'filter[last_message][from]': 'INVALID' });
    const badCh = await get(fx.sim, '/api/v2/communication-channels?filter[last_message][to]=2020-13-45');
    expect(badCh.status).toBe(400);
  });

  it('400 for bad limit/offset and malformed ids; 404 for unknown ids and routes', async () => {
    for (const q of ['limit=abc', 'limit=0', 'limit=-5', 'offset=x', 'offset=-1']) {
      const r = await get(fx.sim, `/api/v2/orders?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe('FORMAT_ERROR');
    }
    for (const path of ['/api/v2/people/123', '/api/v2/orders/zzzzzzzzzzzzzzzzzzzzzzzz', '/api/v2/communication-channels/5e3bf8d6c6ed91000c8534a/chat-messages', '/api/v1/accounts/x']) {
      const r = await get(fx.sim, path);
      expect(r.status, path).toBe(400);
      expect(r.json.error.code).toBe('FORMAT_ERROR');
    }
    const unknown = 'ffffffffffffffffffffffff';
    for (const path of [
      `/api/v2/people/${unknown}`,
      `/api/v2/orders/${unknown}`,
      `/api/v2/users/${unknown}`,
      `/api/v2/tunnels/${unknown}`,
      `/api/v2/tunnels/${unknown}/stats`,
      `/api/v2/categories/templates/${unknown}`,
      `/api/v2/communication-channels/${unknown}/person`,
      `/api/v2/communication-channels/${unknown}/chat-messages`,
      `/api/v1/accounts/${unknown}`,
    ]) {
      const r = await get(fx.sim, path);
      expect(r.status, path).toBe(404);
      expect(r.json).toEqual({ status: 0, error: { code: 'NOT_FOUND' } });
    }
    // ObjectIds parse case-insensitively.
    const upper = await get(fx.sim, `/api/v2/people/${[...fx.sim.store.peopleList()][0]!.id.toUpperCase()}`);
    expect(upper.status).toBe(200);
    expect(upper.json.data.id).toBe([...fx.sim.store.peopleList()][0]!.id);
    // A person id is not a channel id.
    const person = [...fx.sim.store.peopleList()][0]!.id;
    expect((await get(fx.sim, `/api/v2/communication-channels/${person}/chat-messages`)).status).toBe(404);
    const route = await get(fx.sim, '/api/v2/nothing-here');
    expect(route.status).toBe(404);
    expect(route.json).toEqual({ status: 0, error: { code: 'NOT_FOUND' } });
    expect((await call(fx.sim, 'DELETE', '/api/v2/tags')).status).toBe(404);
    expect(fx.sim.requestCounts()['GET (unmatched)']).toBe(1);
  });
});
