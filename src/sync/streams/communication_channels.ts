import { communicationChannels } from '../../db/schema.js';
import { sql } from 'drizzle-orm';
import type { InsertRow } from '../../db/store/types.js';
import type { Channel } from '../../leeloo/schemas.js';
import type { StreamDef } from '../context.js';
import { answers, SoftDeletes, undeleter } from '../deletions.js';
import { lastMessageList } from '../dateguard.js';
import { channelFields, json, rawJson, str } from '../map.js';
import { reconcileList } from '../reconcile.js';
import { runWindowed, type WindowSpec } from '../windowed.js';

export const toChannelRow = (c: Channel, syncedAt: string): InsertRow<typeof communicationChannels> => ({
  id: c.id,
  personId: str(c.person_id),
  ...channelFields(c),
  utmMarks: json(c.utmMarks ?? null),
  raw: rawJson(c),
  syncedAt,
});

const stream: StreamDef = {
  name: 'communication_channels',
  description:
    'Communication channels (messenger accounts) with UTM marks, by last_message windows (GET /communication-channels); connection_id/status come from the people stream.',
  async run(ctx, s) {
    const up = ctx.store.entities(communicationChannels, { adoptStubs: true });
    const dels = new SoftDeletes(ctx, s, 'communication_channels');
    // Back after being marked deleted: read its whole history again.
    const undelete = await undeleter(ctx, 'communication_channels', 'messages_synced_lmt');
    const spec: WindowSpec<Channel> = {
      list: lastMessageList(ctx, (f, req) => ctx.client.channelsPage(f, req)),
      idOf: (c) => c.id,
      async writePage(items) {
        const now = new Date().toISOString();
        const r = await up.upsert(items.map((c) => toChannelRow(c, now)));
        for (const c of items) {
          dels.listed(c.id);
          if ((await undelete(c.id)) > 0) r.updated++;
        }
        return r;
      },
    };
    await runWindowed(ctx, s, spec);
    if (ctx.reconcile) {
      // Stubs (raw NULL: known only from a person's accounts) were never listed: no evidence either way.
      const exists = (id: string) => answers(s, () => ctx.client.getChannelPerson(id, { signal: ctx.signal }));
      await reconcileList(ctx, s, spec, dels, exists, sql`raw IS NOT NULL`);
      await dels.apply();
    }
  },
};

export default stream;
