import { communicationChannels } from '../../db/schema.js';
import { EntityUpserter } from '../../db/upsert.js';
import type { Page } from '../../leeloo/paginate.js';
import type { StreamDef } from '../context.js';
import { answers, SoftDeletes, undeleter } from '../deletions.js';
import { firstPage } from '../kinds.js';
import { json, rawJson, str, ts, type Item } from '../map.js';
import { reconcileList } from '../reconcile.js';
import { lookupFilter } from '../dateguard.js';
import { runWindowed, type Window, type WindowSpec } from '../windowed.js';

const stream: StreamDef = {
  name: 'communication_channels',
  description:
    'Communication channels (messenger accounts) with UTM marks, by last_message windows (GET /communication-channels); connection_id/status come from the people stream.',
  async run(ctx, s) {
    const up = new EntityUpserter(ctx.mirror.db, communicationChannels, {
      columns: ['id', 'personId', 'name', 'source', 'botStatus', 'lastMessageTime', 'createdAt', 'utmMarks', 'raw', 'syncedAt'],
      adoptStubs: true,
    });
    const dels = new SoftDeletes(ctx, s, 'communication_channels');
    // Back after being marked deleted: read its whole history again.
    const undelete = undeleter(ctx, 'communication_channels', 'messages_synced_lmt = NULL');
    // Windows of the walk carry the filter chosen for the server; look-ups get one as wide as the
    // date findings require (dateguard.ts lookupFilter).
    const pages = (win: { from: Date; to: Date; filter?: Window['filter'] }, offset = 0, limit = ctx.env.LEELOO_PAGE_SIZE) =>
      ctx.client.channelPages(win.filter ?? lookupFilter(ctx, win.from, win.to), { startOffset: offset, pageSize: limit, signal: ctx.signal }) as AsyncGenerator<Page<Item>>;
    const spec: WindowSpec<Item> = {
      fetchPage: (win, offset, limit) => firstPage(pages(win, offset, limit), offset),
      idOf: (c) => String(c.id),
      writePage(items) {
        const now = new Date().toISOString();
        const r = up.upsert(
          items.map((c) => ({
            id: c.id,
            personId: str(c.person_id),
            name: str(c.name),
            source: str(c.from),
            botStatus: str(c.botStatus),
            lastMessageTime: ts(c.lastMessageTime),
            createdAt: ts(c.createdAt),
            utmMarks: json(c.utmMarks ?? null),
            raw: rawJson(c),
            syncedAt: now,
          })),
        );
        for (const c of items) {
          dels.listed(String(c.id));
          if (undelete(String(c.id)) > 0) r.updated++;
        }
        return r;
      },
    };
    await runWindowed<Item>(ctx, s, spec);
    if (ctx.reconcile) {
      // Stubs (raw NULL: known only from a person's accounts) were never listed: no evidence either way.
      const exists = (id: string) => answers(s, () => ctx.client.getChannelPerson(id, { signal: ctx.signal }));
      await reconcileList<Item>(ctx, s, spec, (win) => pages(win), dels, exists, 'raw IS NOT NULL');
      dels.apply();
    }
  },
};

export default stream;
