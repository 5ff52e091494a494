import { communicationChannels } from '../db/schema.js';
import { EntityUpserter } from '../db/upsert.js';
import { REACHABILITY, type ReachabilityFinding } from '../doctor/reachability.js';
import { normalizeTimestamp } from '../leeloo/dates.js';
import { throwIfAborted, type StreamRun, type SyncContext } from './context.js';
import { FindingsStore } from './findings.js';
import { asItem, rawJson, str, ts, type Item } from './map.js';

/**
 * People and channels that never wrote have no lastMessageTime, so no `last_message` window
 * lists them (and GET /people requires one). When doctor found such records (finding
 * `reachability`), full and reconcile runs read them through the v1 channel list, which takes
 * no date filter, and the person behind each channel the mirror lacks through
 * GET /communication-channels/{id}/person. Channels a window can reach are left to the windows.
 *
 * `writePeople` is the people stream's list writer (synchronous; person_tags and the channel
 * stubs of `accounts` come with it); the person's details then come due like any other's.
 */
export async function readUnreachable(ctx: SyncContext, s: StreamRun, writePeople: (items: Item[]) => { inserted: number; updated: number }): Promise<void> {
  const f = new FindingsStore(ctx.mirror.sqlite).get<ReachabilityFinding>(REACHABILITY);
  if (!f?.value?.unreachable) return;
  const start = Date.parse(`${ctx.env.SYNC_START_DATE}T00:00:00.000Z`);
  const { sqlite } = ctx.mirror;
  const known = sqlite.prepare<[string], { person_id: string | null; raw: string | null }>('SELECT person_id, raw FROM communication_channels WHERE id = ?');
  const channels = new EntityUpserter(ctx.mirror.db, communicationChannels, {
    columns: ['id', 'personId', 'name', 'source', 'botStatus', 'lastMessageTime', 'createdAt', 'raw', 'syncedAt'],
    adoptStubs: true,
  });
  const fetched = new Set<string>();
  let found = 0;
  const gen = ctx.client.accountPages({}, { signal: ctx.signal });
  try {
    for (;;) {
      throwIfAborted(ctx.signal);
      const r = await s.call(() => gen.next());
      if (r.done) break;
      s.counters.pages++;
      for (const a of r.value.items) {
        const lmt = normalizeTimestamp(a.lastMessageTime);
        // Listed by a window of this run or the next: the channels stream's business.
        if (lmt !== null && Date.parse(lmt) >= start) continue;
        const row = known.get(a.id);
        if (row?.raw) continue;
        let personId = row?.person_id ?? null;
        if (personId === null || !fetched.has(personId)) {
          const person = asItem(await s.call(() => ctx.client.getChannelPerson(a.id, { signal: ctx.signal })));
          personId = str(person.id);
          if (personId === null) continue;
          fetched.add(personId);
          const pr = sqlite.transaction(() => writePeople([person]))();
          s.counters.rowsInserted += pr.inserted;
          s.counters.rowsUpdated += pr.updated;
        }
        const now = new Date().toISOString();
        const cr = sqlite.transaction(() =>
          channels.upsert([
            {
              id: a.id,
              personId,
              name: str(a.name),
              source: str(a.from),
              botStatus: str(a.botStatus),
              lastMessageTime: ts(a.lastMessageTime),
              createdAt: ts(a.createdAt),
              raw: rawJson(a),
              syncedAt: now,
            },
          ]),
        )();
        s.counters.rowsInserted += cr.inserted;
        s.counters.rowsUpdated += cr.updated;
        found++;
      }
    }
  } finally {
    await gen.return(undefined);
  }
  s.log.info({ channels: found, people: fetched.size }, 'read channels no last_message window reaches (v1 /accounts)');
}
