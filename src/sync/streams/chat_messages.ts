import { sql } from 'drizzle-orm';
import { ApiError } from '../../errors.js';
import { CHANNEL_MESSAGES_DUE, dueChannelsQuery } from '../../db/due.js';
import { chatMessages } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { ChatMessage } from '../../leeloo/schemas.js';
import { PROVISIONAL_MESSAGE_PREFIX } from '../../writes/reflect.js';
import type { StreamDef, StreamRun, SyncContext } from '../context.js';
import { SoftDeletes, stillListed, undeleter } from '../deletions.js';
import { lastMessageList } from '../dateguard.js';
import { drainDue } from '../due.js';
import { bool01, rawJson, str, ts } from '../map.js';
import { walkPages } from '../paging.js';

interface DueChannel {
  id: string;
  lmt: string;
  hwm: string | null;
}

/**
 * Chat history is fetched only for channels whose last_message_time moved past the point their
 * messages were last synced (`messages_synced_lmt`), or that were never synced.
 *
 * Every documented example lists messages newest first, but ordering is not documented
 * (docs/leeloo-api.md, "Ordering is not documented … Verify on each page"). So each page is checked:
 * while it holds, paging stops once SYNC_CHAT_OVERLAP messages at or before the high-water mark
 * have been seen; the first out-of-order pair switches that channel to a full pass. After an
 * incremental pass the channel's mirrored message count must equal the API's totalCount; if it
 * does not, something was missed (or deleted) and the channel gets a full pass.
 *
 * Deletions are soft (src/sync/deletions.ts): a complete, unchanged full pass of a channel marks
 * the messages it no longer lists deleted; a 404 on a channel's history leaves the channel due
 * and counts toward the breaker, and the channel is marked deleted only when the channel list no
 * longer has it either.
 */
const stream: StreamDef = {
  name: 'chat_messages',
  description:
    'Chat history of channels with new messages (GET /communication-channels/{id}/chat-messages), incremental by high-water mark.',
  feedsFrom: 'communication_channels',
  async run(ctx, s) {
    const { store } = ctx;
    const p = (name: string) => sql.placeholder(name);
    const up = store.entities(chatMessages);
    if (ctx.full) await store.run(sql`UPDATE communication_channels SET messages_synced_lmt = NULL WHERE messages_synced_lmt IS NOT NULL`);
    const isDue = sql.raw(CHANNEL_MESSAGES_DUE);
    const due = store.prepare<DueChannel>(dueChannelsQuery());
    const dueCount = store.prepare<{ n: number }>(sql`SELECT count(*) AS n FROM communication_channels WHERE ${isDue}`);
    const count = store.prepare<{ n: number }>(sql`SELECT count(*) AS n FROM chat_messages WHERE channel_id = ${p('id')} AND deleted_at IS NULL`);
    const mirrored = async (id: string) => Number((await count.get({ id }))?.n ?? 0);
    const liveIds = store.prepare<{ id: string }>(sql`SELECT id FROM chat_messages WHERE channel_id = ${p('id')} AND deleted_at IS NULL`);
    const channelLmt = store.prepare<{ lmt: string | null }>(sql`SELECT last_message_time AS lmt FROM communication_channels WHERE id = ${p('id')}`);
    const doneSql = sql`UPDATE communication_channels SET messages_synced_lmt = ${p('lmt')}, messages_synced_at = ${p('at')} WHERE id = ${p('id')}`;
    const done = store.prepare(doneSql);
    // After a complete full pass the cursor's UPDATE also counts the channel's live messages
    // (RETURNING a subquery: SQLite ≥ 3.35 and PostgreSQL), one statement a channel, not two.
    const doneCounting = store.prepare<{ n: number }>(
      sql`${doneSql} RETURNING (SELECT count(*) FROM chat_messages m WHERE m.channel_id = communication_channels.id AND m.deleted_at IS NULL) AS n`,
    );
    const undelete = await undeleter(ctx, 'chat_messages');
    const removeProvisional = store.prepare(sql`DELETE FROM chat_messages WHERE id = ${p('id')}`);
    const channels = new SoftDeletes(ctx, s, 'communication_channels', 'chat history');
    const messages = new SoftDeletes(ctx, s, 'chat_messages');
    const notFound = new Set<string>();
    const writePage = async (channelId: string, items: ChatMessage[]) => {
      // Counted once committed: PostgreSQL runs a batch again after a deadlock (store/types.ts).
      const r = await store.batched(async () => {
        const now = new Date().toISOString();
        const written = await up.upsert(items.map((m) => toMessageRow(channelId, m, now)));
        for (const m of items) {
          messages.listed(m.id);
          if ((await undelete(m.id)) > 0) written.updated++;
        }
        return written;
      });
      s.counters.rowsInserted += r.inserted;
      s.counters.rowsUpdated += r.updated;
    };
    // A deletion's second look: as wide as the date findings require (dateguard.ts lookupFilter).
    const channelList = lastMessageList(ctx, (f, req) => ctx.client.channelsPage(f, req));

    await drainDue<DueChannel>(ctx, s, {
      selectDue: async (limit, after) => {
        if (channels.tripped) return [];
        for (;;) {
          const rows = await due.all({ after, limit });
          const keep = rows.filter((r) => !notFound.has(r.id));
          if (keep.length > 0 || rows.length === 0) return keep;
          after = rows[rows.length - 1]!.id;
        }
      },
      keyOf: (c) => c.id,
      unit: 'channels',
      countDue: async () => Number((await dueCount.get())?.n ?? 0),
      async process(ch) {
        if (channels.tripped) return;
        channels.read();
        let pass: PassOutcome;
        try {
          pass = await syncChannel(ctx, s, ch.id, ch.hwm, (items) => writePage(ch.id, items));
          // Only an incremental pass is checked against totalCount: a full pass read every page.
          const n = !pass.full && pass.totalCount !== null ? await mirrored(ch.id) : null;
          if (n !== null && n !== pass.totalCount) {
            s.log.info({ channelId: ch.id, mirrored: n, totalCount: pass.totalCount }, 'message count disagrees; full pass of the channel');
            pass = await syncChannel(ctx, s, ch.id, null, (items) => writePage(ch.id, items));
          }
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          // Never "synced with an empty history": the channel stays due and its messages stay.
          notFound.add(ch.id);
          if (!channels.answeredNotFound()) return;
          const listed = await stillListed(ctx, s, (await channelLmt.get({ id: ch.id }))?.lmt ?? null, ch.id, channelList);
          if (listed === false) channels.stage(ch.id, 'chat history 404 and not listed around its last message time');
          s.log.info(
            { channelId: ch.id, listed },
            listed === false
              ? 'chat history answered 404 and the channel list no longer has it; marking the channel deleted at the end of the stream'
              : 'chat history answered 404; the channel stays due and its messages are kept',
          );
          return;
        }
        const retire = pass.full && pass.complete;
        await store.batched(async () => {
          const cursor = { lmt: ch.lmt, at: new Date().toISOString(), id: ch.id };
          const live = retire ? Number((await doneCounting.get(cursor))?.n ?? 0) : (await done.run(cursor), 0);
          // A full pass that saw the whole history, unchanged, may retire messages the API no longer has.
          if (retire && live > pass.seen.size) {
            for (const { id } of await liveIds.all({ id: ch.id })) {
              if (pass.seen.has(id)) continue;
              // A sent message's stand-in (src/writes/reflect.ts) is ours, not the API's: the real
              // message has now been read, so the stand-in goes.
              if (id.startsWith(PROVISIONAL_MESSAGE_PREFIX)) await removeProvisional.run({ id });
              else messages.stage(id, 'not in a complete pass of its channel');
            }
          }
        });
      },
    }, s.upstream);
    await channels.apply();
    await messages.apply();
  },
};

