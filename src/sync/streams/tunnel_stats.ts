import { sql } from 'drizzle-orm';
import { getTableColumns } from 'drizzle-orm';
import { tunnelStats } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
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

const COLUMNS = getTableColumns(tunnelStats);

/** The day's snapshot, inserted or replacing the one of an earlier run that day. */
function replaceSnapshot(row: InsertRow<typeof tunnelStats>) {
  const entries = Object.entries(row).map(([key, value]) => ({ name: sql.identifier(COLUMNS[key as keyof typeof COLUMNS].name), value }));
  return sql`INSERT INTO tunnel_stats (${sql.join(
    entries.map((e) => e.name),
    sql`, `,
  )}) VALUES (${sql.join(
    entries.map((e) => sql`${e.value ?? null}`),
    sql`, `,
  )}) ON CONFLICT (tunnel_id, snapshot_date) DO UPDATE SET ${sql.join(
    entries.map((e) => sql`${e.name} = excluded.${e.name}`),
    sql`, `,
  )}`;
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
    store: ctx.store,
    day: ctx.runStart.toISOString().slice(0, 10),
    existed: ctx.store.prepare(sql`SELECT 1 AS one FROM tunnel_stats WHERE tunnel_id = ${sql.placeholder('tunnel')} AND snapshot_date = ${sql.placeholder('day')}`),
  }),
  parents: idsOf('tunnels'),
  fetch: (c, tunnel, signal) => c.getTunnelStats(tunnel.id, { signal }),
  async write(w, s, tunnel, stats, syncedAt) {
    const row = toTunnelStatsRow(tunnel.id, w.day, stats, syncedAt);
    const existed = await w.existed.get({ tunnel: tunnel.id, day: w.day });
    await w.store.run(replaceSnapshot(row));
    if (existed) s.counters.rowsUpdated++;
    else s.counters.rowsInserted++;
    return [];
  },
  prune: null,
});
