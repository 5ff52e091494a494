/** The report rollup tables of the PostgreSQL mirror (re-exported by schema-pg.ts), in lockstep with schema-rollups.ts. */
import { date, doublePrecision, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { isoTime } from './pg-types.js';

// ---- rollups the reports page reads (src/db/views.ts rewrites them) ----
export const rollupMessagesDaily = pgTable('rollup_messages_daily', {
  day: date('day', { mode: 'string' }).notNull(),
  source: text('source'),
  type: text('type'),
  messages: integer('messages').notNull(),
  channels: integer('channels').notNull(),
});

export const rollupFunnelDaily = pgTable('rollup_funnel_daily', {
  day: date('day', { mode: 'string' }).primaryKey(),
  newPeople: integer('new_people').notNull(),
  peopleWrote: integer('people_wrote').notNull(),
  peopleOrdered: integer('people_ordered').notNull(),
});

export const rollupOrdersDaily = pgTable('rollup_orders_daily', {
  day: date('day', { mode: 'string' }).notNull(),
  currency: text('currency'),
  status: text('status').notNull(),
  orders: integer('orders').notNull(),
  amount: doublePrecision('amount').notNull(),
  revenue: doublePrecision('revenue').notNull(),
});

export const rollupTagMembership = pgTable('rollup_tag_membership', {
  tag: text('tag').primaryKey(),
  people: integer('people').notNull(),
});

/** When the rollups were last rewritten: one row (id = 1). */
export const rollupState = pgTable('rollup_state', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  refreshedAt: isoTime('refreshed_at').notNull(),
  ms: integer('ms').notNull(),
});
