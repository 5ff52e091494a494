/** The report rollup tables of the SQLite mirror (re-exported by schema.ts). */
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/*
 * Rollups: copies of the daily/tag views (migrations/0004_views.sql), rewritten whole by
 * refreshDerivedViews (src/db/views.ts) after every sync. The views aggregate every message over
 * all time (seconds at 100k people); the reports page reads these instead. No keys: source,
 * type and currency may be NULL, and the rows are only ever replaced as a whole.
 */
export const rollupMessagesDaily = sqliteTable('rollup_messages_daily', {
  day: text('day').notNull(),
  source: text('source'),
  type: text('type'),
  messages: integer('messages').notNull(),
  channels: integer('channels').notNull(),
});

export const rollupFunnelDaily = sqliteTable('rollup_funnel_daily', {
  day: text('day').primaryKey(),
  newPeople: integer('new_people').notNull(),
  peopleWrote: integer('people_wrote').notNull(),
  peopleOrdered: integer('people_ordered').notNull(),
});

export const rollupOrdersDaily = sqliteTable('rollup_orders_daily', {
  day: text('day').notNull(),
  currency: text('currency'),
  status: text('status').notNull(),
  orders: integer('orders').notNull(),
  amount: real('amount').notNull(),
  revenue: real('revenue').notNull(),
});

export const rollupTagMembership = sqliteTable('rollup_tag_membership', {
  tag: text('tag').primaryKey(),
  people: integer('people').notNull(),
});

/** When the rollups were last rewritten: one row (id = 1). */
export const rollupState = sqliteTable('rollup_state', {
  id: integer('id').primaryKey(),
  refreshedAt: text('refreshed_at').notNull(),
  ms: integer('ms').notNull(), // how long the rewrite took
});
