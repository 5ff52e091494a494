import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { type Simulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { syncMatching, syncPassing } from '../helpers/expect-mirror.js';
import { failures, syncWith } from '../helpers/mirror.js';
import type Database from 'better-sqlite3';
import { closedAfterEach } from '../helpers/sim.js';

const pluck = (sqlite: Database.Database, q: string, ...args: unknown[]) => sqlite.prepare(q).pluck().all(...args);
const one = (sqlite: Database.Database, q: string, ...args: unknown[]) => sqlite.prepare(q).pluck().get(...args);

/** Everything a test may want to see unchanged: rows, children, marks. */
function snapshot(sqlite: Database.Database) {
  return sqlite
    .prepare(
      `SELECT (SELECT count(*) FROM people) people, (SELECT count(*) FROM people WHERE deleted_at IS NOT NULL) deleted_people,
              (SELECT count(*) FROM person_tags) tags, (SELECT count(*) FROM custom_fields) fields,
              (SELECT count(*) FROM communication_channels) channels, (SELECT count(*) FROM communication_channels WHERE deleted_at IS NOT NULL) deleted_channels,
              (SELECT count(*) FROM chat_messages) messages, (SELECT count(*) FROM chat_messages WHERE deleted_at IS NOT NULL) deleted_messages,
              (SELECT count(*) FROM orders WHERE deleted_at IS NOT NULL) deleted_orders`,
    )
    .get();
}

describe('deletions are soft, confirmed and guarded', () => {
  const fresh = closedAfterEach();

  async function synced(people: number, seed: number): Promise<{ sim: Simulator; path: string }> {
    const sim = await fresh.simulator({ seed, people });
    const db = fresh.db();
    const first = await syncWith(sim, db.path);
    first.mirror.close();
    expect(failures(first.result)).toEqual([]);
    return { sim, path: db.path };
  }

  it('with 30% of detail and history requests answering 404, sync --full deletes nothing and fails; the next healthy run is exact', async () => {
    const { sim, path } = await synced(300, 31);
    const m = openMirror(path);
    const before = snapshot(m.sqlite);
    m.close();
    sim.setKnobs({ notFoundRate: 0.3 });
    const r = await runCli(['sync', '--full'], { LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: path, LEELOO_RATE_LIMIT: '5000' });
    expect(r.code, r.stderr).toBe(1);
    const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('leeloo-sync:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/answered 404, more than the limit of \d+ .*SYNC_MAX_DELETE_SHARE/);
    expect(r.stdout).toMatch(/people\s+failed/);
    const after = openMirror(path);
    try {
      expect(snapshot(after.sqlite)).toEqual(before);
    } finally {
      after.close();
    }

    sim.setKnobs({ notFoundRate: 0 });
    await syncMatching(sim, path);
  });

  it('a chat-history 404 leaves the channel due and its messages intact', async () => {
    const { sim, path } = await synced(60, 37);
    const report = sim.activity({ messages: 3 });
    const m = openMirror(path);
    const counts = (ids: string[]) => ids.map((id) => one(m.sqlite, 'SELECT count(*) FROM chat_messages WHERE channel_id = ?', id));
    const before = counts(report.messagedChannelIds);
    expect(before.every((n) => (n as number) > 0)).toBe(true);
    sim.setKnobs({ notFoundRate: 1 });
    const broken = await syncWith(sim, path, { streams: ['people', 'communication_channels', 'chat_messages'] });
    try {
      expect(failures(broken.result)).toEqual([]);
      expect(counts(report.messagedChannelIds)).toEqual(before);
      // Still due: the synced mark stayed behind the channel's last message.
      const due = pluck(
        broken.mirror.sqlite,
        `SELECT id FROM communication_channels WHERE messages_synced_lmt < last_message_time AND deleted_at IS NULL ORDER BY id`,
      );
      expect(due).toEqual([...new Set(report.messagedChannelIds)].sort());
      expect(one(broken.mirror.sqlite, 'SELECT count(*) FROM communication_channels WHERE deleted_at IS NOT NULL')).toBe(0);
      expect(one(broken.mirror.sqlite, 'SELECT count(*) FROM people WHERE deleted_at IS NOT NULL')).toBe(0);
    } finally {
      broken.mirror.close();
      m.close();
    }
    sim.setKnobs({ notFoundRate: 0 });
    await syncMatching(sim, path);
  });

  it('a confirmed 404 marks a person deleted; the person coming back is undeleted', async () => {
    const { sim, path } = await synced(80, 41);
    const [victim] = [...sim.store.peopleList()].slice(10, 11).map((p) => p.id);
    const gone = sim.deletePeople({ ids: [victim!] });
    // The person changed just before the deletion: an incremental run asks for its details.
    let m = openMirror(path);
    m.sqlite.prepare('UPDATE people SET details_synced_at = NULL WHERE id = ?').run(victim);
    m.close();
    await syncPassing(sim, path, {}, (first) => {
      const row = first.mirror.sqlite.prepare('SELECT deleted_at, (SELECT count(*) FROM person_tags WHERE person_id = people.id) tags FROM people WHERE id = ?').get(victim) as {
        deleted_at: string | null;
      };
      expect(row.deleted_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      // Its channels are only marked through their own confirmed route (here: reconcile).
      expect(pluck(first.mirror.sqlite, 'SELECT id FROM communication_channels WHERE deleted_at IS NOT NULL')).toEqual([]);
    });
    await syncMatching(sim, path, { reconcile: true }, (rec) => {
      expect(pluck(rec.mirror.sqlite, 'SELECT id FROM communication_channels WHERE deleted_at IS NOT NULL ORDER BY id')).toEqual([...gone.channelIds].sort());
    });

    // Back, and writing again: the next incremental lists it and undeletes it and its channel.
    sim.restorePeople([victim!]);
    const res = await fetch(`${sim.url}/api/v2/messages/send-message`, {
      method: 'POST',
      headers: { 'X-Leeloo-AuthToken': sim.token, 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: gone.channelIds[0], text: 'back again' }),
    });
    expect(res.status).toBe(200);
    await syncPassing(sim, path, {}, (back) => {
      expect(one(back.mirror.sqlite, 'SELECT deleted_at FROM people WHERE id = ?', victim)).toBeNull();
      expect(one(back.mirror.sqlite, 'SELECT deleted_at FROM communication_channels WHERE id = ?', gone.channelIds[0])).toBeNull();
    });
    // A reconcile brings back the rest (channels that did not write) and leaves everything exact.
    await syncMatching(sim, path, { reconcile: true }, (again) => {
      expect(one(again.mirror.sqlite, 'SELECT count(*) FROM communication_channels WHERE deleted_at IS NOT NULL')).toBe(0);
    });
  });

  it('a reconcile that would mark more than SYNC_MAX_DELETE_SHARE (at least 25) of the live rows marks none', async () => {
    const { sim, path } = await synced(400, 43);
    const gone = sim.deletePeople({ share: 0.1 });
    expect(gone.personIds).toHaveLength(40);
    const m = openMirror(path);
    const before = snapshot(m.sqlite);
    m.close();
    const tripped = await syncWith(sim, path, { reconcile: true, streams: ['people', 'communication_channels'] });
    try {
      const people = tripped.result.streams.find((s) => s.stream === 'people')!;
      expect(people.status).toBe('failed');
      // Retrying the same run would trip again: the worker fails such a job at once.
      expect(people.permanent).toBe(true);
      expect(people.error).toMatch(/^40 of 400 live people rows \(10%\) would be marked deleted, more than the limit of 25 \(SYNC_MAX_DELETE_SHARE=0.02, at least 25\); nothing was marked deleted/);
      expect(snapshot(tripped.mirror.sqlite)).toEqual(before);
    } finally {
      tripped.mirror.close();
    }
    // The deletions are real: one run with a higher share applies them.
    await syncMatching(sim, path, { reconcile: true, env: { SYNC_MAX_DELETE_SHARE: '0.3' } }, (allowed) => {
      expect(pluck(allowed.mirror.sqlite, 'SELECT id FROM people WHERE deleted_at IS NOT NULL ORDER BY id')).toEqual([...gone.personIds].sort());
    });
  });

  it('an order the complete order list no longer has is marked deleted, kept, and guarded by the breaker', async () => {
    const { sim, path } = await synced(40, 47);
    const fake = (n: number) => `ffffffffffffffff${String(n).padStart(8, '0')}`;
    const insert = (m: ReturnType<typeof openMirror>, ids: string[]) => {
      const ins = m.sqlite.prepare(`INSERT INTO orders (id, person_id, title, raw, synced_at, details_synced_at) VALUES (?, NULL, 'gone', '{}', ?, ?)`);
      for (const id of ids) ins.run(id, new Date().toISOString(), new Date().toISOString());
    };
    // One order Leeloo no longer lists: marked, not removed.
    let m = openMirror(path);
    insert(m, [fake(1)]);
    m.close();
    await syncMatching(sim, path, { streams: ['orders'] }, (one) => {
      expect(one.mirror.sqlite.prepare('SELECT title, deleted_at IS NOT NULL AS deleted FROM orders WHERE id = ?').get(fake(1))).toEqual({ title: 'gone', deleted: 1 });
    });
    // Thirty at once: more than 25, more than 2 % of the orders; none is marked.
    m = openMirror(path);
    const many = Array.from({ length: 30 }, (_, i) => fake(100 + i));
    insert(m, many);
    m.close();
    const tripped = await syncWith(sim, path, { streams: ['orders'] });
    try {
      const orders = tripped.result.streams[0]!;
      expect(orders.status).toBe('failed');
      expect(orders.error).toMatch(/^30 of \d+ live orders rows .* would be marked deleted, more than the limit of 25/);
      expect(tripped.mirror.sqlite.prepare(`SELECT count(*) FROM orders WHERE deleted_at IS NOT NULL`).pluck().get()).toBe(1);
    } finally {
      tripped.mirror.close();
    }
  });
});
