/**
 * The communication_channels rows a list page of people knows of (a person's `accounts`), as
 * stubs: only person_id, source, connection_id and connection_status, which the channel list
 * lacks (leeloo-api.md); the channel stream owns the rest of the row. One multi-row upsert a
 * page, in id order, not one statement a channel: 2,780 statements of a 2,000-people sync; and on
 * PostgreSQL, single-row upserts in arrival order were seen deadlocking against the channel
 * stream's pages, which lock rows in id order too.
 *
 * Only the stubs that are new or differ are written: PostgreSQL's ON CONFLICT DO UPDATE locks
 * every conflicting row, its WHERE false or not, until the people page's transaction commits.
 * Locking a page's unchanged channels deadlocked (1 s each) against chat_messages' group-commit
 * batches, whose message marks (UPDATE communication_channels) lock channels in the order their
 * histories finished, which no sort can match (docs/benchmarks.md, "Deadlocks during a full sync").
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Prepared, Store } from '../../db/store/types.js';

export interface ChannelStub {
  id: string;
  personId: string;
  source: string | null;
  connectionId: string | null;
  connectionStatus: string | null;
  syncedAt: string;
}

/** Rows per statement: 6 parameters a row, far under either backend's limit. */
const CHUNK = 100;

interface StubColumns {
  id: string;
  person_id: string | null;
  connection_id: string | null;
  connection_status: string | null;
}

/** What the upsert's WHERE would find changed: a missing row, or another person, connection or status. */
const differs = (s: ChannelStub, row: StubColumns | undefined) =>
  !row || row.person_id !== s.personId || row.connection_id !== s.connectionId || row.connection_status !== s.connectionStatus;

export function channelStubWriter(store: Store): (stubs: readonly ChannelStub[]) => Promise<void> {
  const byCount = new Map<number, Prepared<never>>();
  const readByCount = new Map<number, Prepared<StubColumns>>();
  // A plain read takes no row lock: it leaves alone the channels a concurrent batch holds.
  const current = (n: number): Prepared<StubColumns> => {
    let s = readByCount.get(n);
    if (!s) {
      const ids = Array.from({ length: n }, (_, i) => sql.placeholder(`id${i}`));
      s = store.prepare<StubColumns>(
        sql`SELECT id, person_id, connection_id, connection_status FROM communication_channels WHERE id IN (${sql.join(ids, sql`, `)})`,
      );
      readByCount.set(n, s);
    }
    return s;
  };
  const statement = (n: number): Prepared<never> => {
    let s = byCount.get(n);
    if (!s) {
      const p = (name: string, i: number) => sql.placeholder(`${name}${i}`);
      const tuples: SQL[] = Array.from({ length: n }, (_, i) => sql`(${p('id', i)}, ${p('person', i)}, ${p('source', i)}, ${p('connId', i)}, ${p('connStatus', i)}, ${p('at', i)})`);
      s = store.prepare(
        sql`INSERT INTO communication_channels (id, person_id, source, connection_id, connection_status, synced_at)
         VALUES ${sql.join(tuples, sql`, `)}
         ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, connection_id = excluded.connection_id, connection_status = excluded.connection_status,
           source = coalesce(communication_channels.source, excluded.source)
         WHERE communication_channels.person_id IS DISTINCT FROM excluded.person_id OR communication_channels.connection_id IS DISTINCT FROM excluded.connection_id
           OR communication_channels.connection_status IS DISTINCT FROM excluded.connection_status`,
      );
      byCount.set(n, s);
    }
    return s;
  };
  return async (stubs) => {
    // One row per id (an upsert may not touch a row twice on PostgreSQL): the last one wins, as
    // it did one statement at a time; id order, so concurrent writers lock rows in one order.
    const last = new Map<string, ChannelStub>();
    for (const s of stubs) last.set(s.id, s);
    const rows = [...last.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const changed: ChannelStub[] = [];
    for (let start = 0; start < rows.length; start += CHUNK) {
      const part = rows.slice(start, start + CHUNK);
      const found = new Map((await current(part.length).all(Object.fromEntries(part.map((r, i) => [`id${i}`, r.id])))).map((r) => [r.id, r]));
      changed.push(...part.filter((r) => differs(r, found.get(r.id))));
    }
    for (let start = 0; start < changed.length; start += CHUNK) {
      const part = changed.slice(start, start + CHUNK);
      const params: Record<string, string | null> = {};
      part.forEach((r, i) => {
        params[`id${i}`] = r.id;
        params[`person${i}`] = r.personId;
        params[`source${i}`] = r.source;
        params[`connId${i}`] = r.connectionId;
        params[`connStatus${i}`] = r.connectionStatus;
        params[`at${i}`] = r.syncedAt;
      });
      await statement(part.length).run(params);
    }
  };
}
