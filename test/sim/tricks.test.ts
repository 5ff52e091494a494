import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseSimOptions } from '../../src/cli/sim.js';
import { call } from './helpers.js';
import { closedAfterEach } from '../helpers/sim.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const window = '?filter[last_message][from]=2015-01-01&filter[last_message][to]=2030-01-01&limit=1000';

describe('simulator: what an incremental sync cannot see', () => {
  const fresh = closedAfterEach();

  it('silent edits change tags, emails and custom fields without moving lastMessageTime', async () => {
    const sim = await fresh.simulator({ seed: 4, people: 100, now: NOW });
    const before = new Map([...sim.store.peopleList()].map((p) => [p.id, p]));
    const details = new Map([...before.keys()].map((id) => [id, sim!.store.personDetail(id)!.data]));
    const r = await fetch(`${sim.url}/__sim/silent-edits`, { method: 'POST', body: JSON.stringify({ share: 0.09 }) }).then((x) => x.json() as Promise<Record<string, string[]>>);
    expect(r.tag!.length + r.email!.length + r.customField!.length).toBe(9);
    expect(r.tag).toHaveLength(3);
    for (const id of [...r.tag!, ...r.email!, ...r.customField!]) {
      const p = [...sim.store.peopleList()].find((x) => x.id === id)!;
      const d = sim.store.personDetail(id)!.data;
      expect(p.lastMessageTime).toBe(before.get(id)!.lastMessageTime);
      expect(d.updated_at).not.toBe(details.get(id)!.updated_at);
      if (r.tag!.includes(id)) expect(p.tags).not.toEqual(before.get(id)!.tags);
      if (r.email!.includes(id)) expect(p.email).not.toBe(before.get(id)!.email);
      if (r.customField!.includes(id)) expect(d.custom_fields).not.toEqual(details.get(id)!.custom_fields);
    }
    // Listed in the same order: nothing moved.
    expect([...sim.store.peopleList()].map((p) => p.id)).toEqual([...before.keys()]);
    const bad = await fetch(`${sim.url}/__sim/silent-edits`, { method: 'POST', body: JSON.stringify({ share: 2 }) });
    expect(bad.status).toBe(400);
  });

  it('deleted people leave the lists and answer 404, their orders stay; restored they are back', async () => {
    const sim = await fresh.simulator({ seed: 4, people: 50, now: NOW });
    const withOrders = [...sim.store.ordersList()][0]!.person_id;
    const orders = [...sim.store.ordersList()].length;
    const gone = sim.deletePeople({ ids: [withOrders] });
    const channel = gone.channelIds[0]!;
    const list = await call(sim, 'GET', `/api/v2/people${window}`);
    expect(list.json.meta.totalCount).toBe(49);
    expect(list.json.data.some((p: { id: string }) => p.id === withOrders)).toBe(false);
    expect((await call(sim, 'GET', `/api/v2/communication-channels${window}`)).json.data.some((c: { id: string }) => c.id === channel)).toBe(false);
    expect((await call(sim, 'GET', `/api/v1/accounts?limit=1000`)).json.data.some((c: { id: string }) => c.id === channel)).toBe(false);
    expect((await call(sim, 'GET', `/api/v2/people/${withOrders}`)).status).toBe(404);
    expect((await call(sim, 'GET', `/api/v2/communication-channels/${channel}/chat-messages`)).status).toBe(404);
    expect([...sim.store.ordersList()].length).toBe(orders);
    const more = await fetch(`${sim.url}/__sim/delete-people`, { method: 'POST', body: JSON.stringify({ share: 0.1 }) }).then((x) => x.json() as Promise<{ personIds: string[] }>);
    expect(more.personIds).toHaveLength(5);
    expect(more.personIds).not.toContain(withOrders);

    const back = await fetch(`${sim.url}/__sim/restore-people`, { method: 'POST', body: JSON.stringify({ ids: [withOrders] }) });
    expect(back.status).toBe(200);
    expect((await call(sim, 'GET', `/api/v2/people/${withOrders}`)).status).toBe(200);
    expect((await call(sim, 'GET', `/api/v2/communication-channels/${channel}/chat-messages`)).status).toBe(200);
    expect((await call(sim, 'GET', `/api/v2/people${window}`)).json.meta.totalCount).toBe(45);
    // Deleted people write nothing.
    const report = sim.activity({ messages: 200 });
    expect(new Set(report.messagedChannelIds).size).toBeGreaterThan(0);
    const dead = new Set(more.personIds);
    const byId = new Map([...sim.store.channelsList()].map((c) => [c.id, c.person_id]));
    expect(report.messagedChannelIds.every((c) => byId.has(c) && !dead.has(byId.get(c)!))).toBe(true);
  });

  it('notFoundRate breaks a share of detail and chat-history requests, nothing else', async () => {
    const sim = await fresh.simulator({ seed: 4, people: 200, now: NOW });
    await fetch(`${sim.url}/__sim/knobs`, { method: 'POST', body: JSON.stringify({ notFoundRate: 0.3 }) });
    expect(sim.knobs.notFoundRate).toBe(0.3);
    const people = [...sim.store.peopleList()];
    let missing = 0;
    for (const p of people) if ((await call(sim, 'GET', `/api/v2/people/${p.id}`)).status === 404) missing++;
    expect(missing / people.length).toBeGreaterThan(0.2);
    expect(missing / people.length).toBeLessThan(0.4);
    let chat404 = 0;
    const channels = [...sim.store.channelsList()].slice(0, 100);
    for (const c of channels) if ((await call(sim, 'GET', `/api/v2/communication-channels/${c.id}/chat-messages`)).status === 404) chat404++;
    expect(chat404).toBeGreaterThan(15);
    for (let i = 0; i < 20; i++) expect((await call(sim, 'GET', `/api/v2/people${window}`)).status).toBe(200);
    for (const o of [...sim.store.ordersList()].slice(0, 20)) expect((await call(sim, 'GET', `/api/v2/orders/${o.id}`)).status).toBe(200);
    expect(() => sim!.setKnobs({ notFoundRate: 1.5 })).toThrow(/notFoundRate/);
  });

  it('nul-strings puts U+0000 into names, custom field values, message texts and a tag name, served as the JSON escape', async () => {
    const sim = await fresh.simulator({ seed: 4, people: 60, now: NOW });
    const before = [...sim.store.peopleList()];
    const r = await fetch(`${sim.url}/__sim/nul-strings`, { method: 'POST', body: JSON.stringify({ share: 0.1 }) }).then((x) => x.json() as Promise<{ personIds: string[]; messageIds: string[]; tag: string | null; tunnelId: string | null }>);
    expect(r.personIds).toHaveLength(6);
    expect(r.messageIds.length).toBeGreaterThan(0);
    expect(r.tag).toContain('\u0000');
    expect((await call(sim, 'GET', `/api/v2/tunnels/${r.tunnelId}`)).json.data.name).toContain('\u0000');
    const list = await call(sim, 'GET', `/api/v2/people${window}`);
    // The wire carries the escape (JSON.stringify writes U+0000 as \u0000), parsed back to the character.
    expect(list.text).toContain('\\u0000');
    for (const id of r.personIds) {
      const p = list.json.data.find((x: { id: string }) => x.id === id);
      expect(p.name).toContain('\u0000');
      expect(p.name.replace('\u0000', '')).toBe(before.find((x) => x.id === id)!.name);
      const d = (await call(sim, 'GET', `/api/v2/people/${id}`)).json.data;
      expect(d.custom_fields.some((f: { value: string }) => f.value.includes('\u0000'))).toBe(true);
    }
    const untouched = list.json.data.filter((x: { id: string }) => !r.personIds.includes(x.id));
    expect(untouched.every((x: { name: string }) => !x.name.includes('\u0000'))).toBe(true);
    const holders = before.filter((p) => p.tags.includes(r.tag!.replace('\u0000', ''))).map((p) => p.id);
    expect(holders.length).toBeGreaterThan(0);
    for (const p of list.json.data) expect(p.tags.includes(r.tag), p.id).toBe(holders.includes(p.id));
    expect((await call(sim, 'GET', '/api/v2/tags')).json.data.map((t: { name: string }) => t.name)).toContain(r.tag);
    const texts = [...sim.store.channelsList()].flatMap((c) => sim!.store.chatMessages(c.id) ?? []).filter((m) => m.text.includes('\u0000'));
    expect(texts.map((m) => m.id).sort()).toEqual([...r.messageIds].sort());
    // Nothing moved: an incremental sync would not see it.
    expect([...sim.store.peopleList()].map((p) => [p.id, p.lastMessageTime])).toEqual(before.map((p) => [p.id, p.lastMessageTime]));
    const bad = await fetch(`${sim.url}/__sim/nul-strings`, { method: 'POST', body: JSON.stringify({}) });
    expect(bad.status).toBe(400);
  });

  it('sim --not-found-rate sets the knob; a bad value names the flag', () => {
    expect(parseSimOptions({ notFoundRate: '0.3' })).toEqual({ knobs: { notFoundRate: 0.3 } });
    expect(() => parseSimOptions({ notFoundRate: '2' })).toThrow(ConfigError);
    expect(() => parseSimOptions({ notFoundRate: '2' })).toThrow(/--not-found-rate/);
  });
});
