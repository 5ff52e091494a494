import { tunnelStats } from '../../db/schema.js';
import { perParentStream } from '../kinds.js';
import { asItem, int, num, rawJson } from '../map.js';

/**
 * One snapshot per tunnel per UTC day: the API only serves current totals, so history exists only
 * as far as we keep it. A second run on the same day replaces that day's snapshot.
 */
export default perParentStream({
  name: 'tunnel_stats',
  description: 'Daily snapshots of each tunnel’s totals (GET /tunnels/{id}/stats).',
  dependsOn: ['tunnels'],
  parents: (ctx) => ctx.mirror.sqlite.prepare('SELECT id FROM tunnels ORDER BY id').all() as { id: string }[],
  fetch: (c, tunnel, signal) => c.getTunnelStats(tunnel.id, { signal }),
  write(ctx, s, tunnel, stats, syncedAt) {
    const st = asItem(stats[0]);
    const day = ctx.runStart.toISOString().slice(0, 10);
    const row = {
      tunnelId: tunnel.id,
      snapshotDate: day,
      subscribers: int(st.subscribers),
      uniqSubscribers: int(st.uniqSubscribers),
      orders: int(st.orders),
      sales: int(st.sales),
      uniqSales: int(st.uniqSales),
      visits: int(st.visits),
      uniqVisits: int(st.uniqVisits),
      shows: int(st.shows),
      uniqShows: int(st.uniqShows),
      totalSale: num(st.totalSale),
      totalExpenses: num(st.totalExpenses),
      raw: rawJson(stats),
      syncedAt,
    };
    const existed = ctx.mirror.sqlite.prepare('SELECT 1 FROM tunnel_stats WHERE tunnel_id = ? AND snapshot_date = ?').get(tunnel.id, day);
    ctx.mirror.db
      .insert(tunnelStats)
      .values(row)
      .onConflictDoUpdate({ target: [tunnelStats.tunnelId, tunnelStats.snapshotDate], set: row })
      .run();
    if (existed) s.counters.rowsUpdated++;
    else s.counters.rowsInserted++;
    return [];
  },
  prune: null,
});
