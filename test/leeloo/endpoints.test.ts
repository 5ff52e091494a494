import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/errors.js';
import { LeelooClient, type ClientEvent, type LeelooClientOptions } from '../../src/leeloo/client.js';
import type { Page } from '../../src/leeloo/endpoints.js';
import { walkPages, type PageFetch } from '../../src/sync/paging.js';
import { startSimulator } from '../../src/sim/index.js';
import type { Simulator } from '../../src/sim/types.js';
import { rejection } from '../helpers/errors.js';

/** Distinctive, so a leak anywhere (log line, error, excerpt) is found by a plain substring search. */
const TOKEN = 'sim-TOKEN-5f3a9c1e7b2d4f60a8e1c0ffee';
const FAR_PAST = new Date('2000-01-01T00:00:00.000Z');
const FAR_FUTURE = new Date('2100-01-01T00:00:00.000Z');
const QUIET = { faultRate: 0, pageCap: null, latencyMs: 0, rateLimitRps: null, activityPerListRequest: 0 } as const;

let sim: Simulator;
let client: LeelooClient;
let events: ClientEvent[] = [];
const extraClients: LeelooClient[] = [];

function newClient(opts: Partial<LeelooClientOptions> = {}): LeelooClient {
  const c = new LeelooClient({ baseUrl: sim.url, token: TOKEN, rateLimit: 0, retryBaseMs: 10, retryMaxMs: 100, maxRetries: 8, ...opts });
  extraClients.push(c);
  return c;
}

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

async function pages<T>(gen: AsyncIterable<Page<T>>): Promise<Page<T>[]> {
  return all(gen);
}

/** A list's pages as the sync engine walks them over the client's one-page call (default limit: the client's 100). */
const walk = <T>(fetch: PageFetch<T>, o: { pageSize?: number; startOffset?: number } = {}) => walkPages(fetch, { pageSize: o.pageSize ?? 100, startOffset: o.startOffset });

async function* itemsOf<T>(fetch: PageFetch<T>, o: { pageSize?: number; startOffset?: number } = {}): AsyncGenerator<T> {
  for await (const page of walk(fetch, o)) yield* page.items;
}

function count(route: string): number {
  return sim.requestCounts()[route] ?? 0;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 1, people: 200, token: TOKEN });
  client = new LeelooClient({ baseUrl: sim.url, token: TOKEN, rateLimit: 0, retryBaseMs: 10, retryMaxMs: 100, onEvent: (e) => events.push(e) });
});

afterAll(async () => {
  await client?.close();
  for (const c of extraClients) await c.close();
  await sim?.close();
});

beforeEach(() => {
  sim.setKnobs({ ...QUIET });
  sim.resetCounts();
  events = [];
});

const channelWithMostMessages = () => {
  const chans = [...sim.store.channelsList()];
  let best = chans[0]!;
  let most = -1;
  for (const c of chans.slice(0, 60)) {
    const n = sim.store.chatMessages(c.id)?.length ?? 0;
    if (n > most) {
      most = n;
      best = c;
    }
  }
  return best;
};

const somePerson = (i = 0) => [...sim.store.peopleList()][i]!;

