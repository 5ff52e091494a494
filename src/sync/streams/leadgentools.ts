import { leadgentools } from '../../db/schema.js';
import { EntityUpserter } from '../../db/upsert.js';
import { perParentStream } from '../kinds.js';
import { rawJson, str } from '../map.js';

const upserters = new WeakMap<object, EntityUpserter>();

export default perParentStream({
  name: 'leadgentools',
  description:
    'Lead generation tools of every tunnel (GET /tunnels/{id}?include=leadgentools, from its `linked`); also stores the tunnel detail payload.',
  dependsOn: ['tunnels'],
  parents: (ctx) => ctx.mirror.sqlite.prepare('SELECT id FROM tunnels ORDER BY id').all() as { id: string }[],
  fetch: (c, tunnel, signal) => c.getTunnel(tunnel.id, { signal }),
  write(ctx, s, tunnel, detail, syncedAt) {
    let up = upserters.get(ctx.mirror.db);
    if (!up) upserters.set(ctx.mirror.db, (up = new EntityUpserter(ctx.mirror.db, leadgentools, { columns: ['id', 'tunnelId', 'name', 'type', 'raw', 'syncedAt'] })));
    ctx.mirror.sqlite.prepare('UPDATE tunnels SET detail_raw = ? WHERE id = ?').run(rawJson(detail.tunnel), tunnel.id);
    const r = up.upsert(detail.leadgentools.map((l) => ({ id: l.id, tunnelId: tunnel.id, name: str(l.name), type: str(l.type), raw: rawJson(l), syncedAt })));
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
    return detail.leadgentools.map((l) => l.id);
  },
  prune: { table: 'leadgentools', key: 'id' },
});
