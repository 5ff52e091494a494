import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRecording } from '../../bench/floor.js';
import { measureTransportFloor } from '../../bench/transport.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { NOW, call } from './helpers.js';

// The bench's transport floor replays the requests the simulator recorded during a sync
// (bench/transport-floor.mjs) and checks it got the same answers back.
describe('transport floor replay of a recording', () => {
  let sim: Simulator;
  let dir: string;
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const record = async (file: string) => {
    const control = (body: unknown) => fetch(`${sim.url}/__sim/record`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await control({ file, every: 1 });
    const users = (await call(sim, 'GET', '/api/v2/users?limit=3&offset=0')).json as { data: { id: string }[] };
    await call(sim, 'GET', '/api/v2/users?limit=3&offset=3');
    await call(sim, 'GET', `/api/v2/users/${users.data[0]!.id}`);
    await call(sim, 'GET', '/api/v2/tunnels?limit=2&offset=1');
    await control({});
  };

  it('sends the recorded targets with the token and gets the very answers back', async () => {
    sim = await startSimulator({ seed: 5, people: 20, now: NOW });
    dir = mkdtempSync(join(tmpdir(), 'sim-transport-'));
    const file = join(dir, 'answers.txt');
    await record(file);
    const recorded = readRecording(file);
    expect(recorded.map((a) => a.target)).toEqual(['/api/v2/users?limit=3&offset=0', '/api/v2/users?limit=3&offset=3', expect.stringMatching(/^\/api\/v2\/users\/\w+$/), '/api/v2/tunnels?limit=2&offset=1']);
    const before = sim.requestCounts();
    const r = await measureTransportFloor({ url: sim.url, token: sim.token, recording: file, concurrency: 2 });
    expect(r).toMatchObject({ requests: 4, notOk: 0, otherLength: 0 });
    expect(r.cpuMs).toBeGreaterThan(0);
    expect(r.processCpuMs).toBeGreaterThanOrEqual(r.cpuMs);
    const after = sim.requestCounts();
    expect((after['GET /api/v2/users'] ?? 0) - (before['GET /api/v2/users'] ?? 0)).toBe(2);
    expect((after['GET /api/v2/tunnels'] ?? 0) - (before['GET /api/v2/tunnels'] ?? 0)).toBe(1);
  });

  it('fails when the replay is refused or answers differently', async () => {
    sim = await startSimulator({ seed: 5, people: 20, now: NOW });
    dir = mkdtempSync(join(tmpdir(), 'sim-transport-'));
    const file = join(dir, 'answers.txt');
    await record(file);
    await expect(measureTransportFloor({ url: sim.url, token: 'not-the-token', recording: file, concurrency: 2 })).rejects.toThrow(
      'transport floor replay differed: 4 answers not 200, 0 of another length',
    );
    // A recorded body one character longer than what the simulator now answers.
    const tampered = join(dir, 'tampered.txt');
    writeFileSync(tampered, readFileSync(file, 'utf8').replace(/\n/, ' \n'));
    await expect(measureTransportFloor({ url: sim.url, token: sim.token, recording: tampered, concurrency: 2 })).rejects.toThrow(
      'transport floor replay differed: 0 answers not 200, 1 of another length',
    );
  });
});
