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
  messages: { day: string; source: string; messages: number }[];
  funnel: { day: string; newPeople: number; peopleWrote: number; peopleOrdered: number }[];
  orders: { day: string; status: string; orders: number }[];
  revenue: { day: string; currency: string; revenue: number }[];
  topTags: { tag: string; people: number }[];
  streams: { stream: string; status: string; trigger: string | null; startedAt: string; finishedAt: string | null; rows: number; requests: number; retries: number; error: string | null }[];
}

/** The report's queries, one per chart; `bench/views.ts` times them. */
export const REPORT_QUERIES = {
  messages: `SELECT day, coalesce(source, 'unknown') AS source, sum(messages) AS messages FROM messages_daily GROUP BY 1, 2 ORDER BY 1, 2`,
  funnel: `SELECT day, new_people AS newPeople, people_wrote AS peopleWrote, people_ordered AS peopleOrdered FROM funnel_daily ORDER BY day`,
  orders: `SELECT day, status, sum(orders) AS orders FROM orders_daily GROUP BY 1, 2 ORDER BY 1, 2`,
  revenue: `SELECT day, coalesce(currency, 'unknown') AS currency, sum(revenue) AS revenue FROM orders_daily WHERE status = 'paid' GROUP BY 1, 2 ORDER BY 1, 2`,
  topTags: `SELECT tag, people FROM tag_membership ORDER BY people DESC, tag LIMIT 20`,
  streams: `SELECT r.stream, r.status, r.trigger, r.started_at AS startedAt, r.finished_at AS finishedAt,
                   r.rows_inserted + r.rows_updated AS rows, r.requests, r.retries, r.error
            FROM sync_runs r
            WHERE r.id = (SELECT r2.id FROM sync_runs r2 WHERE r2.stream = r.stream ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1)
            ORDER BY r.stream`,
} as const;

export function readReportData(sqlite: Database.Database, now: Date = new Date()): ReportData {
  const all = <T>(q: string) => sqlite.prepare(q).all() as T[];
  return {
    generatedAt: now.toISOString(),
    today: now.toISOString().slice(0, 10),
    messages: all(REPORT_QUERIES.messages),
    funnel: all(REPORT_QUERIES.funnel),
    orders: all(REPORT_QUERIES.orders),
    revenue: all(REPORT_QUERIES.revenue),
    topTags: all(REPORT_QUERIES.topTags),
    streams: all(REPORT_QUERIES.streams),
  };
}

export function parseRange(value: string | undefined): Range | undefined {
  if (value === undefined) return undefined;
  return (RANGES as readonly string[]).includes(value) ? (value as Range) : undefined;
}
