import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, WIDE } from './helpers.js';

/**
 * The simulator answers the same bytes for the same seed, whatever is done to make it cheaper per
 * request: a sha256 over a sample of answers (status, content type, length, Retry-After and body)
 * is pinned. The sample walks every GET route (paged lists, filters, details with each include,
 * chat pages, errors), then again under knobs that change the answers (page cap, oldest-first
 * chats, never-wrote people, day precision, a claimed totalCount, broken detail routes) and under
 * seeded faults (5xx, 429, truncated bodies), requests one at a time so the fault streams repeat.
 * If a change alters the answers on purpose, say so in its commit and pin the new digest.
 */
describe('simulator answers for a seed', () => {
  let sim: Simulator;
  let people: string[];
  let channels: string[];
  let orders: string[];
  let tagNames: string[];
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, people: 400, now: NOW });
    people = [...sim.store.peopleList()].map((p) => p.id);
    channels = [...sim.store.channelsList()].map((c) => c.id);
    orders = [...sim.store.ordersList()].map((o) => o.id);
    tagNames = sim.store.tags().map((t) => t.name);
  });
  afterAll(() => sim.close());

  /** The paths of one pass; `n` scales how many detail routes it reads. */
  function paths(n: number): string[] {
    const out: string[] = [];
    for (let off = 0; off <= 400; off += 100) out.push(`/api/v2/people?${WIDE}&limit=100&offset=${off}`);
    out.push(`/api/v2/people?${WIDE}&limit=7&offset=3`, `/api/v2/people?${WIDE}`, `/api/v2/people?filter[last_message][from]=2024-01-01&filter[last_message][to]=2024-03-01T10:00:00Z&limit=50`);
    out.push(`/api/v2/people?${WIDE}&filter[tags]=${encodeURIComponent(tagNames[0]!)}&filter[tags]=${encodeURIComponent(tagNames[3]!)}&limit=30`);
    out.push(`/api/v2/people?${WIDE}&filter[email]=nobody@example.com`, `/api/v2/people?limit=5`, `/api/v2/people?${WIDE}&limit=0`);
    const include = ['', '?include=contactedUsers', '?include=orders', '?include=contactedUsers,orders'];
    for (let i = 0; i < n; i++) out.push(`/api/v2/people/${people[i * 7]}${include[i % 4]}`);
    for (let off = 0; off <= 800; off += 200) out.push(`/api/v2/communication-channels?limit=200&offset=${off}`);
    out.push(`/api/v2/communication-channels?filter[last_message][from]=2024-02-01&limit=40`);
    for (let i = 0; i < n; i++) {
      const c = channels[i * 5];
      out.push(`/api/v2/communication-channels/${c}/chat-messages?limit=100`, `/api/v2/communication-channels/${c}/chat-messages?limit=3&offset=2`);
      if (i % 3 === 0) out.push(`/api/v2/communication-channels/${c}/person${include[i % 4]}`, `/api/v1/accounts/${c}${include[(i + 1) % 4]}`, `/api/v1/accounts/${c}/chat-messages?limit=20`);
    }
    for (let off = 0; off <= 300; off += 100) out.push(`/api/v2/orders?limit=100&offset=${off}`);
    for (let i = 0; i < n; i++) out.push(`/api/v2/orders/${orders[i * 3]}`);
    for (let off = 0; off <= 800; off += 200) out.push(`/api/v1/accounts?limit=200&offset=${off}`);
    out.push(`/api/v1/accounts?filter[tags]=${encodeURIComponent(`${tagNames[1]},${tagNames[2]}`)}&limit=100`);
    out.push('/api/v2/tags', '/api/v2/users', '/api/v2/users?limit=2&offset=1', '/api/v2/tunnels', '/api/v2/tunnels/stats', '/api/v2/connections', '/api/v2/categories/templates');
    const users = sim.store.users();
    const tunnels = sim.store.tunnelsList();
    const cats = sim.store.templateCategories();
    out.push(`/api/v2/users/${users[0]!.id}`, `/api/v2/tunnels/${tunnels[0]!.id}?include=leadgentools`, `/api/v2/tunnels/${tunnels[1]!.id}/stats`, `/api/v2/categories/templates/${cats[0]!.id}`);
    out.push(`/api/v2/people/${'0'.repeat(24)}`, '/api/v2/people/not-an-id', '/api/v2/nowhere', `/api/v2/people/${people[1]}/`, `/api/v2//people?${WIDE}&limit=2`);
    return out;
  }

  async function pass(hash: ReturnType<typeof createHash>, list: string[], token = sim.token): Promise<void> {
    for (const path of list) {
      const res = await fetch(sim.url + path, { headers: { 'X-Leeloo-AuthToken': token } });
      const body = await res.text();
      hash.update(`${path}\n${res.status} ${res.headers.get('content-type')} ${res.headers.get('content-length')} ${res.headers.get('retry-after')}\n${body}\n`);
    }
  }

  it('are the same bytes as pinned', async () => {
    const hash = createHash('sha256');
    await pass(hash, paths(40));
    await pass(hash, ['/api/v2/tags'], 'wrong-token');
    const noToken = await fetch(`${sim.url}/api/v2/tags`);
    hash.update(`${noToken.status} ${await noToken.text()}\n`);
    const put = await fetch(`${sim.url}/api/v2/tags`, { method: 'PUT', headers: { 'X-Leeloo-AuthToken': sim.token } });
    hash.update(`${put.status} ${await put.text()}\n`);

    sim.setKnobs({ pageCap: 7, messagesOrder: 'oldest', neverWrote: 0.3, datePrecision: 'day', claimTotalCount: 5, notFoundRate: 0.3 });
    await pass(hash, paths(15));
    sim.setKnobs({ pageCap: null, messagesOrder: 'newest', neverWrote: 0, datePrecision: 'exact', claimTotalCount: null, notFoundRate: 0 });

    sim.setKnobs({ faultRate: 0.4, faultKinds: ['5xx', '429', 'truncated'], retryAfterSeconds: 3 });
    await pass(hash, paths(15));
    sim.setKnobs({ faultRate: 0 });

    expect(hash.digest('hex')).toBe('d93ab597a943cf0020d152e2bbda8c76f918dc21ceb9f870a98d767290046e10');
  });
});