interface PassOutcome {
  full: boolean;
  totalCount: number | null;
  complete: boolean;
  seen: Set<string>;
}

async function syncChannel(
  ctx: SyncContext,
  s: StreamRun,
  channelId: string,
  hwm: string | null,
  write: (items: ChatMessage[]) => Promise<void>,
): Promise<PassOutcome> {
  const overlap = Math.max(1, ctx.env.SYNC_CHAT_OVERLAP);
  let full = hwm === null;
  let prev: string | null = null;
  let atOrBeforeMark = 0;
  let firstTotal: number | null = null;
  let lastTotal: number | null = null;
  let received = 0;
  const seen = new Set<string>();
  const pages = walkPages((req) => ctx.client.chatMessagesPage(channelId, req), {
    pageSize: ctx.env.LEELOO_PAGE_SIZE,
    signal: ctx.signal,
    call: (fn) => s.call(fn),
    route: '/api/v2/communication-channels/:id/chat-messages',
  });
  for await (const page of pages) {
    s.counters.pages++;
    firstTotal ??= page.totalCount;
    lastTotal = page.totalCount;
    for (const m of page.items) {
      const created = ts(m.createdAt);
      if (created !== null && prev !== null && created > prev && !full) {
        s.log.info({ channelId }, 'chat messages are not newest first; full pass of the channel');
        full = true;
      }
      if (created !== null) prev = created;
      if (hwm !== null && created !== null && created <= hwm) atOrBeforeMark++;
      seen.add(m.id);
    }
    received += page.items.length;
    await write(page.items);
    ctx.progress.tick(s.name, page.items.length);
    if (!full && atOrBeforeMark >= overlap) break;
  }
  const complete = full && firstTotal !== null && firstTotal === lastTotal && seen.size === firstTotal && received === firstTotal;
  return { full, totalCount: firstTotal, complete, seen };
}

export function toMessageRow(channelId: string, m: ChatMessage, syncedAt: string): InsertRow<typeof chatMessages> {
  return {
    id: m.id,
    channelId,
    text: m.text ?? null,
    type: str(m.type),
    read: bool01(m.read),
    createdAt: ts(m.createdAt),
    updatedAt: ts(m.updatedAt),
    createdBy: str(m.links?.createdBy?.id),
    raw: rawJson(m),
    syncedAt,
  };
}

export default stream;
