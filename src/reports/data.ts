/**
 * What the reports page shows, read from the analyst views (migrations/0004_views.sql) and
 * sync_runs. Everything for the "all" range is embedded; the page filters the other ranges
 * client-side, so one file answers every range offline.
 */
import type Database from 'better-sqlite3';

export const RANGES = ['7', '30', '90', 'all'] as const;
export type Range = (typeof RANGES)[number];

export interface ReportData {
  generatedAt: string;
  /** The UTC day the ranges end on (the report's own day). */
  today: string;
  /** When the rollups the charts come from were written (after the last sync). */
  dataAsOf: string;
  messages: { day: string; source: string; messages: number }[];
  funnel: { day: string; newPeople: number; peopleWrote: number; peopleOrdered: number }[];
  orders: { day: string; status: string; orders: number }[];
  revenue: { day: string; currency: string; revenue: number }[];
  topTags: { tag: string; people: number }[];
  streams: { stream: string; status: string; trigger: string | null; startedAt: string; finishedAt: string | null; rows: number; requests: number; retries: number; error: string | null }[];
}

/**
 * The report's queries, one per chart, over the views or over their rollups (same columns;
 * src/db/views.ts). `bench/views.ts` times both.
 */
export type ReportSource = 'views' | 'rollups';
export function reportQueries(from: ReportSource) {
  const t = (view: string) => (from === 'rollups' ? `rollup_${view}` : view);
  return {
    messages: `SELECT day, coalesce(source, 'unknown') AS source, sum(messages) AS messages FROM ${t('messages_daily')} GROUP BY 1, 2 ORDER BY 1, 2`,
    funnel: `SELECT day, new_people AS newPeople, people_wrote AS peopleWrote, people_ordered AS peopleOrdered FROM ${t('funnel_daily')} ORDER BY day`,
    orders: `SELECT day, status, sum(orders) AS orders FROM ${t('orders_daily')} GROUP BY 1, 2 ORDER BY 1, 2`,
    revenue: `SELECT day, coalesce(currency, 'unknown') AS currency, sum(revenue) AS revenue FROM ${t('orders_daily')} WHERE status = 'paid' GROUP BY 1, 2 ORDER BY 1, 2`,
    topTags: `SELECT tag, people FROM ${t('tag_membership')} ORDER BY people DESC, tag LIMIT 20`,
    streams: `SELECT r.stream, r.status, r.trigger, r.started_at AS startedAt, r.finished_at AS finishedAt,
                     r.rows_inserted + r.rows_updated AS rows, r.requests, r.retries, r.error
              FROM sync_runs r
              WHERE r.id = (SELECT r2.id FROM sync_runs r2 WHERE r2.stream = r.stream ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1)
              ORDER BY r.stream`,
  };
}

/** When the rollups were last rewritten; undefined: never (a mirror no sync of this version has finished). */
export function rollupsRefreshedAt(sqlite: Database.Database): string | undefined {
  return sqlite.prepare('SELECT refreshed_at FROM rollup_state WHERE id = 1').pluck().get() as string | undefined;
}

/** Reads the rollups when they have been written, else the views themselves (slower, always current). */
export function readReportData(sqlite: Database.Database, now: Date = new Date()): ReportData {
  const rollupsAt = rollupsRefreshedAt(sqlite);
  const q = reportQueries(rollupsAt === undefined ? 'views' : 'rollups');
  const all = <T>(sql: string) => sqlite.prepare(sql).all() as T[];
  return {
    generatedAt: now.toISOString(),
    today: now.toISOString().slice(0, 10),
    dataAsOf: rollupsAt ?? now.toISOString(),
    messages: all(q.messages),
    funnel: all(q.funnel),
    orders: all(q.orders),
    revenue: all(q.revenue),
    topTags: all(q.topTags),
    streams: all(q.streams),
  };
}

export function parseRange(value: string | undefined): Range | undefined {
  if (value === undefined) return undefined;
  return (RANGES as readonly string[]).includes(value) ? (value as Range) : undefined;
}
