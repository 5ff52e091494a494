import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, WIDE, call, get } from './helpers.js';

describe('writes', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator({ seed: 5, people: 120, now: NOW });
  });
  afterEach(() => sim.close());

  const person = (i = 0) => [...sim.store.peopleList()][i]!;
  const oldest = () => [...sim.store.peopleList()].at(-1)!;

  it('add-tag by id adds the name once (idempotent) in form-data, urlencoded and JSON; remove-tag removes it', async () => {
    const p = oldest();
    const name = 'Клиент, опт';
    const tagId = sim.store.tagIdByName(name)!;
    const without = p.tags.filter((t) => t !== name);
    if (p.tags.includes(name)) await call(sim, 'PUT', `/api/v2/people/${p.id}/remove-tag`, { json: { tag_id: tagId } });
    const before = sim.store.personDetail(p.id)!.data.updated_at;

    const r1 = await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { multipart: { tag_id: tagId } });
    expect(r1.status).toBe(200);
    expect(r1.json).toEqual({ status: 1, data: {} });
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { form: { tag_id: tagId } });
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { json: { tag_id: tagId } });
    const d = sim.store.personDetail(p.id)!.data;
    expect(d.tags).toEqual([...without, name]);
    expect(Date.parse(d.updated_at)).toBeGreaterThan(Date.parse(before));
    // Tags do not move lastMessageTime.
    expect([...sim.store.peopleList()].find((x) => x.id === p.id)!.lastMessageTime).toBe(p.lastMessageTime);
    const listed = await get(sim, `/api/v2/people?${WIDE}&filter[tags]=${encodeURIComponent(name)}&limit=500`);
    expect(listed.json.data.map((x: { id: string }) => x.id)).toContain(p.id);

    const rm = await call(sim, 'PUT', `/api/v2/people/${p.id}/remove-tag`, { multipart: { tag_id: tagId } });
    expect(rm.json).toEqual({ status: 1, data: {} });
    expect(sim.store.personDetail(p.id)!.data.tags).toEqual(without);
    // Removing a tag the person does not have is fine.
    expect((await call(sim, 'PUT', `/api/v2/people/${p.id}/remove-tag`, { json: { tag_id: tagId } })).status).toBe(200);

    const log = sim.writeLog().filter((e) => e.route.endsWith('add-tag'));
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({ method: 'PUT', route: '/api/v2/people/:id/add-tag', params: { id: p.id }, body: { tag_id: tagId } });
    expect(log.map((e) => e.seq)).toEqual([...log.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('rejects add-tag with a missing, malformed or unknown tag and an unknown person', async () => {
    const p = person();
    const missing = await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { json: {} });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ status: 0, error: { fields: { tag_id: 'REQUIRED' }, code: 'FORMAT_ERROR' } });
    expect((await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { json: { tag_id: 'vip' } })).status).toBe(400);
    expect((await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { json: { tag_id: 'ffffffffffffffffffffffff' } })).status).toBe(404);
    expect((await call(sim, 'PUT', '/api/v2/people/ffffffffffffffffffffffff/add-tag', { json: { tag_id: sim.store.tags()[0]!.id } })).status).toBe(404);
    expect((await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { headers: { 'content-type': 'application/json' }, json: undefined })).status).toBe(400);
    const broken = await fetch(`${sim.url}/api/v2/people/${p.id}/add-tag`, {
      method: 'PUT',
      headers: { 'X-Leeloo-AuthToken': sim.token, 'content-type': 'application/json' },
      body: '{"tag_id": ',
    });
    expect(broken.status).toBe(400);
    expect(sim.writeLog()).toEqual([]);
  });

  it('add-comment stores one comment per call and answers the documented comment object', async () => {
    const p = person(3);
    const r = await call(sim, 'PUT', `/api/v2/people/${p.id}/add-comment`, { json: { comment: 'some text' } });
    expect(r.json.status).toBe(1);
    expect(Object.keys(r.json.data).sort()).toEqual(['company_id', 'created_at', 'created_by', 'entity_id', 'entity_type', 'id', 'text', 'updated_at']);
    expect(r.json.data).toMatchObject({ text: 'some text', entity_id: p.id, entity_type: 'PERSON', created_by: sim.store.apiUserId() });
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-comment`, { form: { comment: 'some text' } });
    const comments = sim.store.comments(p.id);
    expect(comments).toHaveLength(2);
    expect(comments[0]).toEqual(r.json.data);
    expect(comments[1]!.id).not.toBe(comments[0]!.id);
    expect((await call(sim, 'PUT', `/api/v2/people/${p.id}/add-comment`, { json: { comment: '   ' } })).status).toBe(400);
    expect(sim.store.counts().comments).toBe(2);
  });

  it('PUT /people/{id} updates phone, email and custom fields (merged by name) and updated_at', async () => {
    const p = oldest();
    const before = sim.store.personDetail(p.id)!.data;
    const r = await call(sim, 'PUT', `/api/v2/people/${p.id}`, {
      json: {
        phone: '+380669991876',
        email: 'newmail@gmail.com',
        custom_fields: [
          { type: 'EMAIL', name: 'emailcust', value: 'customemail@gmail.com' },
          ...before.custom_fields.slice(0, 1).map((f) => ({ ...f, value: 'changed' })),
        ],
      },
    });
    expect(r.json).toEqual({ status: 1, data: {} });
    const after = sim.store.personDetail(p.id)!.data;
    expect(after.phone).toBe('+380669991876');
    expect(after.email).toBe('newmail@gmail.com');
    expect(after.custom_fields.find((f) => f.name === 'emailcust')).toEqual({ type: 'EMAIL', name: 'emailcust', value: 'customemail@gmail.com' });
    expect(after.custom_fields).toHaveLength(before.custom_fields.length + 1);
    if (before.custom_fields[0]) expect(after.custom_fields[0]!.value).toBe('changed');
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    const listed = [...sim.store.peopleList()].find((x) => x.id === p.id)!;
    expect(listed.phone).toBe('+380669991876');

    for (const body of [{}, { phone: '380669991876' }, { email: 'not-an-email' }, { custom_fields: [{ type: 'COLOR', name: 'x', value: 'red' }] }]) {
      const bad = await call(sim, 'PUT', `/api/v2/people/${p.id}`, { json: body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.error.code).toBe('FORMAT_ERROR');
    }
  });

  it('POST /people creates a person with a MANUAL channel in the documented shape', async () => {
    const lgt = sim.store.tunnelDetail(sim.store.tunnelsList()[0]!.id)!.linked.leadgentools[0]!.id;
    const user = sim.store.users()[2]!.id;
    const before = sim.store.counts();
    const r = await call(sim, 'POST', '/api/v2/people', {
      json: { name: 'Feliks', email: 'feliks@gmail.com', phone: '+380953066789', leadgentool_id: lgt, connected_users_ids: [user] },
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.data).sort()).toEqual(
      ['botStatus', 'connectionStatus', 'createdAt', 'email', 'from', 'gender', 'id', 'locale', 'name', 'person_id', 'phone', 'subscribeHistory', 'tags', 'updatedAt'].sort(),
    );
    expect(r.json.data).toMatchObject({ name: 'Feliks', from: 'MANUAL', botStatus: 'BOT', connectionStatus: 'OK', gender: 'NOT_DEFINED', locale: '', tags: [], subscribeHistory: [] });
    const after = sim.store.counts();
    expect(after.people).toBe(before.people + 1);
    expect(after.channels).toBe(before.channels + 1);
    const listed = person(0);
    expect(listed.id).toBe(r.json.data.person_id);
    expect(listed.accounts).toEqual([expect.objectContaining({ account_id: r.json.data.id, from: 'MANUAL' })]);
    expect(sim.store.personDetail(listed.id)!.data.links.contactedUsers).toEqual([{ type: 'users', id: user }]);
    expect(sim.store.chatMessages(r.json.data.id)![0]!.createdAt).toBe(listed.lastMessageTime);

    const base = { name: 'A', email: 'a@example.com', phone: '+380501234567', leadgentool_id: lgt };
    expect((await call(sim, 'POST', '/api/v2/people', { json: { ...base, phone: '0501234567' } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people', { json: { ...base, phone: '+38 050' } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people', { json: { ...base, name: '' } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people', { json: { ...base, leadgentool_id: undefined } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people', { json: { ...base, leadgentool_id: 'ffffffffffffffffffffffff' } })).status).toBe(404);
    expect(sim.store.counts().people).toBe(after.people);
  });

  it('POST /people/sms adds SMS channels (to known phones) or people, with tags by id', async () => {
    const conn = sim.store.connections().find((c) => c.type === 'sms')!.id;
    const lgt = sim.store.tunnelDetail(sim.store.tunnelsList()[1]!.id)!.linked.leadgentools[0]!.id;
    const known = [...sim.store.peopleList()].find((p) => p.phone !== 'NOT_DEFINED' && !p.accounts.some((a) => a.from === 'SMS'))!;
    const tag = sim.store.tags()[5]!;
    const before = sim.store.counts();
    const r = await call(sim, 'POST', '/api/v2/people/sms', {
      json: {
        data: [
          { name: 'test123', email: 'test123@example.com', phone: '+380667772233' },
          { name: 'known', phone: known.phone },
        ],
        connection_id: conn,
        leadgentool_id: lgt,
        tags: [tag.id],
      },
    });
    expect(r.json).toEqual({ data: { count_to_process: 2 }, status: 1 });
    expect(sim.store.counts().people).toBe(before.people + 1);
    expect(sim.store.counts().channels).toBe(before.channels + 2);
    const k = sim.store.personDetail(known.id)!.data;
    expect(k.accounts.map((a) => a.from)).toContain('SMS');
    expect(k.tags).toContain(tag.name);
    const fresh = [...sim.store.peopleList()].find((p) => p.phone === '+380667772233')!;
    expect(fresh.accounts).toEqual([expect.objectContaining({ from: 'SMS', connection_id: conn })]);
    expect(fresh.tags).toEqual([tag.name]);
    expect((await call(sim, 'POST', '/api/v2/people/sms', { json: { data: [], connection_id: conn, leadgentool_id: lgt } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people/sms', { json: { data: [{ name: 'x', phone: '123' }], connection_id: conn, leadgentool_id: lgt } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/people/sms', { json: { data: [{ name: 'x', phone: '+123456' }], connection_id: conn, leadgentool_id: lgt, tags: ['ffffffffffffffffffffffff'] } })).status).toBe(404);
  });

  it('POST /orders creates an OPENED MANUAL order; POST /orders/{id} updates only manual orders', async () => {
    const p = person(7);
    const offer = sim.store.offers()[1]!;
    const r = await call(sim, 'POST', '/api/v2/orders', {
      json: { paymentCreditsId: sim.store.paymentCredits()[0]!.id, email: 'e@x.com', phone: '+380669999777', transactionDate: '2020-02-04T11:46:48.803Z', offerId: offer.id, isNotifyAccount: 'false', personId: p.id },
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.data).sort()).toEqual(['createdAt', 'currency', 'id', 'price', 'status', 'title', 'updatedAt']);
    expect(r.json.data).toMatchObject({ title: offer.name, price: offer.price, currency: offer.currency, status: 'OPENED' });
    const id = r.json.data.id as string;
    expect([...sim.store.ordersList()][0]!.id).toBe(id);
    expect(sim.store.orderDetail(id)).toMatchObject({ paymentMethod: 'MANUAL', status: 'OPENED' });
    expect(sim.store.personDetail(p.id)!.data.links.orders.map((o) => o.id)).toContain(id);

    const up = await call(sim, 'POST', `/api/v2/orders/${id}`, { multipart: { status: 'RESOLVED', paymentDate: '2018-06-27 07:32', currency: 'RUB', price: '100', userComments: 'actual date dont match' } });
    expect(up.json).toEqual({ data: { id }, status: 1 });
    const d = sim.store.orderDetail(id)!;
    expect(d).toMatchObject({ status: 'RESOLVED', price: 100, currency: 'RUB' });
    expect(Date.parse(d.updatedAt)).toBeGreaterThanOrEqual(Date.parse(d.createdAt));
    // Setting it again (a retried update) is accepted.
    expect((await call(sim, 'POST', `/api/v2/orders/${id}`, { form: { status: 'REJECTED' } })).json.status).toBe(1);
    expect(sim.store.orderDetail(id)!.status).toBe('REJECTED');

    for (const body of [{}, { status: 'SUCCESS' }, { status: 'RESOLVED', price: 'ten' }, { status: 'RESOLVED', currency: 'GBP' }, { status: 'RESOLVED', paymentDate: 'soon' }]) {
      const bad = await call(sim, 'POST', `/api/v2/orders/${id}`, { form: body as Record<string, string> });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.status).toBe(0);
    }
    const paid = [...sim.store.ordersList()].find((o) => sim.store.orderDetail(o.id)!.paymentMethod !== 'MANUAL')!;
    const refused = await call(sim, 'POST', `/api/v2/orders/${paid.id}`, { form: { status: 'RESOLVED' } });
    expect(refused.status).toBe(400);
    expect(refused.json.status).toBe(0);
    expect(sim.store.orderDetail(paid.id)!.status).toBe(paid.status);

    expect((await call(sim, 'POST', '/api/v2/orders', { json: { personId: p.id, offerId: offer.id } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/orders', { json: { personId: p.id, offerId: 'ffffffffffffffffffffffff', paymentCreditsId: sim.store.paymentCredits()[0]!.id } })).status).toBe(404);
    expect(sim.writeLog().map((e) => `${e.method} ${e.route}`)).toEqual(['POST /api/v2/orders', 'POST /api/v2/orders/:id', 'POST /api/v2/orders/:id']);
  });

  it('send-message appends a YOUR_MESSAGE and moves lastMessageTime of the channel and the person', async () => {
    const p = oldest();
    const channelId = p.accounts[0]!.account_id;
    const history = sim.store.chatMessages(channelId)!;
    const t0 = Date.now();
    const r = await call(sim, 'POST', '/api/v2/messages/send-message', { json: { account_id: channelId, text: 'текст сообщения\nline 2' } });
    expect(r.json).toEqual({ status: 1, data: {} });
    const after = sim.store.chatMessages(channelId)!;
    expect(after).toHaveLength(history.length + 1);
    expect(after.slice(1)).toEqual(history);
    expect(after[0]).toMatchObject({ text: 'текст сообщения\nline 2', type: 'YOUR_MESSAGE', links: { createdBy: { type: 'users', id: sim.store.apiUserId() } } });
    expect(Date.parse(after[0]!.createdAt)).toBeGreaterThanOrEqual(t0);
    expect(person(0).id).toBe(p.id);
    expect(person(0).lastMessageTime).toBe(after[0]!.createdAt);
    expect([...sim.store.channelsList()][0]!.id).toBe(channelId);
    expect(sim.store.personDetail(p.id)!.data.updated_at).toBe(after[0]!.createdAt);
    const page = await get(sim, `/api/v2/communication-channels/${channelId}/chat-messages?limit=1`);
    expect(page.json.data).toEqual([after[0]]);
    expect(page.json.meta.totalCount).toBe(history.length + 1);

    expect((await call(sim, 'POST', '/api/v2/messages/send-message', { json: { account_id: channelId } })).status).toBe(400);
    expect((await call(sim, 'POST', '/api/v2/messages/send-message', { json: { account_id: 'ffffffffffffffffffffffff', text: 'x' } })).status).toBe(404);
  });

  it('send-template sends the template text with variables filled in', async () => {
    const channelId = oldest().accounts[0]!.account_id;
    const cat = sim.store.templateCategories()[0]!.id;
    const tpl = sim.store.templates(cat)![0]!;
    const r = await call(sim, 'POST', '/api/v2/messages/send-template', { json: { account_id: channelId, template_id: tpl.id, variables: { name: 'Ann', link: 'https://x.example' } } });
    expect(r.json).toEqual({ status: 1, data: {} });
    const m = sim.store.chatMessages(channelId)![0]!;
    expect(m.type).toBe('YOUR_MESSAGE');
    expect(m.text).not.toContain('{name}');
    expect(m.text).not.toContain('{link}');
    expect(person(0).lastMessageTime).toBe(m.createdAt);
    expect((await call(sim, 'POST', '/api/v2/messages/send-template', { json: { account_id: channelId, template_id: 'ffffffffffffffffffffffff' } })).status).toBe(404);
  });

  it('manual-subscribe records a subscription; create-traffic-source answers the traffic source object', async () => {
    const p = person(4);
    const channelId = p.accounts[0]!.account_id;
    const tunnel = sim.store.tunnelsList()[2]!;
    const stats = sim.store.tunnelStats(tunnel.id)![0]!;
    const before = sim.store.personDetail(p.id)!.data.subscribeHistory;
    const r = await call(sim, 'POST', `/api/v2/communication-channels/${channelId}/manual-subscribe`, { multipart: { tunnel_id: tunnel.id, tunnel_block_id: '5b3f543bb2737000133d25b0' } });
    expect(r.json).toEqual({ status: 1, data: {} });
    const after = sim.store.personDetail(p.id)!.data.subscribeHistory;
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)).toMatchObject({ tunnelId: tunnel.id, tunnelName: tunnel.name, accountId: channelId });
    expect(sim.store.tunnelStats(tunnel.id)![0]!.subscribers).toBe(stats.subscribers + 1);
    expect((await call(sim, 'POST', `/api/v2/communication-channels/${channelId}/manual-subscribe`, { form: { tunnel_id: tunnel.id } })).status).toBe(400);

    const lgt = sim.store.tunnelDetail(tunnel.id)!.linked.leadgentools[0]!.id;
    const ts = await call(sim, 'POST', `/api/v2/leadgentools/${lgt}/create-traffic-source`, { json: { name: 'some ts', description: 'some ts description' } });
    expect(Object.keys(ts.json.data).sort()).toEqual(
      ['company_id', 'createdAt', 'created_by', 'description', 'disabled', 'fb_adset_id', 'hash', 'id', 'leadgentool_id', 'name', 'resubscribe_button_id', 'synchronization_error', 'synchronized_with_fb', 'tunnel_id', 'type', 'updatedAt'].sort(),
    );
    expect(ts.json.data).toMatchObject({ type: 'normal', fb_adset_id: null, name: 'some ts', leadgentool_id: lgt, tunnel_id: tunnel.id, disabled: false });
    expect(sim.store.trafficSources(lgt).at(-1)).toEqual(ts.json.data);
    expect((await call(sim, 'POST', `/api/v2/leadgentools/${lgt}/create-traffic-source`, { json: { description: 'no name' } })).status).toBe(400);
  });

  it('logs every applied write with route template, path params, parsed body and time', async () => {
    const p = person(1);
    const tag = sim.store.tags()[0]!.id;
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-tag`, { form: { tag_id: tag } });
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-comment`, { json: { comment: 'x' } });
    await call(sim, 'PUT', `/api/v2/people/${p.id}/add-comment`, { json: {} });
    await get(sim, '/api/v2/tags');
    const log = sim.writeLog();
    expect(log).toHaveLength(2);
    expect(log[0]).toEqual({ seq: 1, method: 'PUT', route: '/api/v2/people/:id/add-tag', params: { id: p.id }, body: { tag_id: tag }, at: expect.any(String) });
    expect(log[1]).toMatchObject({ seq: 2, route: '/api/v2/people/:id/add-comment', body: { comment: 'x' } });
    const remote = await fetch(`${sim.url}/__sim/write-log`);
    expect(await remote.json()).toEqual(log);
  });
});
