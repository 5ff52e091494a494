import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { expectMirrorMatches } from '../helpers/expect-mirror.js';
import { useSimulator } from '../helpers/sim.js';

describe.each(BACKENDS)('a sync killed at random points (%s)', (backend) => {
  const fx = useSimulator({ seed: 21, people: 150, knobs: { latencyMs: 2 } });
  const db = useBackendDb(backend);

  // Nine child processes on a loaded 2-core machine: more than the default minute.
  it('resumes after each SIGKILL and ends matching the simulator, without duplicates', { timeout: 240_000 }, async () => {
    const env = {
      LEELOO_API_URL: fx.sim.url,
      LEELOO_API_TOKEN: fx.sim.token,
      // The child opens this: a SQLite file, or the test's own PostgreSQL database.
      DATABASE_URL: db.url,
      LEELOO_RATE_LIMIT: '5000',
      LEELOO_PAGE_SIZE: '20',
      SYNC_CONCURRENCY: '4',
    };
    // Kill points are counted in requests the simulator has served to that run, so they land in
    // every phase (listing, details, chat history, reference data) however slow start-up is.
    // A full run here takes about 450 requests; the sequence is fixed so failures reproduce.
    const served = () => Object.values(fx.sim.requestCounts()).reduce((a, b) => a + b, 0);
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
    await expectMirrorMatches(db.rows, fx.sim);
    const byStatus = await db.rows<{ status: string; n: number }>('SELECT status, count(*) AS n FROM sync_runs GROUP BY status');
    // The killed runs are recorded as interrupted; none is left looking alive.
    expect(byStatus.find((r) => r.status === 'interrupted')?.n ?? 0).toBeGreaterThan(0);
    expect(byStatus.find((r) => r.status === 'running')).toBeUndefined();
    if (db.path) {
      const file = new Database(db.path, { readonly: true });
      try {
        expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        file.close();
      }
    } else {
      // No half-written transaction survives the kills: every page committed whole or not at all,
      // so no row is duplicated under another key and no child points at a missing parent.
      expect(await db.rows("SELECT person_id FROM person_tags WHERE person_id NOT IN (SELECT id FROM people)")).toEqual([]);
      expect(await db.rows('SELECT channel_id FROM chat_messages WHERE channel_id NOT IN (SELECT id FROM communication_channels)')).toEqual([]);
    }
  });
});
