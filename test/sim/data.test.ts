import { describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW } from './helpers.js';
import { useSimulator } from '../helpers/sim.js';

const HEX24 = /^[0-9a-f]{24}$/;
const FULL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SHORT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/;

function snapshot(sim: Simulator) {
  const s = sim.store;
  const people = [...s.peopleList()];
  const channels = [...s.channelsList()];
  return {
    people,
    details: people.slice(0, 25).map((p) => s.personDetail(p.id)),
    channels,
    messages: channels.slice(0, 25).map((c) => s.chatMessages(c.id)),
    orders: [...s.ordersList()],
    tags: s.tags(),
    users: s.users(),
    tunnels: s.tunnelsList().map((t) => [t, s.tunnelDetail(t.id), s.tunnelStats(t.id)]),
    connections: s.connections(),
    categories: s.templateCategories().map((c) => [c, s.templates(c.id)]),
    accounts: [...s.accountsList()].slice(0, 25).map((a) => s.accountDetail(a.id)),
    counts: s.counts(),
  };
}

describe('generated company', () => {
  const fx = useSimulator({ seed: 42, people: 1000, now: NOW });

  it('is deterministic: same seed and now give the same data, another seed other data', async () => {
    const again = await startSimulator({ seed: 42, people: 1000, now: NOW });
    const other = await startSimulator({ seed: 43, people: 1000, now: NOW });
    try {
      expect(snapshot(again)).toEqual(snapshot(fx.sim));
      const a = snapshot(other);
      expect(a.counts.people).toBe(1000);
      expect(a.people.map((p) => p.id)).not.toEqual(snapshot(fx.sim).people.map((p) => p.id));
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('keeps every timestamp at least a minute before now, spread over about three years', () => {
    const limit = NOW.getTime() - 60_000;
    let oldest = Infinity;
    for (const p of fx.sim.store.peopleList()) {
      const t = Date.parse(p.lastMessageTime!);
      expect(t).toBeLessThanOrEqual(limit);
      const d = fx.sim.store.personDetail(p.id)!.data;
      expect(Date.parse(d.created_at)).toBeLessThanOrEqual(t);
      expect(Date.parse(d.updated_at)).toBeGreaterThanOrEqual(t);
      expect(Date.parse(d.updated_at)).toBeLessThanOrEqual(limit);
      oldest = Math.min(oldest, Date.parse(d.created_at));
    }
    for (const o of fx.sim.store.ordersList()) expect(Date.parse(o.updatedAt)).toBeLessThanOrEqual(limit);
    expect(NOW.getTime() - oldest).toBeGreaterThan(2.5 * 365 * 86_400_000);
    expect(NOW.getTime() - oldest).toBeLessThan(3.1 * 365 * 86_400_000);
  });

  it('links people, channels and connections consistently', () => {
    const connections = new Set(fx.sim.store.connections().map((c) => c.id));
    const channels = new Map([...fx.sim.store.channelsList()].map((c) => [c.id, c]));
    let total = 0;
    for (const p of fx.sim.store.peopleList()) {
      expect(p.id).toMatch(HEX24);
      expect(p.accounts.length).toBeGreaterThanOrEqual(1);
      expect(p.accounts.length).toBeLessThanOrEqual(3);
      let max = 0;
      for (const a of p.accounts) {
        expect(connections.has(a.connection_id)).toBe(true);
        const c = channels.get(a.account_id)!;
        expect(c.person_id).toBe(p.id);
        expect(c.from).toBe(a.from);
        max = Math.max(max, Date.parse(c.lastMessageTime!));
      }
      expect(new Date(max).toISOString()).toBe(p.lastMessageTime);
      total += p.accounts.length;
    }
    expect(total).toBe(channels.size);
    expect(new Set([...channels.values()].map((c) => c.from)).size).toBe(8);
  });

  it('ends every chat at the channel lastMessageTime, newest first, with the documented message types', () => {
    const users = new Set(fx.sim.store.users().map((u) => u.id));
    const sizes: number[] = [];
    const types = new Set<string>();
    for (const c of fx.sim.store.channelsList()) {
      const msgs = fx.sim.store.chatMessages(c.id)!;
      sizes.push(msgs.length);
      expect(msgs[0]!.createdAt).toBe(c.lastMessageTime);
      for (let i = 1; i < msgs.length; i++) expect(Date.parse(msgs[i - 1]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(msgs[i]!.createdAt));
      for (const m of msgs) {
        types.add(m.type);
        expect(Date.parse(m.createdAt)).toBeGreaterThanOrEqual(Date.parse(c.createdAt));
        if (m.type === 'YOUR_MESSAGE') expect(users.has(m.links!.createdBy.id)).toBe(true);
        else expect(m.links).toBeUndefined();
      }
    }
    expect([...types].sort()).toEqual(['BOT_MESSAGE', 'FRIEND_MESSAGE', 'SYSTEM_MESSAGE', 'YOUR_MESSAGE']);
    const long = sizes.filter((n) => n >= 100).length;
    expect(long).toBeGreaterThan(5);
    expect(long / sizes.length).toBeLessThan(0.05);
    expect(sizes.filter((n) => n <= 10).length / sizes.length).toBeGreaterThan(0.9);
    expect(fx.sim.store.counts().messages).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it('gives details that reference real tunnels, leadgentools, traffic sources, users and orders', () => {
    const tunnels = new Map(fx.sim.store.tunnelsList().map((t) => [t.id, fx.sim.store.tunnelDetail(t.id)!]));
    const users = new Set(fx.sim.store.users().map((u) => u.id));
    const fieldTypes = new Set<string>();
    let histories = 0;
    for (const p of fx.sim.store.peopleList()) {
      const d = fx.sim.store.personDetail(p.id)!;
      const accounts = new Set(p.accounts.map((a) => a.account_id));
      for (const h of d.data.subscribeHistory) {
        histories++;
        const t = tunnels.get(h.tunnelId)!;
        expect(t.data.name).toBe(h.tunnelName);
        const lgt = t.linked.leadgentools.find((l) => l.id === h.leadgentoolId)!;
        expect(lgt.name).toBe(h.leadgentoolName);
        expect(fx.sim.store.trafficSources(lgt.id).find((s) => s.id === h.trafficSourceId)!.name).toBe(h.trafficSource);
        expect(accounts.has(h.accountId)).toBe(true);
      }
      for (const u of d.data.links.contactedUsers) expect(users.has(u.id)).toBe(true);
      expect(d.included.users!.map((u) => u.id)).toEqual(d.data.links.contactedUsers.map((u) => u.id));
      expect(d.included.orders!.map((o) => o.id)).toEqual(d.data.links.orders.map((o) => o.id));
      for (const o of d.included.orders!) expect(fx.sim.store.orderDetail(o.id)!.status).toBe(o.status);
      for (const f of d.data.custom_fields) fieldTypes.add(f.type);
    }
    expect(histories).toBeGreaterThan(500);
    expect([...fieldTypes].sort()).toEqual(['DATE', 'EMAIL', 'KEYWORD', 'NUMBER', 'PHONE']);
  });

  it('includes the documented quirks: sentinels, empty locales, short timestamps, awkward tag names', () => {
    const people = [...fx.sim.store.peopleList()];
    const details = people.map((p) => fx.sim.store.personDetail(p.id)!.data);
    expect(people.some((p) => p.email === 'NOT_DEFINED')).toBe(true);
    expect(people.some((p) => p.phone === 'NOT_DEFINED')).toBe(true);
    expect(details.some((d) => d.profileImage === 'NOT_DEFINED')).toBe(true);
    expect(details.some((d) => d.gender === 'NOT_DEFINED')).toBe(true);
    expect(details.some((d) => d.gender === 'NO_DATA')).toBe(true);
    expect(details.some((d) => d.locale === '')).toBe(true);
    for (const d of details) expect(d.created_at).toMatch(FULL);
    for (const u of fx.sim.store.users()) expect(u.createdAt).toMatch(SHORT);
    for (const t of fx.sim.store.tunnelsList()) expect(t.updatedAt).toMatch(SHORT);
    const orders = [...fx.sim.store.ordersList()];
    expect(orders.some((o) => SHORT.test(o.createdAt))).toBe(true);
    expect(orders.some((o) => FULL.test(o.createdAt))).toBe(true);
    const names = fx.sim.store.tags().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['VIP "gold"', 'Клиент, опт', '🔥 hot']));
    expect(names.length).toBeGreaterThanOrEqual(25);
    const channels = [...fx.sim.store.channelsList()];
    expect(channels.some((c) => Object.keys(c.utmMarks).length === 0)).toBe(true);
    expect(channels.some((c) => typeof c.utmMarks.utm_source === 'string')).toBe(true);
    expect(new Set(channels.map((c) => c.botStatus))).toEqual(new Set(['BOT', 'ADMIN']));
  });

  it('has about half an order per person, with open manual orders to update', () => {
    const orders = [...fx.sim.store.ordersList()];
    expect(orders.length).toBeGreaterThan(400);
    expect(orders.length).toBeLessThan(700);
    const details = orders.map((o) => fx.sim.store.orderDetail(o.id)!);
    expect(new Set(details.map((d) => d.paymentMethod))).toEqual(new Set(['WAYFORPAY', 'YANDEX_MONEY', 'ASSET_PAYMENT', 'MANUAL']));
    expect(new Set(details.map((d) => d.currency))).toEqual(new Set(['USD', 'EUR', 'UAH', 'RUB']));
    expect(details.filter((d) => d.paymentMethod === 'MANUAL' && d.status === 'OPENED').length).toBeGreaterThan(50);
    const people = new Set([...fx.sim.store.peopleList()].map((p) => p.id));
    for (const o of orders) expect(people.has(o.person_id)).toBe(true);
  });

  it('has the documented catalogue sizes', () => {
    const c = fx.sim.store.counts();
    expect(c.users).toBe(10);
    expect(c.tunnels).toBe(8);
    expect(c.templateCategories).toBe(3);
    for (const t of fx.sim.store.tunnelsList()) {
      const n = fx.sim.store.tunnelDetail(t.id)!.linked.leadgentools.length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(4);
    }
    for (const cat of fx.sim.store.templateCategories()) {
      const n = fx.sim.store.templates(cat.id)!.length;
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(6);
    }
    expect(c.connections).toBeGreaterThanOrEqual(5);
    expect(fx.sim.store.tagIdByName('🔥 hot')).toMatch(HEX24);
    expect(fx.sim.store.tagIdByName('no such tag')).toBeUndefined();
  });
});

describe('scale', () => {
  it('generates 100k people and serves a list page from them', async () => {
    const sim = await startSimulator({ people: 100_000, seed: 7 });
    try {
      const c = sim.store.counts();
      expect(c.people).toBe(100_000);
      expect(c.channels).toBeGreaterThan(120_000);
      expect(c.messages).toBeGreaterThan(c.channels);
      const res = await fetch(`${sim.url}/api/v2/people?filter[last_message][from]=2000-01-01&filter[last_message][to]=2100-01-01&limit=100&offset=50000`, {
        headers: { 'X-Leeloo-AuthToken': sim.token },
      });
      const body = (await res.json()) as { data: unknown[]; meta: { totalCount: number } };
      expect(body.data).toHaveLength(100);
      expect(body.meta.totalCount).toBe(100_000);
    } finally {
      await sim.close();
    }
  });
});
