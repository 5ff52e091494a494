import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { ROUTES } from '../../src/sim/routes/index.js';
import { NOW, WIDE, call, get, keys } from './helpers.js';

const META = ['filteredCount', 'limit', 'offset', 'totalCount'];
const PERSON_ITEM = ['accounts', 'email', 'id', 'lastMessageTime', 'name', 'phone', 'tags'];
const ACCOUNT_REF = ['account_id', 'connection_id', 'connection_status', 'from'];
const PERSON_DETAIL = ['accounts', 'created_at', 'custom_fields', 'email', 'gender', 'id', 'links', 'locale', 'name', 'phone', 'profileImage', 'subscribeHistory', 'tags', 'updated_at'];
const SUBSCRIBE = ['accountId', 'leadgentoolId', 'leadgentoolName', 'trafficSource', 'trafficSourceId', 'tunnelId', 'tunnelName'];
const CHANNEL_ITEM = ['botStatus', 'createdAt', 'from', 'id', 'lastMessageTime', 'name', 'person_id', 'utmMarks'];
const MESSAGE = ['createdAt', 'id', 'read', 'text', 'type', 'updatedAt'];
const ORDER_ITEM = ['createdAt', 'currency', 'id', 'person_id', 'price', 'status', 'title', 'updatedAt'];
const ORDER_DETAIL = ['createdAt', 'currency', 'description', 'id', 'paymentMethod', 'price', 'status', 'title', 'updatedAt'];
const USER = ['createdAt', 'id', 'name', 'updatedAt'];
const STATS = ['orders', 'sales', 'shows', 'subscribers', 'totalExpenses', 'totalSale', 'uniqSales', 'uniqShows', 'uniqSubscribers', 'uniqVisits', 'visits'];
const ACCOUNT_ITEM = ['botStatus', 'createdAt', 'from', 'id', 'lastMessageTime', 'name', 'tags'];