describe('every endpoint round-trips against the simulator', () => {
  it('1 GET /categories/templates', async () => {
    expect(await client.listTemplateCategories()).toEqual(sim.store.templateCategories());
    expect(count('GET /api/v2/categories/templates')).toBe(1);
  });

  it('2 GET /categories/templates/{category_id}', async () => {
    const cat = sim.store.templateCategories()[0]!;
    expect(await client.listTemplates(cat.id)).toEqual(sim.store.templates(cat.id));
  });

  it('3 POST /messages/send-template', async () => {
    const channel = [...sim.store.channelsList()][3]!;
    const cat = sim.store.templateCategories()[0]!;
    const tpl = sim.store.templates(cat.id)![0]!;
    const before = sim.store.chatMessages(channel.id)!.length;
    const r = await client.sendTemplate({ account_id: channel.id, template_id: tpl.id, variables: { name: 'Ann' } });
    expect(r).toEqual({});
    const log = sim.writeLog().at(-1)!;
    expect(log.route).toBe('/api/v2/messages/send-template');
    expect(log.body).toEqual({ account_id: channel.id, template_id: tpl.id, variables: { name: 'Ann' } });
    expect(sim.store.chatMessages(channel.id)!.length).toBe(before + 1);
  });

  it('4 GET /communication-channels/{id}/chat-messages (paged)', async () => {
    const ch = channelWithMostMessages();
    const expected = sim.store.chatMessages(ch.id)!;
    expect(expected.length).toBeGreaterThan(3);
    const got = await all(itemsOf((r) => client.chatMessagesPage(ch.id, r), { pageSize: 3 }));
    expect(got).toEqual(expected);
    const ps = await pages(walk((r) => client.chatMessagesPage(ch.id, r), { pageSize: 3 }));
    expect(ps[0]!.totalCount).toBe(expected.length);
    expect(ps.at(-1)!.nextOffset).toBe(expected.length);
  });

  it('5 POST /messages/send-message', async () => {
    const channel = [...sim.store.channelsList()][5]!;
    const r = await client.sendMessage({ account_id: channel.id, text: 'hello from leeloo-sync' });
    expect(r).toEqual({});
    expect(sim.store.chatMessages(channel.id)![0]!.text).toBe('hello from leeloo-sync');
    expect(count('POST /api/v2/messages/send-message')).toBe(1);
  });

  it('6 GET /communication-channels with a last_message window', async () => {
    expect(await all(itemsOf((r) => client.channelsPage({ from: FAR_PAST, to: FAR_FUTURE }, r)))).toEqual([...sim.store.channelsList()]);
    // a narrower window: both bounds inclusive, the client sends full ISO datetimes
    const list = [...sim.store.channelsList()];
    const to = new Date(list[10]!.lastMessageTime!);
    const from = new Date(list[40]!.lastMessageTime!);
    const expected = list.filter((c) => {
      const t = Date.parse(c.lastMessageTime!);
      return t >= from.getTime() && t <= to.getTime();
    });
    expect(await all(itemsOf((r) => client.channelsPage({ from, to }, r), { pageSize: 7 }))).toEqual(expected);
  });

  it('6 GET /communication-channels in date mode never narrows the window', async () => {
    const dayClient = newClient({ dateFormat: 'date' });
    const list = [...sim.store.channelsList()];
    const from = new Date(list[40]!.lastMessageTime!);
    const to = new Date(list[10]!.lastMessageTime!);
    const got = await all(itemsOf((r) => dayClient.channelsPage({ from, to }, r)));
    const ids = new Set(got.map((c) => c.id));
    for (const c of list.slice(10, 41)) expect(ids.has(c.id)).toBe(true);
  });

  it('7 GET /communication-channels/{account_id}/person', async () => {
    const channel = [...sim.store.channelsList()][0]!;
    const got = await client.getChannelPerson(channel.id);
    expect(got).toEqual(sim.store.personDetail(channel.person_id)!.data);
  });

  it('8 POST /leadgentools/{id}/create-traffic-source', async () => {
    const tunnel = sim.store.tunnelsList()[0]!;
    const lgt = sim.store.tunnelDetail(tunnel.id)!.linked.leadgentools[0]!;
    const ts = await client.createTrafficSource(lgt.id, { name: 'spring campaign', description: 'ads' });
    expect(ts.name).toBe('spring campaign');
    expect(ts.leadgentool_id).toBe(lgt.id);
    expect(sim.store.trafficSources(lgt.id).at(-1)).toEqual(ts);
  });

  let createdOrderId = '';
  it('9 POST /orders', async () => {
    const offer = sim.store.offers()[0]!;
    const pc = sim.store.paymentCredits()[0]!;
    const p = somePerson(2);
    const o = await client.createOrder({ paymentCreditsId: pc.id, offerId: offer.id, personId: p.id, email: 'buyer@example.com', phone: '+380669999777', transactionDate: new Date(), isNotifyAccount: 'false' });
    expect(o.status).toBe('OPENED');
    createdOrderId = o.id;
    const d = sim.store.orderDetail(o.id)!;
    expect(d.id).toBe(o.id);
    expect(d.title).toBe(o.title);
    expect(d.price).toBe(o.price);
  });

  it('10 GET /orders (paged)', async () => {
    expect(await all(itemsOf((r) => client.ordersPage(r), { pageSize: 40 }))).toEqual([...sim.store.ordersList()]);
  });

  it('11 GET /orders/{id}', async () => {
    const first = [...sim.store.ordersList()][1]!;
    expect(await client.getOrder(first.id)).toEqual(sim.store.orderDetail(first.id));
  });

  it('12 POST /orders/{id} (form-data)', async () => {
    expect(createdOrderId).not.toBe('');
    const r = await client.updateOrder(createdOrderId, { status: 'RESOLVED', paymentDate: new Date('2024-06-27T07:32:00Z'), currency: 'USD', price: 99, userComments: 'paid in cash' });
    expect(r.id ?? createdOrderId).toBe(createdOrderId);
    expect(sim.store.orderDetail(createdOrderId)!.status).toBe('RESOLVED');
    expect(await client.getOrder(createdOrderId)).toEqual(sim.store.orderDetail(createdOrderId));
    const log = sim.writeLog().at(-1)!;
    expect(log.body).toMatchObject({ status: 'RESOLVED', paymentDate: '2024-06-27 07:32', price: '99', userComments: 'paid in cash' });
  });

  it('13 GET /people with a window', async () => {
    expect(await all(itemsOf((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE }, r)))).toEqual([...sim.store.peopleList()]);
  });

  it('13 GET /people with tag, phone and email filters', async () => {
    const p = [...sim.store.peopleList()].find((x) => x.tags.length > 0 && x.phone.startsWith('+') && x.email.includes('@'))!;
    expect(p).toBeDefined();
    const byPhone = await all(itemsOf((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE, phone: p.phone }, r)));
    expect(byPhone.map((x) => x.id)).toContain(p.id);
    const byEmail = await all(itemsOf((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE, email: p.email }, r)));
    expect(byEmail.map((x) => x.id)).toContain(p.id);
    const tag = p.tags[0]!;
    const byTag = await all(itemsOf((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE, tags: [tag] }, r)));
    expect(byTag).toEqual([...sim.store.peopleList()].filter((x) => x.tags.includes(tag)));
  });

  it('14 GET /people/{id}?include=contactedUsers,orders', async () => {
    const p = somePerson(1);
    const d = sim.store.personDetail(p.id)!;
    expect(await client.getPerson(p.id)).toEqual({ person: d.data, included: d.included });
  });

  it('15 PUT /people/{id}', async () => {
    const p = somePerson(4);
    await client.updatePerson(p.id, { email: 'changed@example.com', phone: '+380669991876', custom_fields: [{ type: 'KEYWORD', name: 'plan', value: 'gold' }] });
    const d = sim.store.personDetail(p.id)!.data;
    expect(d.email).toBe('changed@example.com');
    expect(d.phone).toBe('+380669991876');
    expect(d.custom_fields).toContainEqual({ type: 'KEYWORD', name: 'plan', value: 'gold' });
    expect((await client.getPerson(p.id)).person).toEqual(d);
  });

  it('16 POST /people', async () => {
    const tunnel = sim.store.tunnelsList()[0]!;
    const lgt = sim.store.tunnelDetail(tunnel.id)!.linked.leadgentools[0]!;
    const user = sim.store.users()[0]!;
    const created = await client.createPerson({ name: 'Feliks', email: 'feliks@example.com', phone: '+380953066789', leadgentool_id: lgt.id, connected_users_ids: [user.id] });
    expect(created.name).toBe('Feliks');
    const personId = created.person_id!;
    const d = sim.store.personDetail(personId)!;
    expect(d.data.name).toBe('Feliks');
    expect(d.data.accounts.map((a) => a.account_id)).toContain(created.id);
    expect(count('POST /api/v2/people')).toBe(1);
  });

  it('17 POST /people/sms', async () => {
    const conn = sim.store.connections()[0]!;
    const tunnel = sim.store.tunnelsList()[0]!;
    const lgt = sim.store.tunnelDetail(tunnel.id)!.linked.leadgentools[0]!;
    const tag = sim.store.tags()[0]!;
    const r = await client.addSmsConnection({
      data: [
        { name: 'sms one', phone: '+380667772233', email: 'one@example.com' },
        { name: 'sms two', phone: '+380667772234' },
      ],
      connection_id: conn.id,
      leadgentool_id: lgt.id,
      tags: [tag.id],
    });
    expect(r).toEqual({ count_to_process: 2 });
    const added = [...sim.store.peopleList()].find((p) => p.phone === '+380667772233');
    expect(added?.tags).toContain(tag.name);
  });

  it('18 PUT /people/{id}/add-comment', async () => {
    const p = somePerson(6);
    const c = await client.addComment(p.id, 'called, will buy next week');
    expect(c.text).toBe('called, will buy next week');
    expect(sim.store.comments(p.id).at(-1)).toEqual(c);
  });

  it('19 GET /tags', async () => {
    expect(await client.listTags()).toEqual(sim.store.tags());
  });

  it('20 PUT /people/{id}/remove-tag (form-data tag_id)', async () => {
    const p = [...sim.store.peopleList()].find((x) => x.tags.length > 0)!;
    const name = p.tags[0]!;
    await client.removeTag(p.id, sim.store.tagIdByName(name)!);
    expect(sim.store.personDetail(p.id)!.data.tags).not.toContain(name);
    expect(count('PUT /api/v2/people/:id/remove-tag')).toBe(1);
  });

  it('21 PUT /people/{id}/add-tag (form-data tag_id)', async () => {
    const p = somePerson(7);
    const tag = sim.store.tags().find((t) => !p.tags.includes(t.name))!;
    await client.addTag(p.id, tag.id);
    expect(sim.store.personDetail(p.id)!.data.tags).toContain(tag.name);
    expect((await client.getPerson(p.id)).person.tags).toContain(tag.name);
  });

  it('22 GET /tunnels (paged)', async () => {
    expect(await all(itemsOf((r) => client.tunnelsPage(r), { pageSize: 2 }))).toEqual(sim.store.tunnelsList());
  });

  it('23 GET /tunnels/{id}?include=leadgentools', async () => {
    const t = sim.store.tunnelsList()[0]!;
    const d = sim.store.tunnelDetail(t.id)!;
    expect(await client.getTunnel(t.id)).toEqual({ tunnel: d.data, leadgentools: d.linked.leadgentools });
  });

  it('24 GET /tunnels/stats', async () => {
    expect(await client.getAllTunnelStats()).toEqual(sim.store.allTunnelStats());
  });

  it('25 GET /tunnels/{id}/stats', async () => {
    const t = sim.store.tunnelsList()[0]!;
    expect(await client.getTunnelStats(t.id)).toEqual(sim.store.tunnelStats(t.id));
  });

  it('26 GET /users (paged)', async () => {
    expect(await all(itemsOf((r) => client.usersPage(r), { pageSize: 3 }))).toEqual(sim.store.users());
  });

  it('27 GET /users/{id}', async () => {
    const u = sim.store.users()[0]!;
    expect(await client.getUser(u.id)).toEqual(sim.store.user(u.id));
  });

  it('28 GET /connections', async () => {
    expect(await client.listConnections()).toEqual(sim.store.connections());
  });

  it('29 POST /communication-channels/{account_id}/manual-subscribe (form-data)', async () => {
    const channel = [...sim.store.channelsList()][8]!;
    const tunnel = sim.store.tunnelsList()[0]!;
    const blockId = tunnel.id.split('').reverse().join(''); // a well-formed id; the docs give no list of blocks
    const r = await client.manualSubscribe(channel.id, { tunnel_id: tunnel.id, tunnel_block_id: blockId });
    expect(r).toEqual({});
    const hist = sim.store.personDetail(channel.person_id)!.data.subscribeHistory;
    expect(hist.some((h) => h.tunnelId === tunnel.id && h.accountId === channel.id)).toBe(true);
    expect(sim.writeLog().at(-1)!.body).toEqual({ tunnel_id: tunnel.id, tunnel_block_id: blockId });
  });

  it('30 v1 GET /accounts (paged, tag filter)', async () => {
    expect(await all(itemsOf((r) => client.accountsPage({}, r), { pageSize: 50 }))).toEqual([...sim.store.accountsList()]);
    // two tags in use (without commas, which the v1 comma list cannot carry), sent as filter[tags]=a,b
    const used = [...new Set([...sim.store.accountsList()].flatMap((a) => a.tags))].filter((t) => !t.includes(','));
    const want = used.slice(0, 2);
    expect(want).toHaveLength(2);
    const filtered = await all(itemsOf((r) => client.accountsPage({ tags: want }, r), { pageSize: 10 }));
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered).toEqual([...sim.store.accountsList()].filter((a) => a.tags.some((t) => want.includes(t))));
  });

  it('31 v1 GET /accounts/{id}?include=contactedUsers,orders', async () => {
    const a = [...sim.store.accountsList()][0]!;
    const d = sim.store.accountDetail(a.id)!;
    expect(await client.getAccount(a.id)).toEqual({ account: d.data, included: d.included });
  });

  it('32 v1 GET /accounts/{id}/chat-messages (paged)', async () => {
    const ch = channelWithMostMessages();
    expect(await all(itemsOf((r) => client.accountChatMessagesPage(ch.id, r), { pageSize: 4 }))).toEqual(sim.store.chatMessages(ch.id));
  });
});

