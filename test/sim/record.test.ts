import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, call } from './helpers.js';

// POST /__sim/record feeds the bench's CPU floor (bench/floor.ts) with the answers a sync read.
describe('POST /__sim/record', () => {
  let sim: Simulator;
  let dir: string;
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const control = async (body: unknown) => {
    const res = await fetch(`${sim.url}/__sim/record`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { written?: number; error?: string } };
  };

  it('writes every n-th 200 answer as one route, target and body line, and stops when told', async () => {
    sim = await startSimulator({ seed: 3, people: 30, now: NOW });
    dir = mkdtempSync(join(tmpdir(), 'sim-record-'));
    const file = join(dir, 'answers.txt');
    expect((await control({ file, every: 2 })).status).toBe(200);
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) bodies.push((await call(sim, 'GET', `/api/v2/users?limit=2&offset=${i}`)).text);
    await call(sim, 'GET', '/api/v2/people/000000000000000000000000'); // a 404: never recorded
    const stopped = await control({});
    expect(stopped.json.written).toBe(3); // answers 1, 3 and 5
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toEqual([0, 2, 4].map((i) => `GET /api/v2/users\t/api/v2/users?limit=2&offset=${i}\t${bodies[i]}`));
    await call(sim, 'GET', '/api/v2/users');
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('refuses a bad `every` with a one-line error', async () => {
    sim = await startSimulator({ seed: 3, people: 5, now: NOW });
    dir = mkdtempSync(join(tmpdir(), 'sim-record-'));
    const r = await control({ file: join(dir, 'x.txt'), every: 0 });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('every must be a whole number of at least 1');
  });
});
