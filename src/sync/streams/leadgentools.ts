import { leadgentools } from '../../db/schema.js';
import { sql } from 'drizzle-orm';
import { jsonFor } from '../../db/pg-types.js';
import type { InsertRow } from '../../db/store/types.js';
import type { Leadgentool } from '../../leeloo/schemas.js';
import { idsOf, perParentStream } from '../stream-kinds.js';
import { rawJson, str } from '../map.js';

export const toLeadgentoolRow = (l: Leadgentool, tunnelId: string, syncedAt: string): InsertRow<typeof leadgentools> => ({ id: l.id, tunnelId, name: str(l.name), type: str(l.type), raw: rawJson(l), syncedAt });

export default perParentStream({
  name: 'leadgentools',
  description:
    'Lead generation tools of every tunnel (GET /tunnels/{id}?include=leadgentools, from its `linked`); also stores the tunnel detail payload.',
  dependsOn: ['tunnels'],
  setup: (ctx) => ({
    up: ctx.store.entities(leadgentools),
    detail: ctx.store.prepare(sql`UPDATE tunnels SET detail_raw = ${sql.placeholder('raw')} WHERE id = ${sql.placeholder('id')}`),
    // Raw SQL into a jsonb column: jsonbText on PostgreSQL, as the writers' column type does.
    json: (v: unknown) => jsonFor(ctx.store.dialect, rawJson(v)),
  }),
  parents: idsOf('tunnels'),
  fetch: (c, tunnel, signal) => c.getTunnel(tunnel.id, { signal }),
  async write(w, s, tunnel, detail, syncedAt) {
    await w.detail.run({ raw: w.json(detail.tunnel), id: tunnel.id });
    const r = await w.up.upsert(detail.leadgentools.map((l) => toLeadgentoolRow(l, tunnel.id, syncedAt)));
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
    return detail.leadgentools.map((l) => l.id);
  },
  prune: { table: 'leadgentools', key: 'id' },
});