/** Exercises every GET route in the documented shapes; the write routes are in writes.test.ts. */
describe('documented read shapes', () => {
  let sim: Simulator;
  let personId: string;
  let channelId: string;
  let richPerson: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, people: 300, now: NOW });
    const people = [...sim.store.peopleList()];
    personId = people[0]!.id;
    channelId = people[0]!.accounts[0]!.account_id;
    richPerson = people.find((p) => {
      const d = sim.store.personDetail(p.id)!;
      return d.data.links.orders.length > 0 && d.data.links.contactedUsers.length > 0 && d.data.subscribeHistory.length > 0;
    })!.id;
  });
  afterAll(() => sim.close());

  it('routes all 32 documented endpoints (29 v2, 3 v1)', () => {
    expect(ROUTES.filter((r) => r.template.startsWith('/api/v2/'))).toHaveLength(29);
    expect(ROUTES.filter((r) => r.template.startsWith('/api/v1/'))).toHaveLength(3);
    expect(new Set(ROUTES.map((r) => `${r.method} ${r.template}`)).size).toBe(32);
  });

  it('GET /people: {status, data: [person], meta}', async () => {
    const r = await get(sim, `/api/v2/people?${WIDE}&limit=5`);
    expect(r.status).toBe(200);
    expect(keys(r.json)).toEqual(['data', 'meta', 'status']);
    expect(r.json.status).toBe(1);
    expect(keys(r.json.meta)).toEqual(META);
    expect(r.json.data).toHaveLength(5);
    for (const p of r.json.data) {
      expect(keys(p)).toEqual(PERSON_ITEM);
      for (const a of p.accounts) expect(keys(a)).toEqual(ACCOUNT_REF);
    }
    expect(r.json.data).toEqual([...sim.store.peopleList()].slice(0, 5));
  });

  it('GET /people/{id}?include=contactedUsers,orders: {data, included: {users, orders}, status}', async () => {
    const r = await get(sim, `/api/v2/people/${richPerson}?include=contactedUsers,orders`);
    expect(keys(r.json)).toEqual(['data', 'included', 'status']);
    expect(keys(r.json.data)).toEqual(PERSON_DETAIL);
    expect(keys(r.json.data.links)).toEqual(['contactedUsers', 'orders']);
    expect(r.json.data.links.orders[0].type).toBe('orders');
    expect(r.json.data.links.contactedUsers[0].type).toBe('users');
    expect(keys(r.json.data.subscribeHistory[0])).toEqual(SUBSCRIBE);
    expect(keys(r.json.included)).toEqual(['orders', 'users']);
    expect(keys(r.json.included.users[0])).toEqual(USER);
    expect(keys(r.json.included.orders[0])).toEqual(['currency', 'id', 'price', 'status', 'title', 'updatedAt']);
    expect({ data: r.json.data, included: r.json.included }).toEqual(sim.store.personDetail(richPerson));
    const bare = await get(sim, `/api/v2/people/${richPerson}`);
    expect(bare.json.included).toEqual({});
    expect(bare.json.data).toEqual(r.json.data);
  });

  it('GET /communication-channels: channels with utmMarks', async () => {
    const r = await get(sim, '/api/v2/communication-channels?limit=3');
    expect(keys(r.json)).toEqual(['data', 'meta', 'status']);
    for (const c of r.json.data) expect(keys(c)).toEqual(CHANNEL_ITEM);
    expect(r.json.data).toEqual([...sim.store.channelsList()].slice(0, 3));
    expect(r.json.meta.totalCount).toBe(sim.store.counts().channels);
  });

  it('GET /communication-channels/{id}/person: the person detail, included {} without include', async () => {
    const r = await get(sim, `/api/v2/communication-channels/${channelId}/person`);
    expect(keys(r.json)).toEqual(['data', 'included', 'status']);
    expect(r.json.data).toEqual(sim.store.personDetail(personId)!.data);
    expect(r.json.included).toEqual({});
  });

  it('GET /communication-channels/{id}/chat-messages: paged messages', async () => {
    const r = await get(sim, `/api/v2/communication-channels/${channelId}/chat-messages?limit=2`);
    expect(keys(r.json)).toEqual(['data', 'meta', 'status']);
    const all = sim.store.chatMessages(channelId)!;
    expect(r.json.meta.totalCount).toBe(all.length);
    expect(r.json.data).toEqual(all.slice(0, 2));
    for (const m of r.json.data) expect(keys(m).filter((k) => k !== 'links')).toEqual(MESSAGE);
  });

  it('GET /orders and GET /orders/{id}', async () => {
    const list = await get(sim, '/api/v2/orders?limit=1');
    expect(keys(list.json)).toEqual(['data', 'meta', 'status']);
    expect(keys(list.json.data[0])).toEqual(ORDER_ITEM);
    // Like the docs' example: limit 1, one item, filteredCount 20.
    expect(list.json.meta.filteredCount).toBe(20);
    const id = list.json.data[0].id;
    const one = await get(sim, `/api/v2/orders/${id}`);
    expect(keys(one.json)).toEqual(['data', 'status']);
    expect(keys(one.json.data)).toEqual(ORDER_DETAIL);
    expect(one.json.data).toEqual(sim.store.orderDetail(id));
  });

  it('GET /tags: {status, data: [{id, name}]} without meta', async () => {
    const r = await get(sim, '/api/v2/tags');
    expect(keys(r.json)).toEqual(['data', 'status']);
    expect(r.json.data).toEqual(sim.store.tags());
    expect(keys(r.json.data[0])).toEqual(['id', 'name']);
  });

  it('GET /tunnels, /tunnels/{id}?include=leadgentools, /tunnels/stats, /tunnels/{id}/stats', async () => {
    const list = await get(sim, '/api/v2/tunnels');
    expect(keys(list.json)).toEqual(['data', 'meta', 'status']);
    expect(list.json.data).toEqual(sim.store.tunnelsList());
    expect(keys(list.json.data[0])).toEqual(USER);
    const id = list.json.data[0].id;
    const one = await get(sim, `/api/v2/tunnels/${id}?include=leadgentools`);
    expect(keys(one.json)).toEqual(['data', 'linked', 'status']);
    expect(keys(one.json.data)).toEqual(['createdAt', 'id', 'links', 'name', 'updatedAt']);
    expect(keys(one.json.data.links.leadgentools[0])).toEqual(['id', 'type']);
    expect(one.json.data.links.leadgentools[0].type).toBe('leadgentools');
    expect(keys(one.json.linked.leadgentools[0])).toEqual(['id', 'name', 'type']);
    expect({ data: one.json.data, linked: one.json.linked }).toEqual(sim.store.tunnelDetail(id));
    const stats = await get(sim, `/api/v2/tunnels/${id}/stats`);
    expect(keys(stats.json)).toEqual(['data', 'status']);
    expect(keys(stats.json.data[0])).toEqual(STATS);
    expect(stats.json.data).toEqual(sim.store.tunnelStats(id));
    const all = await get(sim, '/api/v2/tunnels/stats');
    expect(all.json.data).toEqual(sim.store.allTunnelStats());
    const sum = sim.store.tunnelsList().reduce((a, t) => a + sim.store.tunnelStats(t.id)![0]!.subscribers, 0);
    expect(all.json.data[0].subscribers).toBe(sum);
  });

  it('GET /users and /users/{id}', async () => {
    const list = await get(sim, '/api/v2/users?limit=3');
    expect(list.json.data).toEqual(sim.store.users().slice(0, 3));
    expect(list.json.meta.totalCount).toBe(10);
    const one = await get(sim, `/api/v2/users/${list.json.data[1].id}`);
    expect(keys(one.json)).toEqual(['data', 'status']);
    expect(one.json.data).toEqual(list.json.data[1]);
  });

  it('GET /connections: {data: {connections}}', async () => {
    const r = await get(sim, '/api/v2/connections');
    expect(keys(r.json)).toEqual(['data', 'status']);
    expect(keys(r.json.data)).toEqual(['connections']);
    expect(r.json.data.connections).toEqual(sim.store.connections());
    expect(keys(r.json.data.connections[0])).toEqual(['id', 'name', 'type']);
  });

  it('GET /categories/templates and /categories/templates/{id}', async () => {
    const cats = await get(sim, '/api/v2/categories/templates');
    expect(cats.json).toEqual({ data: { categories: sim.store.templateCategories() }, status: 1 });
    const id = cats.json.data.categories[0].id;
    const tpls = await get(sim, `/api/v2/categories/templates/${id}`);
    expect(tpls.json).toEqual({ data: { templates: sim.store.templates(id) }, status: 1 });
    expect(keys(tpls.json.data.templates[0])).toEqual(['id', 'message_name']);
  });

  it('v1 GET /accounts, /accounts/{id}?include=…, /accounts/{id}/chat-messages', async () => {
    const list = await get(sim, '/api/v1/accounts?limit=3');
    expect(keys(list.json)).toEqual(['data', 'meta', 'status']);
    for (const a of list.json.data) expect(keys(a)).toEqual(ACCOUNT_ITEM);
    expect(list.json.data).toEqual([...sim.store.accountsList()].slice(0, 3));
    const rich = sim.store.personDetail(richPerson)!;
    const accountId = rich.data.accounts[0]!.account_id;
    const one = await get(sim, `/api/v1/accounts/${accountId}?include=contactedUsers,orders`);
    expect(keys(one.json)).toEqual(['data', 'included', 'status']);
    expect(keys(one.json.data)).toEqual([
      'botStatus', 'createdAt', 'custom_fields', 'email', 'from', 'gender', 'id', 'links', 'locale', 'name', 'phone', 'subscribeHistory', 'tags', 'updatedAt',
    ]);
    expect(Array.isArray(one.json.data.custom_fields)).toBe(false);
    for (const f of rich.data.custom_fields) expect(one.json.data.custom_fields[f.name]).toBe(f.value);
    for (const h of one.json.data.subscribeHistory) expect(keys(h)).toEqual(['leadgentoolName', 'trafficSource', 'tunnelName']);
    expect(keys(one.json.included.orders[0])).toEqual(['currency', 'paymentMethod', 'price', 'status', 'updatedAt']);
    expect({ data: one.json.data, included: one.json.included }).toEqual(sim.store.accountDetail(accountId));
    const msgs = await get(sim, `/api/v1/accounts/${accountId}/chat-messages?limit=3`);
    expect(msgs.json.data).toEqual(sim.store.chatMessages(accountId)!.slice(0, 3));
  });

  it('answers every route (reads and writes) with JSON and status 1 for a valid request', async () => {
    const tag = sim.store.tags()[0]!.id;
    const tunnel = sim.store.tunnelsList()[0]!;
    const lgt = sim.store.tunnelDetail(tunnel.id)!.linked.leadgentools[0]!.id;
    const cat = sim.store.templateCategories()[0]!.id;
    const tpl = sim.store.templates(cat)![0]!.id;
    const manual = [...sim.store.ordersList()].find((o) => sim.store.orderDetail(o.id)!.paymentMethod === 'MANUAL')!.id;
    const conn = sim.store.connections().find((c) => c.type === 'sms')!.id;
    const offer = sim.store.offers()[0]!.id;
    const credits = sim.store.paymentCredits()[0]!.id;
    const seen = new Set<string>();
    const requests: [string, string, unknown?][] = [
      ['GET', '/api/v2/categories/templates'],
      ['GET', `/api/v2/categories/templates/${cat}`],
      ['POST', '/api/v2/messages/send-template', { account_id: channelId, template_id: tpl, variables: { name: 'Ann' } }],
      ['GET', `/api/v2/communication-channels/${channelId}/chat-messages`],
      ['POST', '/api/v2/messages/send-message', { account_id: channelId, text: 'hi' }],
      ['GET', '/api/v2/communication-channels'],
      ['GET', `/api/v2/communication-channels/${channelId}/person`],
      ['POST', `/api/v2/leadgentools/${lgt}/create-traffic-source`, { name: 'ts', description: 'd' }],
      ['POST', '/api/v2/orders', { personId, offerId: offer, paymentCreditsId: credits, isNotifyAccount: 'false' }],
      ['GET', '/api/v2/orders'],
      ['GET', `/api/v2/orders/${manual}`],
      ['POST', `/api/v2/orders/${manual}`, { status: 'RESOLVED' }],
      ['GET', `/api/v2/people?${WIDE}`],
      ['GET', `/api/v2/people/${personId}?include=contactedUsers,orders`],
      ['PUT', `/api/v2/people/${personId}`, { email: 'x@example.com' }],
      ['POST', '/api/v2/people', { name: 'N', email: 'n@example.com', phone: '+380501112233', leadgentool_id: lgt }],
      ['POST', '/api/v2/people/sms', { data: [{ name: 'S', phone: '+380501119999' }], connection_id: conn, leadgentool_id: lgt, tags: [tag] }],
      ['PUT', `/api/v2/people/${personId}/add-comment`, { comment: 'c' }],
      ['GET', '/api/v2/tags'],
      ['PUT', `/api/v2/people/${personId}/remove-tag`, { tag_id: tag }],
      ['PUT', `/api/v2/people/${personId}/add-tag`, { tag_id: tag }],
      ['GET', '/api/v2/tunnels'],
      ['GET', `/api/v2/tunnels/${tunnel.id}?include=leadgentools`],
      ['GET', '/api/v2/tunnels/stats'],
      ['GET', `/api/v2/tunnels/${tunnel.id}/stats`],
      ['GET', '/api/v2/users'],
      ['GET', `/api/v2/users/${sim.store.users()[0]!.id}`],
      ['GET', '/api/v2/connections'],
      ['POST', `/api/v2/communication-channels/${channelId}/manual-subscribe`, { tunnel_id: tunnel.id, tunnel_block_id: 'aaaaaaaaaaaaaaaaaaaaaaaa' }],
      ['GET', '/api/v1/accounts'],
      ['GET', `/api/v1/accounts/${channelId}?include=contactedUsers,orders`],
      ['GET', `/api/v1/accounts/${channelId}/chat-messages`],
    ];
    sim.resetCounts();
    for (const [method, path, body] of requests) {
      const r = await call(sim, method, path, body === undefined ? {} : { json: body });
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
      expect(r.json.status).toBe(1);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    }
    for (const k of Object.keys(sim.requestCounts())) seen.add(k);
    expect([...seen].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.template}`).sort());
  });
});
