/**
 * What the people stream writes once a list page, not once a person (history.ts
 * recordPersonTagsOfPage, streams/channel-stubs.ts): the same rows as one write a person would
 * give, on both backends (each has its own SQL for a page's ids).
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { StoreHistory } from '../../src/db/history.js';
import { communicationChannels, personTagHistory } from '../../src/db/schema.js';
import { storeBackends, storeSuite } from '../helpers/store-backends.js';
import { channelStubWriter, type ChannelStub } from '../../src/sync/streams/channel-stubs.js';

const BACKENDS = storeBackends();

const T = (n: number) => `2026-01-0${n}T00:00:00.000Z`;

describe.each(BACKENDS)('page writes: %s', (_name, open, cleanup) => {
  const store = storeSuite(open, cleanup, [personTagHistory, communicationChannels]);

  it('tag history of a page: one read for the page, the intervals one call a person would write; a person listed twice counts once, last', async () => {
    const h = new StoreHistory(store());
    await h.recordPersonTags('p1', ['a', 'b'], T(1));
    await store().transaction(() =>
      h.recordPersonTagsOfPage(
        [
          { personId: 'p1', tags: ['b', 'c'] },
          { personId: 'p2', tags: ['x'] },
          { personId: 'p3', tags: [] },
          { personId: 'p2', tags: ['y'] },
        ],
        T(2),
      ),
    );
    const rows = await store().all<{ p: string; tag: string; f: string; t: string | null }>(
      sql`SELECT person_id AS p, tag, valid_from AS f, valid_to AS t FROM person_tag_history ORDER BY person_id, tag`,
    );
    expect(rows).toEqual([
      { p: 'p1', tag: 'a', f: T(1), t: T(2) },
      { p: 'p1', tag: 'b', f: T(1), t: null },
      { p: 'p1', tag: 'c', f: T(2), t: null },
      { p: 'p2', tag: 'y', f: T(2), t: null },
    ]);
    await h.recordPersonTagsOfPage([], T(3));
    await h.recordPersonTagsOfPage([{ personId: 'p1', tags: ['b', 'c'] }], T(3));
    expect(await store().all(sql`SELECT tag FROM person_tag_history`)).toHaveLength(4);
  });

  it('channel stubs of a page: more than one statement of rows, existing source kept, a repeated id written once with its last values', async () => {
    await store().run(sql`INSERT INTO communication_channels (id, person_id, source, synced_at) VALUES ('c000', 'old', 'fb', ${T(1)})`);
    const stubs: ChannelStub[] = Array.from({ length: 150 }, (_, i) => ({
      id: `c${String(149 - i).padStart(3, '0')}`,
      personId: `p${i}`,
      source: 'ig',
      connectionId: `k${i}`,
      connectionStatus: 'on',
      syncedAt: T(2),
    }));
    stubs.push({ id: 'c001', personId: 'again', source: 'ig', connectionId: 'k-last', connectionStatus: 'off', syncedAt: T(2) });
    await store().transaction(() => channelStubWriter(store())(stubs));
    expect(await store().get(sql`SELECT count(*) AS n FROM communication_channels`)).toEqual({ n: 150 });
    const row = (id: string) => store().get(sql`SELECT person_id AS p, source AS s, connection_id AS k, connection_status AS st FROM communication_channels WHERE id = ${id}`);
    expect(await row('c000')).toEqual({ p: 'p149', s: 'fb', k: 'k149', st: 'on' });
    expect(await row('c001')).toEqual({ p: 'again', s: 'ig', k: 'k-last', st: 'off' });
    expect(await row('c100')).toEqual({ p: 'p49', s: 'ig', k: 'k49', st: 'on' });
  });
});
