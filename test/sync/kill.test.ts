import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { tempDbPath } from '../helpers/mirror.js';

describe('a sync killed at random points', () => {
  let sim: Simulator;
  const db = tempDbPath();
  beforeAll(async () => {
    // Latency stretches the run to a few seconds so kills land in every phase.
    sim = await startSimulator({ seed: 21, people: 150, knobs: { latencyMs: 4 } });
  });
  afterAll(async () => {
    await sim.close();
    db.cleanup();
  });

  it('resumes after each SIGKILL and ends matching the simulator, without duplicates', async () => {
    const env = {
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: db.path,
      LEELOO_RATE_LIMIT: '5000',
      LEELOO_PAGE_SIZE: '20',
      SYNC_CONCURRENCY: '4',
    };
    // A fixed sequence of "random" kill times: reproducible, spread from start-up to late in the run.
    const kills = [900, 1300, 1700, 1100, 2200, 1500, 2600, 1900];
    let killed = 0;
    for (const ms of kills) {
      const r = await runCli(['sync'], env, { killAfterMs: ms });
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, r.stderr).toBe(0);
    }
    expect(killed).toBeGreaterThanOrEqual(4);
    const last = await runCli(['sync'], env);
    expect(last.code, last.stderr).toBe(0);
    const m = openMirror(db.path);
    try {
      expectMirrorMatches(m.sqlite, sim);
      const byStatus = m.sqlite.prepare('SELECT status, count(*) AS n FROM sync_runs GROUP BY status').all() as { status: string; n: number }[];
      // The killed runs are recorded as interrupted; none is left looking alive.
      expect(byStatus.find((r) => r.status === 'interrupted')?.n ?? 0).toBeGreaterThan(0);
      expect(byStatus.find((r) => r.status === 'running')).toBeUndefined();
      expect(m.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      m.close();
    }
  });
});
