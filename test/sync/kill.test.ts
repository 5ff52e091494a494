import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import type { Simulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { simulatorFor, tempDbPath } from '../helpers/mirror.js';

describe('a sync killed at random points', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 21, people: 150, knobs: { latencyMs: 2 } }, (s) => (sim = s));

  it('resumes after each SIGKILL and ends matching the simulator, without duplicates', async () => {
    const env = {
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: db.path,
      LEELOO_RATE_LIMIT: '5000',
      LEELOO_PAGE_SIZE: '20',
      SYNC_CONCURRENCY: '4',
    };
    // Kill points are counted in requests the simulator has served to that run, so they land in
    // every phase (listing, details, chat history, reference data) however slow start-up is.
    // A full run here takes about 450 requests; the sequence is fixed so failures reproduce.
    const served = () => Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0);
    const kills = [15, 60, 120, 200, 35, 300, 90, 400];
    let killed = 0;
    for (const after of kills) {
      const base = served();
      const r = await runCli(['sync'], env, { killWhen: () => served() - base >= after });
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
