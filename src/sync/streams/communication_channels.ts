import { communicationChannels } from '../../db/schema.js';
import { EntityUpserter } from '../../db/upsert.js';
import type { StreamDef } from '../context.js';
import { firstPage } from '../kinds.js';
import { json, rawJson, str, ts, type Item } from '../map.js';
import { runWindowed } from '../windowed.js';

const stream: StreamDef = {
  name: 'communication_channels',
  description:
    'Communication channels (messenger accounts) with UTM marks, by last_message windows (GET /communication-channels); connection_id/status come from the people stream.',
  async run(ctx, s) {
    const up = new EntityUpserter(ctx.mirror.db, communicationChannels, {
      columns: ['id', 'personId', 'name', 'source', 'botStatus', 'lastMessageTime', 'createdAt', 'utmMarks', 'raw', 'syncedAt'],
      adoptStubs: true,
    });
    await runWindowed<Item>(ctx, s, {
      fetchPage: (win, offset, limit) =>
        firstPage(ctx.client.channelPages(win.filter, { startOffset: offset, pageSize: limit, signal: ctx.signal }), offset) as never,
      idOf: (c) => String(c.id),
      writePage(items) {
        const now = new Date().toISOString();
        return up.upsert(
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
      },
    });
  },
};

export default stream;
