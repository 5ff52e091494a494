/**
 * A person's tags as the people list gives them: person_tags and the open person_tag_history
 * intervals both come from the list page (the detail's tags, when it has them, replace them
 * later), so a detail without a tags list must leave exactly the listed tags in both.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { runSync } from '../../src/sync/engine.js';
import { failures, simEnv } from '../helpers/mirror.js';
import { useSimulatorAndDb } from '../helpers/sim.js';

describe('person tags from the people list', () => {
  const fx = useSimulatorAndDb({ seed: 37, people: 120 });

  it('are written to person_tags and their history when the detail carries no tags', async () => {
    const env = simEnv(fx.sim, fx.db.path);
    const store = new SqliteStore(openMirror(fx.db.path));
    const client = createClientFromEnv(env, { logger: silentLogger, retryBaseMs: 5, retryMaxMs: 100 });
    const getPerson = client.getPerson.bind(client);
    client.getPerson = async (...args) => {
      const r = await getPerson(...args);
      return { ...r, person: { ...r.person, tags: null } };
    };
    try {
      const result = await runSync({ store, client, env, logger: silentLogger, streams: ['people'] });
      expect(failures(result)).toEqual([]);
      const listed = [...fx.sim.store.peopleList()] as { id: string; tags: string[] }[];
      const expected = listed.flatMap((p) => [...new Set(p.tags)].map((tag) => `${p.id} ${tag}`)).sort();
      // People with several tags and people with none, so that a tag dropped or given to a neighbour shows.
      expect(listed.filter((p) => p.tags.length > 1).length).toBeGreaterThan(5);
      expect(listed.filter((p) => p.tags.length === 0).length).toBeGreaterThan(5);
      const keys = async (query: string) => (await store.all<{ k: string }>(sql.raw(query))).map((r) => r.k).sort();
      expect(await keys(`SELECT person_id || ' ' || tag AS k FROM person_tags`)).toEqual(expected);
      expect(await keys(`SELECT person_id || ' ' || tag AS k FROM person_tag_history WHERE valid_to IS NULL`)).toEqual(expected);
      // The details were read (and written without touching the tags).
      expect(fx.sim.requestCounts()['GET /api/v2/people/:id']).toBe(listed.length);
    } finally {
      await client.close();
      await store.close();
    }
  });
});
