/**
 * What the reports page shows, read from the analyst views (migrations/0004_views.sql,
 * migrations-pg/0003_views.sql) and sync_runs, through a Store, so on either backend. Everything
 * for the "all" range is embedded; the page filters the other ranges client-side, so one file
 * answers every range offline.
 */
import { sql } from 'drizzle-orm';
import type { Store } from '../db/store/types.js';

/** What the report needs of a Store: it only reads. */
export type ReportReader = Pick<Store, 'all' | 'get'>;

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
 * src/db/views.ts). `bench/views.ts` times both. Portable SQL: camelCase aliases are quoted
 * (PostgreSQL folds unquoted names to lower case), and the counts the views give are integers on
 * both backends, so their sums are numbers, not PostgreSQL numerics read as text.
 */
export type ReportSource = 'views' | 'rollups';
export function reportQueries(from: ReportSource) {
  const t = (view: string) => (from === 'rollups' ? `rollup_${view}` : view);
  return {
    messages: `SELECT day, coalesce(source, 'unknown') AS source, sum(messages) AS messages FROM ${t('messages_daily')} GROUP BY 1, 2 ORDER BY 1, 2`,
    funnel: `SELECT day, new_people AS "newPeople", people_wrote AS "peopleWrote", people_ordered AS "peopleOrdered" FROM ${t('funnel_daily')} ORDER BY day`,
    orders: `SELECT day, status, sum(orders) AS orders FROM ${t('orders_daily')} GROUP BY 1, 2 ORDER BY 1, 2`,
    revenue: `SELECT day, coalesce(currency, 'unknown') AS currency, sum(revenue) AS revenue FROM ${t('orders_daily')} WHERE status = 'paid' GROUP BY 1, 2 ORDER BY 1, 2`,
    topTags: `SELECT tag, people FROM ${t('tag_membership')} ORDER BY people DESC, tag`,
    streams: `SELECT r.stream, r.status, r.trigger, r.started_at AS "startedAt", r.finished_at AS "finishedAt",
                     r.rows_inserted + r.rows_updated AS "rows", r.requests, r.retries, r.error
              FROM sync_runs r
              WHERE r.id = (SELECT r2.id FROM sync_runs r2 WHERE r2.stream = r.stream ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1)
              ORDER BY r.stream`,
  };
}

/** When the rollups were last rewritten; undefined: never (a mirror no sync of this version has finished). */
export async function rollupsRefreshedAt(store: ReportReader): Promise<string | undefined> {
  return (await store.get<{ at: string }>(sql`SELECT refreshed_at AS "at" FROM rollup_state WHERE id = 1`))?.at;
}

export const TOP_TAGS = 20;

// Text ordered by code point, as SQLite's BINARY collation does: PostgreSQL's ORDER BY follows
// the database's collation, and the report must not depend on the backend.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const by = <T>(...keys: ((r: T) => string)[]) => (x: T, y: T) => keys.reduce((acc, k) => acc || cmp(k(x), k(y)), 0);

/** Reads the rollups when they have been written, else the views themselves (slower, always current). */
export async function readReportData(store: ReportReader, now: Date = new Date()): Promise<ReportData> {
  const rollupsAt = await rollupsRefreshedAt(store);
  const q = reportQueries(rollupsAt === undefined ? 'views' : 'rollups');
  const all = <T>(text: string) => store.all<T>(sql.raw(text));
  // One after another, not at once: on PostgreSQL a page view must not take six pooled
  // connections from the sync's pool; the queries over the rollups are milliseconds each.
  const messages = await all<ReportData['messages'][number]>(q.messages);
  const funnel = await all<ReportData['funnel'][number]>(q.funnel);
  const orders = await all<ReportData['orders'][number]>(q.orders);
  const revenue = await all<ReportData['revenue'][number]>(q.revenue);
  const tags = await all<ReportData['topTags'][number]>(q.topTags);
  const streams = await all<ReportData['streams'][number]>(q.streams);
  return {
    generatedAt: now.toISOString(),
    today: now.toISOString().slice(0, 10),
    dataAsOf: rollupsAt ?? now.toISOString(),
    messages: messages.sort(by((r) => r.day, (r) => r.source)),
    funnel: funnel.sort(by((r) => r.day)),
    orders: orders.sort(by((r) => r.day, (r) => r.status)),
    revenue: revenue.sort(by((r) => r.day, (r) => r.currency)),
    topTags: tags.sort((x, y) => y.people - x.people || cmp(x.tag, y.tag)).slice(0, TOP_TAGS),
    streams: streams.sort(by((r) => r.stream)),
  };
}

export function parseRange(value: string | undefined): Range | undefined {
  if (value === undefined) return undefined;
  return (RANGES as readonly string[]).includes(value) ? (value as Range) : undefined;
}
