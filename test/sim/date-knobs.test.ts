import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseSimOptions } from '../../src/cli/sim.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { checkKnobs } from '../../src/sim/knobs.js';
import { get } from './helpers.js';

const DAY = 86_400_000;
const win = (from: string, to: string) => `filter[last_message][from]=${encodeURIComponent(from)}&filter[last_message][to]=${encodeURIComponent(to)}&limit=1000`;

describe('simulator knobs for what the docs leave open', () => {
  let sim: Simulator;
  afterEach(() => sim.close());

  it('datePrecision: exact, day, day-start and ignored read the same window differently', async () => {
    sim = await startSimulator({ seed: 71, people: 400 });
    const people = [...sim.store.peopleList()];
    const T = Date.parse(people[5]!.lastMessageTime!);
    const day = Math.floor(T / DAY) * DAY;
    const date = new Date(day).toISOString().slice(0, 10);
    const ids = (r: { json: { data: { id: string }[] } }) => r.json.data.map((p) => p.id);
    const inRange = (lo: number, hi: number) => people.filter((p) => Date.parse(p.lastMessageTime!) >= lo && Date.parse(p.lastMessageTime!) <= hi).map((p) => p.id);
    const narrow = win(new Date(T - 1000).toISOString(), new Date(T + 1000).toISOString());

    expect(ids(await get(sim, `/api/v2/people?${narrow}`))).toEqual(inRange(T - 1000, T + 1000));
    sim.setKnobs({ datePrecision: 'day' });
    expect(ids(await get(sim, `/api/v2/people?${narrow}`))).toEqual(inRange(day, day + DAY - 1));
    expect(ids(await get(sim, `/api/v2/people?${win(date, date)}`))).toEqual(inRange(day, day + DAY - 1));
    sim.setKnobs({ datePrecision: 'day-start' });
    // Both bounds at 00:00 of their date: a `to` of that date excludes the whole day.
    expect(ids(await get(sim, `/api/v2/people?${narrow}`))).toEqual(inRange(day, day));
    expect(ids(await get(sim, `/api/v2/people?${win(date, new Date(day + DAY).toISOString().slice(0, 10))}`))).toEqual(inRange(day, day + DAY));
    const channels = await get(sim, `/api/v2/communication-channels?${narrow}`);
    expect(channels.json.meta.totalCount).toBe([...sim.store.channelsList()].filter((c) => Date.parse(c.lastMessageTime!) === day).length);
    sim.setKnobs({ datePrecision: 'ignored' });
    expect((await get(sim, `/api/v2/people?${narrow}`)).json.meta.totalCount).toBe(people.length);
    // Still required on GET /people.
    expect((await get(sim, '/api/v2/people?limit=1')).status).toBe(400);
  });

  it('neverWrote: silent people are in no window, in v1 /accounts with a null lastMessageTime, and writing ends it per channel', async () => {
    sim = await startSimulator({ seed: 72, people: 200, knobs: { neverWrote: 0.25 } });
    const people = [...sim.store.peopleList()];
    const silent = people.filter((p) => p.lastMessageTime === null);
    expect(silent.length).toBeGreaterThan(20);
    expect(silent.length).toBeLessThan(80);
    const all = win('2000-01-01', '2100-01-01');
    const listed = await get(sim, `/api/v2/people?${all}`);
    expect(listed.json.meta.totalCount).toBe(people.length - silent.length);
    const silentChannels = [...sim.store.channelsList()].filter((c) => c.lastMessageTime === null);
    expect((await get(sim, `/api/v2/communication-channels?${all}`)).json.meta.totalCount).toBe(sim.store.counts().channels - silentChannels.length);
    const v1 = await get(sim, '/api/v1/accounts?limit=1000');
    expect(v1.json.meta.totalCount).toBe(sim.store.counts().channels);
    const c = silentChannels[0]!;
    expect(v1.json.data.find((a: { id: string }) => a.id === c.id).lastMessageTime).toBeNull();
    expect((await get(sim, `/api/v2/communication-channels/${c.id}/person`)).json.data.id).toBe(c.person_id);
    expect((await get(sim, `/api/v2/communication-channels/${c.id}/chat-messages`)).json.meta.totalCount).toBe(0);
    await get(sim, '/api/v2/tags'); // a non-list request changes nothing
    const before = sim.store.counts().messages;
    const r = await fetch(`${sim.url}/api/v2/messages/send-message`, {
      method: 'POST',
      headers: { 'X-Leeloo-AuthToken': sim.token, 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: c.id, text: 'hello' }),
    });
    expect(r.status).toBe(200);
    expect(sim.store.chatMessages(c.id)).toHaveLength(1);
    expect(sim.store.counts().messages).toBe(before + 1);
    const p = [...sim.store.peopleList()].find((x) => x.id === c.person_id)!;
    expect(p.lastMessageTime).not.toBeNull();
  });

  it('claimTotalCount overrides meta.totalCount; the CLI takes --date-precision and --never-wrote', async () => {
    sim = await startSimulator({ seed: 73, people: 20, knobs: { claimTotalCount: 1e9 } });
    expect((await get(sim, `/api/v2/people?${win('2000-01-01', '2100-01-01')}`)).json.meta.totalCount).toBe(1e9);
    expect(parseSimOptions({ datePrecision: 'day-start', neverWrote: '0.1' }).knobs).toEqual({ datePrecision: 'day-start', neverWrote: 0.1 });
    expect(() => parseSimOptions({ datePrecision: 'hourly' })).toThrow(ConfigError);
    expect(() => parseSimOptions({ neverWrote: '2' })).toThrow(/--never-wrote/);
    expect(() => checkKnobs({ datePrecision: 'week' })).toThrow(/knob datePrecision must be one of exact, day, day-start, ignored/);
  });
});
