/**
 * The due sweeps' queries (src/db/due.ts): the keys they return on both backends, and on SQLite
 * the plans that keep a batch's cost independent of how many rows are due or synced (an index
 * range in id order, no sort of every due row, no walk over every channel); and the indexes every
 * chat message insert pays for.
 */
import { sql, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { dueChannelsQuery, dueDetailsQuery } from '../../src/db/due.js';
import { communicationChannels, orders, people } from '../../src/db/schema.js';
import { storeBackends, storeSuite } from '../helpers/store-backends.js';

const BACKENDS = storeBackends();

const T = (n: number) => `2026-01-0${n}T00:00:00.000Z`;

describe.each(BACKENDS)('due queries: %s', (_name, open, cleanup) => {
  const store = storeSuite(open, cleanup, [people, orders, communicationChannels]);

  it('details: due (NULL details, live) rows after the cursor, in id order, at most limit', async () => {
    for (const table of ['people', 'orders'] as const) {
      const t = sql.identifier(table);
      const row = (id: string, details: string | null, deleted: string | null) =>
        store().run(sql`INSERT INTO ${t} (id, raw, synced_at, details_synced_at, deleted_at) VALUES (${id}, '{}', ${T(1)}, ${details}, ${deleted})`);
      // Inserted out of id order: the order must come from the query, not from the table.
      await row('e', null, null);
      await row('a', null, null);
      await row('c', T(2), null); // details synced
      await row('d', null, T(3)); // deleted
      await row('b', null, null);
      await row('f', null, null);
      const due = store().prepare<{ id: string; raw: string }>(dueDetailsQuery(table));
      const ids = async (after: string, limit: number) => (await due.all({ after, limit })).map((r) => r.id);
      expect(await ids('', 10)).toEqual(['a', 'b', 'e', 'f']);
      expect(await ids('', 2)).toEqual(['a', 'b']);
      expect(await ids('b', 2)).toEqual(['e', 'f']);
      expect(await ids('f', 2)).toEqual([]);
      expect((await due.all({ after: '', limit: 1 }))[0]?.raw).toBe('{}');
    }
  });

  it('channels: live channels whose last message is past the synced mark (or never synced), after the cursor, in id order', async () => {
    const channel = (id: string, lmt: string | null, hwm: string | null, deleted: string | null = null) =>
      store().run(
        sql`INSERT INTO communication_channels (id, last_message_time, messages_synced_lmt, synced_at, deleted_at) VALUES (${id}, ${lmt}, ${hwm}, ${T(1)}, ${deleted})`,
      );
    await channel('e', T(5), T(4)); // moved on
    await channel('a', T(5), null); // never synced
    await channel('c', T(5), T(5)); // up to date
    await channel('d', null, null); // no message yet
    await channel('b', T(5), null, T(6)); // deleted
    await channel('f', T(5), null);
    const due = store().prepare<{ id: string; lmt: string; hwm: string | null }>(dueChannelsQuery());
    expect(await due.all({ after: '', limit: 10 })).toEqual([
      { id: 'a', lmt: T(5), hwm: null },
      { id: 'e', lmt: T(5), hwm: T(4) },
      { id: 'f', lmt: T(5), hwm: null },
    ]);
    expect((await due.all({ after: 'a', limit: 1 })).map((r) => r.id)).toEqual(['e']);
    // A synced channel leaves the due set (the partial index on SQLite and PostgreSQL).
    await store().run(sql`UPDATE communication_channels SET messages_synced_lmt = last_message_time WHERE id = 'e'`);
    expect((await due.all({ after: '', limit: 10 })).map((r) => r.id)).toEqual(['a', 'f']);
  });
});

describe('due query plans (SQLite)', () => {
  let mirror: Mirror;
  const dialect = new SQLiteSyncDialect();
  const plan = (query: SQL) => {
    const q = dialect.sqlToQuery(query);
    // The placeholders in the order they appear: after, limit.
    return (mirror.sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all('', 256) as { detail: string }[]).map((r) => r.detail);
  };

  beforeAll(() => {
    mirror = openMirror(':memory:');
  });
  afterAll(() => mirror.close());

  it.each(['people', 'orders'] as const)('%s details: a range of (details_synced_at, id), no sort of the due rows', (table) => {
    expect(plan(dueDetailsQuery(table))).toEqual([`SEARCH ${table} USING INDEX ${table}_details_due_idx (details_synced_at=? AND id>?)`]);
  });

  it('channels: the partial index of due channels, not every channel', () => {
    expect(plan(dueChannelsQuery())).toEqual(['SEARCH communication_channels USING INDEX communication_channels_messages_due_idx (id>?)']);
  });
});

describe('chat_messages indexes (SQLite)', () => {
  it('every message insert maintains only the id key and (channel_id, created_at): no index on created_at alone', () => {
    const mirror = openMirror(':memory:');
    try {
      const names = (mirror.sqlite.prepare(`SELECT name FROM pragma_index_list('chat_messages') ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
      expect(names).toEqual(['chat_messages_channel_created_idx', 'sqlite_autoindex_chat_messages_1']);
      // What used it would now scan: nothing the sync or the views run filters on created_at alone.
      const view = (mirror.sqlite.prepare('EXPLAIN QUERY PLAN SELECT * FROM messages_daily').all() as { detail: string }[]).map((r) => r.detail);
      expect(view).toContain('SCAN m');
    } finally {
      mirror.close();
    }
  });
});
