import { describe, expect, it } from 'vitest';
import { type Simulator } from '../../src/sim/index.js';
import { BACKENDS, freshBackendDbs, type BackendDb } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { failures, syncStore } from '../helpers/mirror.js';
import { closedAfterEach } from '../helpers/sim.js';

type Read = (q: string) => Promise<Record<string, unknown>[]>;
/** The first column of every row. */
const pluck = async (rows: Read, q: string) => (await rows(q)).map((r) => Object.values(r)[0]);
const one = async (rows: Read, q: string) => (await pluck(rows, q))[0];
/** Ids here are the simulator's hex ids: quoting them inline is safe. */
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** Everything a test may want to see unchanged: rows, children, marks. */
async function snapshot(rows: Read) {
  return (
    await rows(
      `SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM people WHERE deleted_at IS NOT NULL) AS deleted_people,
              (SELECT count(*) FROM person_tags) AS tags, (SELECT count(*) FROM custom_fields) AS fields,
              (SELECT count(*) FROM communication_channels) AS channels, (SELECT count(*) FROM communication_channels WHERE deleted_at IS NOT NULL) AS deleted_channels,
              (SELECT count(*) FROM chat_messages) AS messages, (SELECT count(*) FROM chat_messages WHERE deleted_at IS NOT NULL) AS deleted_messages,
              (SELECT count(*) FROM orders WHERE deleted_at IS NOT NULL) AS deleted_orders`,
    )
  )[0];
}

