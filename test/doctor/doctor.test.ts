import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { unknownKeys } from '../../src/doctor/endpoints.js';
import { runDoctor, type DoctorReport } from '../../src/doctor/run.js';
import { tagSchema } from '../../src/leeloo/schemas.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator, type SimKnobs, type Simulator } from '../../src/sim/index.js';
import { FindingsStore } from '../../src/sync/findings.js';
import { simEnv, tempDbPath } from '../helpers/mirror.js';

let sim: Simulator;
let db: ReturnType<typeof tempDbPath>;
let mirror: Mirror;

async function doctor(knobs: Partial<SimKnobs>, env: Record<string, string> = {}, token?: string): Promise<{ report: DoctorReport; counted: number }> {
  sim = await startSimulator({ seed: 51, people: 150, knobs });
  db = tempDbPath();
  mirror = openMirror(db.path);
  const e = simEnv(sim, db.path, env);
  const counter = { requests: 0 };
  const client = createClientFromEnv(e, {
    logger: silentLogger,
    maxRetries: 2,
    retryBaseMs: 5,
    retryMaxMs: 50,
    token,
    onEvent: (ev) => {
      if (ev.type === 'request') counter.requests++;
    },
  });
  try {
    const report = await runDoctor(client, e, (await FindingsStore.load(new SqliteStore(mirror))), counter, 3);
    return { report, counted: counter.requests };
  } finally {
    await client.close();
  }
}

const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name)!;
const serverRequests = () => Object.entries(sim.requestCounts());

describe('doctor', () => {
  afterEach(async () => {
    mirror?.close();
    await sim.close();
    db.cleanup();
  });

  const cases = [
    { precision: 'exact', dateFilter: 'datetime', mode: 'datetime', dateTo: 'day-start' },
    { precision: 'day', dateFilter: 'date', mode: 'date', dateTo: 'day' },
    { precision: 'day-start', dateFilter: 'date', mode: 'date', dateTo: 'day-start' },
  ] as const;
  for (const c of cases) {
    it(`finds the date filter of a ${c.precision} server, read-only and within 100 requests`, async () => {
      const { report, counted } = await doctor({ datePrecision: c.precision });
      expect(report.checks.filter((x) => !x.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.dateFilter).toBe(c.dateFilter);
      const f = (await FindingsStore.load(new SqliteStore(mirror)));
      expect(f.get('date_filter')).toMatchObject({ source: 'doctor', value: { mode: c.mode, dateTo: c.dateTo } });
      expect(f.get('list_order')?.value).toMatchObject({ people: 'newest', communication_channels: 'newest' });
      expect(f.get('chat_path')?.value).toEqual({ channelId: 'ok', personId: 'not_found' });
      expect(f.get('unknown_id')?.value).toEqual({
        people: '404 NOT_FOUND',
        orders: '404 NOT_FOUND',
        tunnels: '404 NOT_FOUND',
        users: '404 NOT_FOUND',
        channel_person: '404 NOT_FOUND',
        chat_messages: '404 NOT_FOUND',
      });
      expect(f.get('reachability')?.value).toMatchObject({ unreachable: false });
      expect(f.get('page_cap')?.value).toMatchObject({ requested: 1000, cap: null });
      // Counted by the client and by the server alike; GET only, nothing written.
      const total = serverRequests().reduce((n, [, v]) => n + v, 0);
      expect(counted).toBe(total);
      expect(report.requests).toBe(total);
      expect(total).toBeLessThanOrEqual(100);
      expect(serverRequests().every(([k]) => k.startsWith('GET '))).toBe(true);
      expect(sim.writeLog()).toEqual([]);
      expect(report.endpoints).toHaveLength(20);
      expect(report.endpoints.every((e) => e.ok)).toBe(true);
    });
  }

  it('says not safe when the filter is ignored, and when datetime is forced on a date-only server', async () => {
    const ignored = await doctor({ datePrecision: 'ignored' });
    expect(ignored.report.ok).toBe(false);
    expect(check(ignored.report, 'date_filter')).toMatchObject({ ok: false, detail: expect.stringMatching(/not applied/) });
    await sim.close();
    mirror.close();
    db.cleanup();
    const forced = await doctor({ datePrecision: 'day' }, { LEELOO_DATE_FORMAT: 'datetime' });
    expect(forced.report.ok).toBe(false);
    expect(check(forced.report, 'date_filter').action).toMatch(/LEELOO_DATE_FORMAT=auto/);
  });

  it('finds records no last_message window reaches, and a page cap and unknown fields', async () => {
    const { report } = await doctor({ neverWrote: 0.2, pageCap: 40 });
    expect(report.ok).toBe(true);
    const reach = (await FindingsStore.load(new SqliteStore(mirror))).get<{ unreachable: boolean; v1Total: number; v2Total: number }>('reachability')!.value;
    const silentChannels = [...sim.store.channelsList()].filter((c) => c.lastMessageTime === null).length;
    expect(silentChannels).toBeGreaterThan(0);
    expect(reach).toEqual({ unreachable: true, v1Total: sim.store.counts().channels, v2Total: sim.store.counts().channels - silentChannels });
    expect((await FindingsStore.load(new SqliteStore(mirror))).get('page_cap')?.value).toMatchObject({ served: 40, cap: 40 });
    // The simulator serves only documented fields; a server growing fields is counted per route.
    expect(report.endpoints.flatMap((e) => e.unknownFields)).toEqual([]);
    expect(unknownKeys([{ id: 'a', name: 'vip', color: 'red' }, { id: 'b', name: null, usage: 3 }], tagSchema)).toEqual(['color', 'usage']);
  });

  it('names a refused token without printing it', async () => {
    const { report } = await doctor({}, {}, 'wrong-secret-token');
    expect(report.ok).toBe(false);
    expect(report.checks).toHaveLength(1);
    expect(check(report, 'token').detail).toMatch(/^authentication failed: the API refused LEELOO_API_TOKEN \(401 UNAUTHORIZED\)$/);
    expect(JSON.stringify(report)).not.toContain('wrong-secret-token');
  });
});
