import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store/index.js';
import { FindingsStore } from '../../src/sync/findings.js';
import { StateStore } from '../../src/sync/state.js';
import { BACKENDS, freshBackendDbs } from '../helpers/backends.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { closedAfterEach } from '../helpers/sim.js';

/*
 * The API may send U+0000 in any string. PostgreSQL stores it in neither text nor jsonb: without
 * src/db/pg-types.ts pgParameters a page holding one failed its transaction, and the stream with
 * it on every retry. On PostgreSQL it reads back as U+FFFD; SQLite stores what the API sent.
 */

const NUL = '\u0000';
const FFFD = '\ufffd';
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
const ids = (list: string[]) => list.map(lit).join(', ');

describe.each(BACKENDS)('U+0000 in API strings (%s)', (backend) => {
  const fresh = closedAfterEach();
  const dbs = freshBackendDbs(backend);
  /** What the backend holds for a string the API sent with a NUL. */
  const held = backend === 'postgres' ? FFFD : NUL;
  const gone = backend === 'postgres' ? NUL : FFFD;

  it('a full sync stores every row, NUL as the backend holds it, and a second full sync finds nothing changed', { timeout: 120_000 }, async () => {
    const sim = await fresh.simulator({ seed: 43, people: 60 });
    const played = sim.nulStrings({ share: 0.15 });
    expect(played.personIds).toHaveLength(9);
    expect(played.messageIds.length).toBeGreaterThan(0);
    expect(played.tag).not.toBeNull();
    const db = await dbs.db();
    // Passing, and the mirror equals the simulator (expect-mirror.ts expects U+FFFD on PostgreSQL).
    await syncMatching(sim, db.url);

    const people = await db.rows<{ id: string; name: string; raw: string; detail_raw: string }>(`SELECT id, name, raw, detail_raw FROM people WHERE id IN (${ids(played.personIds)})`);
    expect(people).toHaveLength(played.personIds.length);
    for (const p of people) {
      expect(p.name).toContain(held);
      expect(p.name).not.toContain(gone);
      // raw is jsonb on PostgreSQL (jsonbText), JSON text on SQLite: parsed, the name is the column's.
      expect((JSON.parse(p.raw) as { name: string }).name).toBe(p.name);
      expect((JSON.parse(p.detail_raw) as { name: string }).name).toBe(p.name);
    }
    // Strings holding a NUL are compared here, not in SQL text (neither backend takes one in a statement).
    const fields = await db.rows<{ person_id: string; value: string }>('SELECT person_id, value FROM custom_fields');
    expect([...new Set(fields.filter((f) => f.value.includes(held)).map((f) => f.person_id))].sort()).toEqual([...played.personIds].sort());
    const texts = await db.rows<{ id: string; text: string }>(`SELECT id, text FROM chat_messages WHERE id IN (${ids(played.messageIds)})`);
    expect(texts).toHaveLength(played.messageIds.length);
    for (const m of texts) expect(m.text).toContain(held);
    const tag = played.tag!.replace(NUL, held);
    expect((await db.rows<{ name: string }>('SELECT name FROM tags')).filter((t) => t.name === tag)).toHaveLength(1);
    const holders = [...sim.store.peopleList()].filter((p) => p.tags.includes(played.tag!)).map((p) => p.id).sort();
    expect(holders.length).toBeGreaterThan(0);
    const personTags = await db.rows<{ person_id: string; tag: string }>('SELECT person_id, tag FROM person_tags');
    expect(personTags.filter((t) => t.tag === tag).map((t) => t.person_id).sort()).toEqual(holders);
    const strings = [
      ...(await db.rows<{ s: string }>('SELECT name AS s FROM people')),
      ...(await db.rows<{ s: string }>('SELECT text AS s FROM chat_messages')),
      ...personTags.map((t) => ({ s: t.tag })),
      ...fields.map((f) => ({ s: f.value })),
    ];
    expect(strings.filter((r) => r.s?.includes(gone))).toEqual([]);
    // A tunnel's detail is written by raw SQL into jsonb (the leadgentools stream).
    const tunnel = (await db.rows<{ name: string; detail_raw: string }>(`SELECT name, detail_raw FROM tunnels WHERE id = ${lit(played.tunnelId!)}`))[0]!;
    expect(tunnel.name).toContain(held);
    expect((JSON.parse(tunnel.detail_raw) as { name: string }).name).toBe(tunnel.name);
    const tagged = (q: string) => db.rows<{ n: number }>(q).then((r) => Number(r[0]!.n));
    const history = await tagged('SELECT count(*) AS n FROM person_tag_history');
    expect(history).toBeGreaterThan(0);
    // PostgreSQL: a row's xmin is the transaction that last wrote it, so an equal one was not rewritten.
    const versions = async () =>
      backend === 'postgres'
        ? db.rows(`SELECT 'person_tags' AS t, person_id AS id, tag AS k, xmin::text AS v FROM person_tags UNION ALL SELECT 'custom_fields', person_id, name, xmin::text FROM custom_fields
             UNION ALL SELECT 'chat_messages', id, '', xmin::text FROM chat_messages UNION ALL SELECT 'tags', id, '', xmin::text FROM tags ORDER BY 1, 2, 3`)
        : [];
    const written = await versions();

    // Stored as U+FFFD, sent as U+0000: no change, so nothing is rewritten and no history interval ends.
    await syncPassing(sim, db.url, { full: true });
    expect(await versions()).toEqual(written);
    expect(await tagged('SELECT count(*) AS n FROM person_tag_history')).toBe(history);
    expect(await tagged('SELECT count(*) AS n FROM person_tag_history WHERE valid_to IS NOT NULL')).toBe(0);
  });

  it('sync_state.state and api_findings.value (JSON bound by raw SQL) take a NUL too', async () => {
    const db = await dbs.db();
    const store = await openStore(db.url);
    try {
      await new StateStore(store).put('people', 'nul', 'c', { after: `a${NUL}b` });
      expect((await new StateStore(store).get<{ after: string }>('people', 'nul')).state).toEqual({ after: `a${held}b` });
      const findings = await FindingsStore.load(store);
      await findings.put('nul_probe', { sample: `x${NUL}y` }, 'test', `detail ${NUL}`);
      const again = await FindingsStore.load(store);
      expect(again.get<{ sample: string }>('nul_probe')).toMatchObject({ value: { sample: `x${held}y` }, detail: `detail ${held}` });
    } finally {
      await store.close();
    }
  });
});
