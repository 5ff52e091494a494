import { afterAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/cli/status-read.js';
import { openMirror } from '../../src/db/connection.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { createLogger } from '../../src/log.js';
import { startSimulator } from '../../src/sim/index.js';
import { runSync } from '../../src/sync/engine.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { runCli } from '../helpers/cli.js';
import { failures, simEnv, syncWith, tempDbPath } from '../helpers/mirror.js';

describe('a checkpoint that is not JSON', () => {
  const db = tempDbPath();
  afterAll(() => db.cleanup());

  it('is a lost checkpoint: one warning, the window is read again, status still works', async () => {
    const sim = await startSimulator({ seed: 12, people: 40 });
    try {
      const first = await syncWith(sim, db.path, { streams: ['people', 'communication_channels'] });
      expect(failures(first.result)).toEqual([]);
      first.mirror.close();
      const m = openMirror(db.path);
      const cursor = m.sqlite.prepare("SELECT cursor FROM sync_state WHERE stream = 'people'").pluck().get() as string;
      expect(cursor).toBeTruthy();
      // Half a JSON text, as a hand edit or a foreign tool might leave it; and a JSON non-object.
      m.sqlite.prepare(`UPDATE sync_state SET state = '{"current": {"from": "2020-' WHERE stream = 'people'`).run();
      m.sqlite.prepare(`UPDATE sync_state SET state = '42' WHERE stream = 'communication_channels'`).run();

      const status = await readStatus(db.path);
      expect(status.cursors.find((c) => c.stream === 'people')).toMatchObject({ cursor, inProgress: 'checkpoint unreadable (not JSON): the next run reads this window again' });
      const cli = await runCli(['status'], { DATABASE_URL: db.path });
      expect(cli.code).toBe(0);
      expect(cli.stderr).toBe('');
      expect(cli.stdout).toMatch(/people +\S+ in progress: "checkpoint unreadable \(not JSON\): the next run reads this window again"/);

      const lines: string[] = [];
      const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
      const env = simEnv(sim, db.path);
      const client = createClientFromEnv(env, { logger });
      try {
        const again = await runSync({ store: new SqliteStore(m), client, env, logger, streams: ['people', 'communication_channels'] });
        expect(again.streams.map((s) => [s.stream, s.status])).toEqual([
          ['people', 'succeeded'],
          ['communication_channels', 'succeeded'],
        ]);
        expect(again.streams[0]!.counters.pages).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
      const warnings = lines.map((l) => JSON.parse(l) as { msg: string; stream?: string }).filter((l) => /checkpoint lost/.test(l.msg));
      expect(warnings.map((w) => w.stream).sort()).toEqual(['communication_channels', 'people']);
      expect(m.sqlite.prepare("SELECT cursor >= ? AS moved FROM sync_state WHERE stream = 'people'").pluck().get(cursor)).toBe(1);
      expect(m.sqlite.prepare('SELECT count(*) FROM people').pluck().get()).toBe([...sim.store.peopleList()].length);
      m.close();
    } finally {
      await sim.close();
    }
  }, 60_000);
});
