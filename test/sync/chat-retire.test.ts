import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { openPgStore } from '../../src/db/store/pg.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { runSync } from '../../src/sync/engine.js';
import { failures, simEnv, syncWith } from '../helpers/mirror.js';
import { createTestDatabase } from '../helpers/pg.js';
import { closedAfterEach } from '../helpers/sim.js';

// The retirement check rides on the channel cursor's UPDATE (its RETURNING counts the live
// messages): a complete full pass must still retire what the API no longer lists.
describe('a complete full pass of a channel', () => {
  const fresh = closedAfterEach();

  it('marks messages the API no longer lists deleted, removes a sent message’s stand-in, and leaves the rest', async () => {
    const sim = await fresh.simulator({ seed: 7, people: 40 });
    const db = fresh.db();
    const first = await syncWith(sim, db.path);
    expect(failures(first.result)).toEqual([]);
    const channelId = first.mirror.sqlite.prepare('SELECT channel_id FROM chat_messages GROUP BY channel_id ORDER BY count(*) DESC LIMIT 1').pluck().get() as string;
    const before = first.mirror.sqlite.prepare('SELECT count(*) FROM chat_messages WHERE deleted_at IS NULL').pluck().get() as number;
    const add = first.mirror.sqlite.prepare("INSERT INTO chat_messages (id, channel_id, raw, synced_at) VALUES (?, ?, '{}', '2026-01-01T00:00:00.000Z')");
    add.run('gone-from-the-api', channelId);
    add.run('outbox-standin', channelId);
    first.mirror.close();

    const second = await syncWith(sim, db.path, { full: true, streams: ['chat_messages'] });
    try {
      expect(failures(second.result)).toEqual([]);
      const q = second.mirror.sqlite.prepare('SELECT id, deleted_at IS NOT NULL AS deleted FROM chat_messages WHERE id IN (?, ?) ORDER BY id');
      expect(q.all('gone-from-the-api', 'outbox-standin')).toEqual([{ id: 'gone-from-the-api', deleted: 1 }]);
      expect(second.mirror.sqlite.prepare('SELECT count(*) FROM chat_messages WHERE deleted_at IS NULL').pluck().get()).toBe(before);
      const cursor = second.mirror.sqlite.prepare('SELECT messages_synced_lmt = last_message_time FROM communication_channels WHERE id = ?').pluck().get(channelId);
      expect(cursor).toBe(1);
    } finally {
      second.mirror.close();
    }
  });
});

describe('a complete full pass of a channel, on PostgreSQL', () => {
  const fresh = closedAfterEach();

  it('retires what the API no longer lists and removes the stand-in, as on SQLite', async () => {
    const sim = await fresh.simulator({ seed: 7, people: 40 });
    const pgdb = await createTestDatabase();
    const sync = async (opts: { full?: boolean; streams?: string[] }) => {
      const env = simEnv(sim, pgdb.url);
      const store = await openPgStore(pgdb.url, { poolSize: 4 });
      const client = createClientFromEnv(env, { logger: silentLogger, retryBaseMs: 5, retryMaxMs: 100 });
      try {
        return await runSync({ ...opts, store, client, env, logger: silentLogger });
      } finally {
        await client.close();
        await store.close();
      }
    };
    try {
      expect(failures(await sync({}))).toEqual([]);
      const channelId = (await pgdb.query<{ id: string }>('SELECT channel_id AS id FROM chat_messages GROUP BY channel_id ORDER BY count(*) DESC LIMIT 1')).rows[0]!.id;
      const live = async () => Number((await pgdb.query<{ n: string }>('SELECT count(*) AS n FROM chat_messages WHERE deleted_at IS NULL')).rows[0]!.n);
      const before = await live();
      for (const id of ['gone-from-the-api', 'outbox-standin']) {
        await pgdb.query("INSERT INTO chat_messages (id, channel_id, raw, synced_at) VALUES ($1, $2, '{}', now())", [id, channelId]);
      }
      expect(failures(await sync({ full: true, streams: ['chat_messages'] }))).toEqual([]);
      const rows = await pgdb.query("SELECT id, deleted_at IS NOT NULL AS deleted FROM chat_messages WHERE id IN ('gone-from-the-api', 'outbox-standin')");
      expect(rows.rows).toEqual([{ id: 'gone-from-the-api', deleted: true }]);
      expect(await live()).toBe(before);
    } finally {
      await pgdb.drop();
    }
  });
});
