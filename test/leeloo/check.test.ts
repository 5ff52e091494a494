import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileCheck } from '../../src/leeloo/check.js';
import { ENDPOINTS } from '../../src/leeloo/endpoints.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, WIDE, get } from '../sim/helpers.js';

/** Every value reachable in `v`, each with a setter that replaces it in place. */
function slots(v: unknown, out: { get: () => unknown; set: (x: unknown) => void; del?: () => void }[] = []) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ get: () => v[i], set: (y) => (v[i] = y) });
      slots(x, out);
    });
  } else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      out.push({ get: () => o[k], set: (y) => (o[k] = y), del: () => delete o[k] });
      slots(o[k], out);
    }
  }
  return out;
}

const REPLACEMENTS: unknown[] = [null, undefined, '', 'x', 0, 1.5, true, [], {}, ['a'], [{}], { id: '' }];

describe('compileCheck: the check-only twin agrees with zod', () => {
  let sim: Simulator;
  const answers: { name: string; schema: z.ZodType; body: unknown }[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, people: 12, now: NOW });
    const people = (await get(sim, `/api/v2/people?limit=5&${WIDE}`)).json;
    const channels = (await get(sim, '/api/v2/communication-channels?limit=5')).json;
    const orders = (await get(sim, '/api/v2/orders?limit=5')).json;
    const tunnels = (await get(sim, '/api/v2/tunnels')).json;
    const users = (await get(sim, '/api/v2/users')).json;
    const cats = (await get(sim, '/api/v2/categories/templates')).json;
    const accounts = (await get(sim, '/api/v1/accounts?limit=5')).json;
    const pid = people.data[0].id as string;
    const cid = channels.data[0].id as string;
    const catId = (Array.isArray(cats.data) ? cats.data : cats.data.categories)[0].id as string;
    const reads: [keyof typeof ENDPOINTS, unknown][] = [
      ['people', people],
      ['person', (await get(sim, `/api/v2/people/${pid}?include=contactedUsers,orders`)).json],
      ['channels', channels],
      ['channelPerson', (await get(sim, `/api/v2/communication-channels/${cid}/person`)).json],
      ['chatMessages', (await get(sim, `/api/v2/communication-channels/${cid}/chat-messages?limit=20`)).json],
      ['orders', orders],
      ['order', (await get(sim, `/api/v2/orders/${orders.data[0].id as string}`)).json],
      ['tags', (await get(sim, '/api/v2/tags')).json],
      ['tunnels', tunnels],
      ['tunnel', (await get(sim, `/api/v2/tunnels/${tunnels.data[0].id as string}?include=leadgentools`)).json],
      ['allTunnelStats', (await get(sim, '/api/v2/tunnels/stats')).json],
      ['users', users],
      ['user', (await get(sim, `/api/v2/users/${users.data[0].id as string}`)).json],
      ['connections', (await get(sim, '/api/v2/connections')).json],
      ['templateCategories', cats],
      ['templates', (await get(sim, `/api/v2/categories/templates/${catId}`)).json],
      ['accounts', accounts],
      ['account', (await get(sim, `/api/v1/accounts/${accounts.data[0].id as string}?include=contactedUsers,orders`)).json],
      ['accountChatMessages', (await get(sim, `/api/v1/accounts/${accounts.data[0].id as string}/chat-messages`)).json],
    ];
    for (const [name, body] of reads) answers.push({ name, schema: ENDPOINTS[name].schema, body });
  });
  afterAll(() => sim.close());

  it('covers every endpoint schema (none falls back to zod alone)', () => {
    for (const [name, e] of Object.entries(ENDPOINTS)) expect(compileCheck(e.schema), name).not.toBeNull();
  });

  it('passes what zod passes and fails what zod fails, on real answers and thousands of broken ones', () => {
    let cases = 0;
    let failures = 0;
    for (const a of answers) {
      const check = compileCheck(a.schema)!;
      expect(check(a.body), a.name).toBe(true);
      expect(a.schema.safeParse(a.body).success, a.name).toBe(true);
      // Every value of the answer replaced by each kind of wrong value, or deleted, one at a time.
      const n = slots(a.body).length;
      for (let i = 0; i < n; i++) {
        for (let r = 0; r <= REPLACEMENTS.length; r++) {
          const copy = structuredClone(a.body);
          const s = slots(copy)[i]!;
          if (r === REPLACEMENTS.length) {
            if (!s.del) continue;
            s.del();
          } else s.set(structuredClone(REPLACEMENTS[r]));
          const zod = a.schema.safeParse(copy).success;
          expect(check(copy), `${a.name} slot ${i} → ${JSON.stringify(REPLACEMENTS[r]) ?? 'deleted'}`).toBe(zod);
          cases++;
          if (!zod) failures++;
        }
      }
    }
    expect(cases).toBeGreaterThan(2000);
    expect(failures).toBeGreaterThan(200); // the mutations do break the schemas, often
  });

  it('answers null for a schema kind it does not know, and handles the kinds it does', () => {
    expect(compileCheck(z.string().email())).toBeNull();
    expect(compileCheck(z.object({ a: z.date() }))).toBeNull();
    const strict = compileCheck(z.strictObject({ a: z.literal('x'), b: z.enum(['A', 'B']).optional() }))!;
    expect([strict({ a: 'x' }), strict({ a: 'x', b: 'B' }), strict({ a: 'x', c: 1 }), strict({ a: 'y' })]).toEqual([true, true, false, false]);
    const rec = compileCheck(z.record(z.string(), z.number()))!;
    expect([rec({ a: 1 }), rec({ a: '1' }), rec([])]).toEqual([true, false, false]);
  });
});
