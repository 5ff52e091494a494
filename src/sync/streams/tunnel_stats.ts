import { tunnelStats } from '../../db/schema.js';
import type { InsertRow } from '../../db/upsert.js';
import type { TunnelStats } from '../../leeloo/schemas.js';
import { idsOf, perParentStream } from '../stream-kinds.js';
import { int, num, rawJson } from '../map.js';

export function toTunnelStatsRow(tunnelId: string, snapshotDate: string, stats: TunnelStats[], syncedAt: string): InsertRow<typeof tunnelStats> {
  const st = stats[0];
  return {
    tunnelId,
    snapshotDate,
    subscribers: int(st?.subscribers),
    uniqSubscribers: int(st?.uniqSubscribers),
    orders: int(st?.orders),
    sales: int(st?.sales),
    uniqSales: int(st?.uniqSales),
    visits: int(st?.visits),
    uniqVisits: int(st?.uniqVisits),
    shows: int(st?.shows),
    uniqShows: int(st?.uniqShows),
    totalSale: num(st?.totalSale),
    totalExpenses: num(st?.totalExpenses),
    raw: rawJson(stats),
    syncedAt,
  };
}

/**
 * One snapshot per tunnel per UTC day: the API only serves current totals, so history exists only
 * as far as we keep it. A second run on the same day replaces that day's snapshot.
 */
export default perParentStream({
  name: 'tunnel_stats',
  description: 'Daily snapshots of each tunnel’s totals (GET /tunnels/{id}/stats).',
  dependsOn: ['tunnels'],
  setup: (ctx) => ({
    db: ctx.mirror.db,
    day: ctx.runStart.toISOString().slice(0, 10),
    existed: ctx.mirror.sqlite.prepare('SELECT 1 FROM tunnel_stats WHERE tunnel_id = ? AND snapshot_date = ?'),
  }),
  parents: idsOf('tunnels'),
  fetch: (c, tunnel, signal) => c.getTunnelStats(tunnel.id, { signal }),
  write(w, s, tunnel, stats, syncedAt) {
    const row = toTunnelStatsRow(tunnel.id, w.day, stats, syncedAt);
    const existed = w.existed.get(tunnel.id, w.day);
    w.db.insert(tunnelStats).values(row).onConflictDoUpdate({ target: [tunnelStats.tunnelId, tunnelStats.snapshotDate], set: row }).run();
    if (existed) s.counters.rowsUpdated++;
    else s.counters.rowsInserted++;
    return [];
  },
  prune: null,
});
