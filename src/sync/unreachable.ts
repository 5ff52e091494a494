import { communicationChannels } from '../db/schema.js';
import { sql } from 'drizzle-orm';
import type { InsertRow } from '../db/store/types.js';
import { REACHABILITY, type ReachabilityFinding } from '../doctor/reachability.js';
import { normalizeTimestamp } from '../leeloo/dates.js';
import type { AccountListItem, PersonListItem } from '../leeloo/schemas.js';
import type { StreamRun, SyncContext } from './context.js';
import { channelFields, rawJson } from './map.js';
import { walkPages } from './paging.js';

/** A v1 account as the channel row it is (v1 lists no utmMarks; the channel stream adds them). */
export const toUnreachableChannelRow = (a: AccountListItem, personId: string, syncedAt: string): InsertRow<typeof communicationChannels> => ({
  id: a.id,
  personId,
  ...channelFields(a),
  raw: rawJson(a),
  syncedAt,
});

/**
 * People and channels that never wrote have no lastMessageTime, so no `last_message` window
 * lists them (and GET /people requires one). When doctor found such records (finding
 * `reachability`), full and reconcile runs read them through the v1 channel list, which takes
 * no date filter, and the person behind each channel the mirror lacks through
 * GET /communication-channels/{id}/person. Channels a window can reach are left to the windows.
 *
 * `writePeople` is the people stream's list writer (inside a transaction; person_tags and the channel
 * stubs of `accounts` come with it); the person's details then come due like any other's.
 */
export async function readUnreachable(ctx: SyncContext, s: StreamRun, writePeople: (items: PersonListItem[]) => Promise<{ inserted: number; updated: number }>): Promise<void> {
  const f = ctx.findings.get<ReachabilityFinding>(REACHABILITY);
  if (!f?.value?.unreachable) return;
  const start = Date.parse(`${ctx.env.SYNC_START_DATE}T00:00:00.000Z`);
  const { store } = ctx;
  const known = store.prepare<{ person_id: string | null; raw: string | null }>(sql`SELECT person_id, raw FROM communication_channels WHERE id = ${sql.placeholder('id')}`);
  const channels = store.entities(communicationChannels, { adoptStubs: true });
  const fetched = new Set<string>();
  let found = 0;
  for await (const page of walkPages((req) => ctx.client.accountsPage({}, req), { pageSize: ctx.client.pageSize, signal: ctx.signal, call: (fn) => s.call(fn), route: '/api/v1/accounts' })) {
    s.counters.pages++;
    for (const a of page.items) {
      const lmt = normalizeTimestamp(a.lastMessageTime);
      // Listed by a window of this run or the next: the channels stream's business.
      if (lmt !== null && Date.parse(lmt) >= start) continue;
      const row = await known.get({ id: a.id });
      if (row?.raw) continue;
      let personId = row?.person_id ?? null;
      if (personId === null || !fetched.has(personId)) {
        // A person detail carries every field of a list item: it is written as one.
        const person = await s.call(() => ctx.client.getChannelPerson(a.id, { signal: ctx.signal }));
        personId = person.id;
        fetched.add(personId);
        const pr = await store.transaction(() => writePeople([person]));
        s.counters.rowsInserted += pr.inserted;
        s.counters.rowsUpdated += pr.updated;
      }
      const cr = await store.transaction(() => channels.upsert([toUnreachableChannelRow(a, personId, new Date().toISOString())]));
      s.counters.rowsInserted += cr.inserted;
      s.counters.rowsUpdated += cr.updated;
      found++;
    }
  }
  s.log.info({ channels: found, people: fetched.size }, 'read channels no last_message window reaches (v1 /accounts)');
}