describe.each(BACKENDS)('deletions are soft, confirmed and guarded (%s)', (backend) => {
  const fresh = closedAfterEach();
  const dbs = freshBackendDbs(backend);

  async function synced(people: number, seed: number): Promise<{ sim: Simulator; db: BackendDb; path: string }> {
    const sim = await fresh.simulator({ seed, people });
    const db = await dbs.db();
    await syncPassing(sim, db.url);
    return { sim, db, path: db.url };
  }

  // Slow on PostgreSQL (a full sync, a failing --full, a healthy one): half the company there,
  // still well past the breaker's floor of 25 404s.
  it('with 30% of detail and history requests answering 404, sync --full deletes nothing and fails; the next healthy run is exact', { timeout: 150_000 }, async () => {
    const { sim, db, path } = await synced(backend === 'postgres' ? 150 : 300, 31);
    const before = await snapshot(db.rows);
    sim.setKnobs({ notFoundRate: 0.3 });
    const r = await runCli(['sync', '--full'], { LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: path, LEELOO_RATE_LIMIT: '5000' });
    expect(r.code, r.stderr).toBe(1);
    const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('leeloo-sync:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/answered 404, more than the limit of \d+ .*SYNC_MAX_DELETE_SHARE/);
    expect(r.stdout).toMatch(/people\s+failed/);
    expect(await snapshot(db.rows)).toEqual(before);

    sim.setKnobs({ notFoundRate: 0 });
    await syncMatching(sim, path);
  });

  it('a chat-history 404 leaves the channel due and its messages intact', async () => {
    const { sim, db, path } = await synced(60, 37);
    const report = sim.activity({ messages: 3 });
    const counts = (ids: string[]) => Promise.all(ids.map((id) => one(db.rows, `SELECT count(*) AS n FROM chat_messages WHERE channel_id = ${lit(id)}`)));
    const before = await counts(report.messagedChannelIds);
    expect(before.every((n) => (n as number) > 0)).toBe(true);
    sim.setKnobs({ notFoundRate: 1 });
    const broken = await syncStore(sim, path, { streams: ['people', 'communication_channels', 'chat_messages'] });
    try {
      expect(failures(broken.result)).toEqual([]);
      expect(await counts(report.messagedChannelIds)).toEqual(before);
      // Still due: the synced mark stayed behind the channel's last message.
      const due = await pluck(db.rows, `SELECT id FROM communication_channels WHERE messages_synced_lmt < last_message_time AND deleted_at IS NULL ORDER BY id`);
      expect(due).toEqual([...new Set(report.messagedChannelIds)].sort());
      expect(await one(db.rows, 'SELECT count(*) AS n FROM communication_channels WHERE deleted_at IS NOT NULL')).toBe(0);
      expect(await one(db.rows, 'SELECT count(*) AS n FROM people WHERE deleted_at IS NOT NULL')).toBe(0);
    } finally {
      await broken.store.close();
    }
    sim.setKnobs({ notFoundRate: 0 });
    await syncMatching(sim, path);
  });

  it('a confirmed 404 marks a person deleted; the person coming back is undeleted', async () => {
    const { sim, db, path } = await synced(80, 41);
    const [victim] = [...sim.store.peopleList()].slice(10, 11).map((p) => p.id);
    const gone = sim.deletePeople({ ids: [victim!] });
    // The person changed just before the deletion: an incremental run asks for its details.
    expect(await db.run(`UPDATE people SET details_synced_at = NULL WHERE id = ${lit(victim!)}`)).toBe(1);
    await db.release();
    await syncPassing(sim, path, {}, async ({ rows }) => {
      const [row] = await rows<{ deleted_at: string | null }>(`SELECT deleted_at FROM people WHERE id = ${lit(victim!)}`);
      expect(row!.deleted_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      // Its channels are only marked through their own confirmed route (here: reconcile).
      expect(await pluck(rows, 'SELECT id FROM communication_channels WHERE deleted_at IS NOT NULL')).toEqual([]);
    });
    await syncMatching(sim, path, { reconcile: true }, async ({ rows }) => {
      expect(await pluck(rows, 'SELECT id FROM communication_channels WHERE deleted_at IS NOT NULL ORDER BY id')).toEqual([...gone.channelIds].sort());
    });

    // Back, and writing again: the next incremental lists it and undeletes it and its channel.
    sim.restorePeople([victim!]);
    const res = await fetch(`${sim.url}/api/v2/messages/send-message`, {
      method: 'POST',
      headers: { 'X-Leeloo-AuthToken': sim.token, 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: gone.channelIds[0], text: 'back again' }),
    });
    expect(res.status).toBe(200);
    await syncPassing(sim, path, {}, async ({ rows }) => {
      expect(await rows(`SELECT deleted_at FROM people WHERE id = ${lit(victim!)}`)).toEqual([{ deleted_at: null }]);
      expect(await rows(`SELECT deleted_at FROM communication_channels WHERE id = ${lit(gone.channelIds[0]!)}`)).toEqual([{ deleted_at: null }]);
    });
    // A reconcile brings back the rest (channels that did not write) and leaves everything exact.
    await syncMatching(sim, path, { reconcile: true }, async ({ rows }) => {
      expect(await one(rows, 'SELECT count(*) AS n FROM communication_channels WHERE deleted_at IS NOT NULL')).toBe(0);
    });
  });

  it('a reconcile that would mark more than SYNC_MAX_DELETE_SHARE (at least 25) of the live rows marks none', { timeout: 150_000 }, async () => {
    // PostgreSQL: half the company, a larger share gone: still past the floor of 25.
    const [people, share, pct] = backend === 'postgres' ? [200, 0.15, 15] : [400, 0.1, 10];
    const { sim, db, path } = await synced(people, 43);
    const gone = sim.deletePeople({ share });
    const n = (people * pct) / 100;
    expect(gone.personIds).toHaveLength(n);
    const before = await snapshot(db.rows);
    const tripped = await syncStore(sim, path, { reconcile: true, streams: ['people', 'communication_channels'] });
    try {
      const stream = tripped.result.streams.find((s) => s.stream === 'people')!;
      expect(stream.status).toBe('failed');
      // Retrying the same run would trip again: the worker fails such a job at once.
      expect(stream.permanent).toBe(true);
      expect(stream.error).toMatch(
        new RegExp(`^${n} of ${people} live people rows \\(${pct}%\\) would be marked deleted, more than the limit of 25 \\(SYNC_MAX_DELETE_SHARE=0.02, at least 25\\); nothing was marked deleted`),
      );
      expect(await snapshot(db.rows)).toEqual(before);
    } finally {
      await tripped.store.close();
    }
    // The deletions are real: one run with a higher share applies them.
    await syncMatching(sim, path, { reconcile: true, env: { SYNC_MAX_DELETE_SHARE: '0.3' } }, async ({ rows }) => {
      expect(await pluck(rows, 'SELECT id FROM people WHERE deleted_at IS NOT NULL ORDER BY id')).toEqual([...gone.personIds].sort());
    });
  });

  it('an order the complete order list no longer has is marked deleted, kept, and guarded by the breaker', async () => {
    const { sim, db, path } = await synced(40, 47);
    const fake = (n: number) => `ffffffffffffffff${String(n).padStart(8, '0')}`;
    const insert = async (ids: string[]) => {
      const now = lit(new Date().toISOString());
      const values = ids.map((id) => `(${lit(id)}, NULL, 'gone', '{}', ${now}, ${now})`).join(', ');
      expect(await db.run(`INSERT INTO orders (id, person_id, title, raw, synced_at, details_synced_at) VALUES ${values}`)).toBe(ids.length);
      await db.release();
    };
    // One order Leeloo no longer lists: marked, not removed.
    await insert([fake(1)]);
    await syncMatching(sim, path, { streams: ['orders'] }, async ({ rows }) => {
      expect(await rows(`SELECT title, deleted_at IS NOT NULL AS deleted FROM orders WHERE id = ${lit(fake(1))}`)).toEqual([{ title: 'gone', deleted: 1 }]);
    });
    // Thirty at once: more than 25, more than 2 % of the orders; none is marked.
    const many = Array.from({ length: 30 }, (_, i) => fake(100 + i));
    await insert(many);
    const tripped = await syncStore(sim, path, { streams: ['orders'] });
    try {
      const orders = tripped.result.streams[0]!;
      expect(orders.status).toBe('failed');
      expect(orders.error).toMatch(/^30 of \d+ live orders rows .* would be marked deleted, more than the limit of 25/);
      expect(await one(db.rows, 'SELECT count(*) AS n FROM orders WHERE deleted_at IS NOT NULL')).toBe(1);
    } finally {
      await tripped.store.close();
    }
  });
});
