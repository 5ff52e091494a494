import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, WIDE, call, get } from './helpers.js';

type Outcome = { status: number; text: string } | 'dropped';

async function attempt(sim: Simulator, path: string, init: RequestInit = {}): Promise<Outcome> {
  try {
    const res = await fetch(sim.url + path, { ...init, headers: { 'X-Leeloo-AuthToken': sim.token, ...(init.headers as Record<string, string>) } });
    return { status: res.status, text: await res.text() };
  } catch {
    return 'dropped';
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('faults, latency and rate limits', () => {
  let sim: Simulator;
  afterEach(() => sim.close());

  it('5xx: JSON 500s or gateway pages, nothing else changes', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW, knobs: { faultRate: 1, faultKinds: ['5xx'] } });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const r = await attempt(sim, '/api/v2/tags');
      if (r === 'dropped') throw new Error('unexpected drop');
      statuses.add(r.status);
    }
    expect([...statuses].every((s) => [500, 502, 503, 504].includes(s))).toBe(true);
    expect(statuses.size).toBeGreaterThan(1);
    expect(sim.requestCounts()['GET /api/v2/tags']).toBe(30);
  });

  it('429: the plain-text body with Retry-After from retryAfterSeconds, counted apart', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW, knobs: { faultRate: 1, faultKinds: ['429'], retryAfterSeconds: 3 } });
    const res = await fetch(`${sim.url}/api/v2/tags`, { headers: { 'X-Leeloo-AuthToken': sim.token } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('Too many requests, please try again later.');
    expect(sim.rateLimitedCount()).toBe(1);
    sim.resetCounts();
    expect(sim.rateLimitedCount()).toBe(0);
  });

  it('truncated: HTTP 200 with the first half of the JSON body', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW });
    const full = await attempt(sim, `/api/v2/people?${WIDE}`);
    sim.setKnobs({ faultRate: 1, faultKinds: ['truncated'] });
    const cut = await attempt(sim, `/api/v2/people?${WIDE}`);
    if (full === 'dropped' || cut === 'dropped') throw new Error('unexpected drop');
    expect(cut.status).toBe(200);
    expect(() => JSON.parse(cut.text)).toThrow();
    expect(cut.text.length).toBeGreaterThan(10);
    expect(full.text.startsWith(cut.text)).toBe(true);
  });

  it('drop: the connection closes without an answer', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW, knobs: { faultRate: 1, faultKinds: ['drop'] } });
    expect(await attempt(sim, '/api/v2/tags')).toBe('dropped');
    sim.setKnobs({ faultRate: 0 });
    expect(await attempt(sim, '/api/v2/tags')).toMatchObject({ status: 200 });
  });

  it('slow answers after slowMs; latencyMs delays every answer', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW, knobs: { faultRate: 1, faultKinds: ['slow'], slowMs: 150 } });
    let t = performance.now();
    expect(await attempt(sim, '/api/v2/tags')).toMatchObject({ status: 200 });
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    sim.setKnobs({ faultRate: 0, latencyMs: 80 });
    t = performance.now();
    expect((await get(sim, '/api/v2/users')).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(75);
  });

  it('mixes every kind at a fault rate, deterministically for a seed', async () => {
    const knobs = { faultRate: 0.5, faultKinds: ['5xx', '429', 'truncated', 'drop', 'slow'] as const, slowMs: 5, retryAfterSeconds: 0 };
    const run = async () => {
      const s = await startSimulator({ seed: 9, people: 20, now: NOW, knobs: { ...knobs, faultKinds: [...knobs.faultKinds] } });
      const outcomes: string[] = [];
      try {
        for (let i = 0; i < 120; i++) {
          const r = await attempt(s, '/api/v2/tags');
          outcomes.push(r === 'dropped' ? 'drop' : r.status >= 500 ? '5xx' : r.status === 429 ? '429' : parses(r.text) ? 'ok' : 'truncated');
        }
      } finally {
        await s.close();
      }
      return outcomes;
    };
    sim = await startSimulator({ seed: 1, people: 1 });
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set(['ok', '5xx', '429', 'truncated', 'drop']));
    const faulted = a.filter((x) => x !== 'ok').length;
    expect(faulted).toBeGreaterThan(30);
    expect(faulted).toBeLessThan(90);
  });

  it('a dropped or failed write may have been applied, and the write log says so', async () => {
    sim = await startSimulator({ seed: 4, people: 20, now: NOW, knobs: { faultRate: 1, faultKinds: ['drop', '5xx'] } });
    const p = [...sim.store.peopleList()][0]!;
    let clean = 0;
    for (let i = 0; i < 40; i++) {
      const r = await attempt(sim, `/api/v2/people/${p.id}/add-comment`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ comment: `c${i}` }) });
      if (r !== 'dropped' && r.status === 200) clean++;
    }
    expect(clean).toBe(0);
    const stored = sim.store.comments(p.id);
    expect(stored.length).toBeGreaterThan(5);
    expect(stored.length).toBeLessThan(35);
    const log = sim.writeLog();
    expect(log).toHaveLength(stored.length);
    expect(log.map((e) => (e.body as { comment: string }).comment)).toEqual(stored.map((c) => c.text));
    expect(new Set(log.map((e) => e.fault))).toEqual(new Set(['drop', '5xx']));
  });

  it('rateLimitRps answers the plain-text 429 with Retry-After beyond the limit per sliding second', async () => {
    sim = await startSimulator({ seed: 2, people: 20, now: NOW, knobs: { rateLimitRps: 5 } });
    const results = await Promise.all(Array.from({ length: 12 }, () => attempt(sim, '/api/v2/tags')));
    const ok = results.filter((r) => r !== 'dropped' && r.status === 200);
    const limited = results.filter((r): r is { status: number; text: string } => r !== 'dropped' && r.status === 429);
    expect(ok).toHaveLength(5);
    expect(limited).toHaveLength(7);
    for (const r of limited) expect(r.text).toBe('Too many requests, please try again later.');
    const res = await fetch(`${sim.url}/api/v2/tags`, { headers: { 'X-Leeloo-AuthToken': sim.token } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await res.text();
    expect(sim.rateLimitedCount()).toBe(8);
    expect(sim.requestCounts()['GET /api/v2/tags']).toBe(13);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(sim, '/api/v2/tags')).status).toBe(200);
  });

  it('validates knobs', async () => {
    sim = await startSimulator({ seed: 2, people: 5 });
    expect(() => sim.setKnobs({ faultRate: 2 })).toThrow(/faultRate/);
    expect(() => sim.setKnobs({ faultKinds: ['meteor' as never] })).toThrow(/faultKinds/);
    expect(() => sim.setKnobs({ pageCap: 0 })).toThrow(/pageCap/);
    expect(() => sim.setKnobs({ messagesOrder: 'random' as never })).toThrow(/messagesOrder/);
    await expect(startSimulator({ knobs: { latencyMs: -1 } })).rejects.toThrow(/latencyMs/);
    sim.setKnobs({ pageCap: 3, latencyMs: 1 });
    expect(sim.knobs).toMatchObject({ pageCap: 3, latencyMs: 1, faultRate: 0 });
  });

  it('counts write requests that failed validation or auth under their route', async () => {
    sim = await startSimulator({ seed: 2, people: 5 });
    await call(sim, 'PUT', '/api/v2/people/bad/add-tag', { json: {} });
    await call(sim, 'PUT', '/api/v2/people/bad/add-tag', { json: {}, token: null });
    expect(sim.requestCounts()).toEqual({ 'PUT /api/v2/people/:id/add-tag': 2 });
  });
});