describe('paging against the simulator', () => {
  it('is complete when the server caps the page size', async () => {
    sim.setKnobs({ pageCap: 50 });
    const ps = await pages(walk((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE }, r), { pageSize: 100 }));
    const expected = [...sim.store.peopleList()];
    expect(ps.flatMap((p) => p.items)).toEqual(expected);
    expect(ps.every((p) => p.items.length <= 50)).toBe(true);
    expect(ps.length).toBe(Math.ceil(expected.length / 50));
    expect(count('GET /api/v2/people')).toBe(ps.length);
  });

  it('resumes at a given offset', async () => {
    const expected = [...sim.store.peopleList()];
    const ps = await pages(walk((r) => client.peoplePage({ from: FAR_PAST, to: FAR_FUTURE }, r), { pageSize: 30, startOffset: 120 }));
    expect(ps[0]!.offset).toBe(120);
    expect(ps.flatMap((p) => p.items)).toEqual(expected.slice(120));
  });
});

describe('faults', () => {
  it.each(['5xx', 'truncated', 'drop', '429'] as const)('%s is retried to success', async (kind) => {
    sim.setKnobs({ faultRate: 0.5, faultKinds: [kind], retryAfterSeconds: 0 });
    const c = newClient({ maxRetries: 12, retryBaseMs: 5, retryMaxMs: 40 });
    expect(await all(itemsOf((r) => c.peoplePage({ from: FAR_PAST, to: FAR_FUTURE }, r), { pageSize: 25 }))).toEqual([...sim.store.peopleList()]);
    expect(await c.listTags()).toEqual(sim.store.tags());
    expect(c.stats.retries).toBeGreaterThan(0);
    expect(c.stats.errors).toBe(0);
    if (kind === '429') expect(c.stats.rateLimited).toBeGreaterThan(0);
  });

  it('slow answers time out and are retried to success', async () => {
    sim.setKnobs({ faultRate: 0.5, faultKinds: ['slow'], slowMs: 2000 });
    const c = newClient({ timeoutMs: 300, maxRetries: 12 });
    expect(await c.listTags()).toEqual(sim.store.tags());
    expect(await all(itemsOf((r) => c.usersPage(r), { pageSize: 5 }))).toEqual(sim.store.users());
    expect(c.stats.retries).toBeGreaterThan(0);
  });

  it('a 401 (bad token) is not retried', async () => {
    const c = newClient({ token: 'wrong-TOKEN-0000aaaa1111bbbb' });
    const e = await rejection(c.listTags());
    expect(e.status).toBe(401);
    expect(e.permanent).toBe(true);
    expect(count('GET /api/v2/tags')).toBe(1);
  });

  it('a 404 is not retried', async () => {
    const e = await rejection(client.getPerson('0123456789abcdef01234567'));
    expect(e.status).toBe(404);
    expect(e.permanent).toBe(true);
    expect(count('GET /api/v2/people/:id')).toBe(1);
  });

  it('a 400 is not retried', async () => {
    // A path id that is not 24-hex never leaves the client (path-ids.ts); a body id does.
    const e = await rejection(client.addTag(somePerson(3).id, 'not-an-object-id'));
    expect(e.status).toBe(400);
    expect(e.permanent).toBe(true);
    expect(e.bodyExcerpt).toContain('FORMAT_ERROR');
    expect(count('PUT /api/v2/people/:id/add-tag')).toBe(1);
  });

  it('a 429 waits for its Retry-After', async () => {
    sim.setKnobs({ rateLimitRps: 1 });
    const seen: ClientEvent[] = [];
    const c = newClient({ onEvent: (e) => seen.push(e) });
    await c.listTags(); // uses the one request of this second
    const t0 = performance.now();
    await c.listConnections(); // 429, Retry-After: 1
    const elapsed = performance.now() - t0;
    const limited = seen.filter((e) => e.type === 'rate_limited' && e.route === '/api/v2/connections');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ retryAfterMs: 1000 });
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(sim.rateLimitedCount()).toBeGreaterThanOrEqual(1);
  });

  it('a non-idempotent write after a dropped connection throws maybeApplied and is not resent', async () => {
    sim.setKnobs({ faultRate: 1, faultKinds: ['drop'] });
    const channel = [...sim.store.channelsList()][9]!;
    const e = await rejection(client.sendMessage({ account_id: channel.id, text: 'exactly once' }));
    expect(e.maybeApplied).toBe(true);
    expect(e.permanent).toBe(false);
    expect(count('POST /api/v2/messages/send-message')).toBe(1);
  });

  it('an idempotent write is retried after dropped connections', async () => {
    sim.setKnobs({ faultRate: 0.5, faultKinds: ['drop'] });
    const p = somePerson(11);
    const tag = sim.store.tags().find((t) => !p.tags.includes(t.name))!;
    const c = newClient({ maxRetries: 12 });
    await c.addTag(p.id, tag.id);
    expect(sim.store.personDetail(p.id)!.data.tags).toContain(tag.name);
  });

  it('the token never appears in any log line or error message', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    // A plain pino logger, without src/log.ts's scrubbing fence: the client itself must not leak.
    const logger = pino({ level: 'trace' }, sink);
    const errors: unknown[] = [];
    const c = newClient({ logger, maxRetries: 4, timeoutMs: 300 });
    const bad = newClient({ logger, token: 'bad-TOKEN-9d8c7b6a5f4e3d2c1b0a', maxRetries: 0 });
    sim.setKnobs({ faultRate: 0.5, faultKinds: ['5xx', '429', 'truncated', 'drop', 'slow'], retryAfterSeconds: 0, slowMs: 1000 });
    const calls: (() => Promise<unknown>)[] = [
      () => all(itemsOf((r) => c.peoplePage({ from: FAR_PAST, to: FAR_FUTURE }, r), { pageSize: 40 })),
      () => c.listTags(),
      () => c.getPerson('0123456789abcdef01234567'),
      () => c.getPerson('bad id'),
      () => c.sendMessage({ account_id: [...sim.store.channelsList()][12]!.id, text: 'x' }, { retries: 0 }),
      () => bad.listTags(),
      () => bad.getUser(sim.store.users()[0]!.id),
    ];
    for (const call of calls) {
      try {
        await call();
      } catch (err) {
        errors.push(err);
        logger.error({ err }, 'call failed');
      }
    }
    sim.setKnobs({ ...QUIET });
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).toContain('call failed');
    expect(logged).toContain('retrying'); // faults really happened and were logged
    for (const secret of [TOKEN, 'bad-TOKEN-9d8c7b6a5f4e3d2c1b0a']) {
      expect(logged).not.toContain(secret);
      for (const err of errors) {
        const e = err as ApiError;
        expect(String(e.message)).not.toContain(secret);
        expect(String(e.stack)).not.toContain(secret);
        expect(JSON.stringify(e)).not.toContain(secret);
        expect(e.bodyExcerpt ?? '').not.toContain(secret);
      }
    }
  });
});

describe('observability', () => {
  it('reports requests with route templates and counts them', async () => {
    const p = somePerson(3);
    const before = { ...client.stats };
    await client.getPerson(p.id);
    const req = events.filter((e) => e.type === 'request');
    expect(req).toHaveLength(1);
    expect(req[0]).toMatchObject({ method: 'GET', route: '/api/v2/people/:id', status: 200 });
    expect(client.stats.requests).toBe(before.requests + 1);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });
});
