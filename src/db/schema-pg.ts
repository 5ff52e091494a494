/**
 * The mirror's schema on PostgreSQL, in lockstep with schema.ts (test/db/schema-lockstep.test.ts
 * compares them): the same tables, columns, keys and indexes, with the types analysts expect on a
 * server (timestamptz, jsonb, boolean, double precision). docs/schema.md gives both types.
 *
 * The sync writes the same row objects to both backends, so the custom types below take and give
 * the JS values the SQLite columns hold: ISO-8601 UTC strings for times, JSON text for jsonb, 0/1
 * for booleans. Drizzle queries convert through them; raw SQL on the mirror's pool reads the same
 * shapes (pg.ts, MIRROR_TYPES), and its parameters need one conversion: JSON text bound to a jsonb
 * column goes through `jsonbText` (pg-types.ts jsonFor; ISO strings and 0/1 are read by PostgreSQL as
 * they are), and the PG store binds every string NUL-free (pg-types.ts pgParameters).
 */
import { sql } from 'drizzle-orm';
import { check, date, doublePrecision, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { CHANNEL_MESSAGES_DUE } from './due.js';
import { flag, isoTime, jsonb } from './pg-types.js';

export { jsonbText, toIsoTimestamp } from './pg-types.js';

const raw = () => jsonb('raw').notNull();
const syncedAt = () => isoTime('synced_at').notNull();

export const people = pgTable(
  'people',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    gender: text('gender'),
    locale: text('locale'),
    profileImage: text('profile_image'),
    lastMessageTime: isoTime('last_message_time'),
    createdAt: isoTime('created_at'),
    updatedAt: isoTime('updated_at'),
    tags: jsonb('tags'),
    raw: raw(),
    detailRaw: jsonb('detail_raw'),
    syncedAt: syncedAt(),
    detailsSyncedAt: isoTime('details_synced_at'),
    deletedAt: isoTime('deleted_at'),
  },
  (t) => [
    index('people_last_message_time_idx').on(t.lastMessageTime),
    index('people_email_idx').on(t.email),
    index('people_phone_idx').on(t.phone),
    index('people_details_due_idx').on(t.detailsSyncedAt, t.id), // schema.ts says why
  ],
);

export const personTags = pgTable(
  'person_tags',
  {
    personId: text('person_id').notNull(),
    tag: text('tag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.personId, t.tag] }), index('person_tags_tag_idx').on(t.tag)],
);

/** Change history (history mode): one row per interval a person carried a tag; valid_to NULL = current. */
export const personTagHistory = pgTable(
  'person_tag_history',
  {
    personId: text('person_id').notNull(),
    tag: text('tag').notNull(),
    validFrom: isoTime('valid_from').notNull(),
    validTo: isoTime('valid_to'),
  },
  (t) => [index('person_tag_history_open_idx').on(t.personId, t.tag, t.validTo)],
);

export const customFields = pgTable(
  'custom_fields',
  {
    personId: text('person_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    name: text('name').notNull(),
    type: text('type'),
    value: text('value'),
  },
  (t) => [primaryKey({ columns: [t.personId, t.ordinal] }), index('custom_fields_name_idx').on(t.name)],
);

export const subscriptions = pgTable(
  'subscriptions',
  {
    personId: text('person_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    tunnelId: text('tunnel_id'),
    tunnelName: text('tunnel_name'),
    leadgentoolId: text('leadgentool_id'),
    leadgentoolName: text('leadgentool_name'),
    trafficSourceId: text('traffic_source_id'),
    trafficSource: text('traffic_source'),
    accountId: text('account_id'),
    raw: raw(),
  },
  (t) => [
    primaryKey({ columns: [t.personId, t.ordinal] }),
    index('subscriptions_tunnel_idx').on(t.tunnelId),
    index('subscriptions_account_idx').on(t.accountId),
  ],
);

export const personContactedUsers = pgTable(
  'person_contacted_users',
  {
    personId: text('person_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.personId, t.userId] }), index('person_contacted_users_user_idx').on(t.userId)],
);

export const communicationChannels = pgTable(
  'communication_channels',
  {
    id: text('id').primaryKey(),
    personId: text('person_id'),
    name: text('name'),
    source: text('source'),
    botStatus: text('bot_status'),
    lastMessageTime: isoTime('last_message_time'),
    createdAt: isoTime('created_at'),
    utmMarks: jsonb('utm_marks'),
    connectionId: text('connection_id'),
    connectionStatus: text('connection_status'),
    raw: jsonb('raw'),
    syncedAt: syncedAt(),
    messagesSyncedLmt: isoTime('messages_synced_lmt'),
    messagesSyncedAt: isoTime('messages_synced_at'),
    deletedAt: isoTime('deleted_at'),
  },
  (t) => [
    index('communication_channels_person_idx').on(t.personId),
    index('communication_channels_lmt_idx').on(t.lastMessageTime),
    index('communication_channels_source_idx').on(t.source),
    index('communication_channels_messages_due_idx').on(t.id).where(sql.raw(CHANNEL_MESSAGES_DUE)),
  ],
);

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: text('id').primaryKey(),
    channelId: text('channel_id').notNull(),
    text: text('text'),
    type: text('type'),
    read: flag('read'),
    createdAt: isoTime('created_at'),
    updatedAt: isoTime('updated_at'),
    createdBy: text('created_by'),
    raw: raw(),
    syncedAt: syncedAt(),
    deletedAt: isoTime('deleted_at'),
  },
  (t) => [index('chat_messages_channel_created_idx').on(t.channelId, t.createdAt)], // schema.ts says why not created_at alone
);

export const orders = pgTable(
  'orders',
  {
    id: text('id').primaryKey(),
    personId: text('person_id'),
    title: text('title'),
    description: text('description'),
    price: doublePrecision('price'),
    currency: text('currency'),
    status: text('status'),
    paymentMethod: text('payment_method'),
    createdAt: isoTime('created_at'),
    updatedAt: isoTime('updated_at'),
    raw: raw(),
    detailRaw: jsonb('detail_raw'),
    syncedAt: syncedAt(),
    detailsSyncedAt: isoTime('details_synced_at'),
    deletedAt: isoTime('deleted_at'),
  },
  (t) => [
    index('orders_person_idx').on(t.personId),
    index('orders_status_idx').on(t.status),
    index('orders_created_idx').on(t.createdAt),
    index('orders_details_due_idx').on(t.detailsSyncedAt, t.id),
  ],
);

/** Change history (history mode): one row per interval an order had a status; valid_to NULL = current. */
export const orderStatusHistory = pgTable(
  'order_status_history',
  {
    orderId: text('order_id').notNull(),
    status: text('status'),
    validFrom: isoTime('valid_from').notNull(),
    validTo: isoTime('valid_to'),
  },
  (t) => [index('order_status_history_open_idx').on(t.orderId, t.validTo)],
);

export const tags = pgTable(
  'tags',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('tags_name_idx').on(t.name)],
);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: isoTime('created_at'),
  updatedAt: isoTime('updated_at'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const tunnels = pgTable('tunnels', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: isoTime('created_at'),
  updatedAt: isoTime('updated_at'),
  raw: raw(),
  detailRaw: jsonb('detail_raw'),
  syncedAt: syncedAt(),
});

export const leadgentools = pgTable(
  'leadgentools',
  {
    id: text('id').primaryKey(),
    tunnelId: text('tunnel_id'),
    name: text('name'),
    type: text('type'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('leadgentools_tunnel_idx').on(t.tunnelId)],
);

export const tunnelStats = pgTable(
  'tunnel_stats',
  {
    tunnelId: text('tunnel_id').notNull(),
    // `date` reads back as the same YYYY-MM-DD text it was given.
    snapshotDate: date('snapshot_date', { mode: 'string' }).notNull(),
    subscribers: integer('subscribers'),
    uniqSubscribers: integer('uniq_subscribers'),
    orders: integer('orders'),
    sales: integer('sales'),
    uniqSales: integer('uniq_sales'),
    visits: integer('visits'),
    uniqVisits: integer('uniq_visits'),
    shows: integer('shows'),
    uniqShows: integer('uniq_shows'),
    totalSale: doublePrecision('total_sale'),
    totalExpenses: doublePrecision('total_expenses'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [primaryKey({ columns: [t.tunnelId, t.snapshotDate] })],
);

export const connections = pgTable('connections', {
  id: text('id').primaryKey(),
  type: text('type'),
  name: text('name'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const templateCategories = pgTable('template_categories', {
  id: text('id').primaryKey(),
  name: text('name'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const messageTemplates = pgTable(
  'message_templates',
  {
    id: text('id').primaryKey(),
    categoryId: text('category_id'),
    messageName: text('message_name'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('message_templates_category_idx').on(t.categoryId)],
);

export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    tags: jsonb('tags'),
    source: text('source'),
    botStatus: text('bot_status'),
    lastMessageTime: isoTime('last_message_time'),
    createdAt: isoTime('created_at'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('accounts_lmt_idx').on(t.lastMessageTime)],
);

export const syncState = pgTable(
  'sync_state',
  {
    stream: text('stream').notNull(),
    partition: text('partition').notNull().default(''),
    // Text, not a time: each stream chooses its high-water mark's form.
    cursor: text('cursor'),
    state: jsonb('state'),
    updatedAt: isoTime('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.stream, t.partition] })],
);

export const apiFindings = pgTable('api_findings', {
  name: text('name').primaryKey(),
  value: jsonb('value').notNull(),
  detail: text('detail'),
  source: text('source').notNull(),
  checkedAt: isoTime('checked_at').notNull(),
});

export const syncRuns = pgTable(
  'sync_runs',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    runId: text('run_id').notNull(),
    stream: text('stream').notNull(),
    trigger: text('trigger'),
    startedAt: isoTime('started_at').notNull(),
    finishedAt: isoTime('finished_at'),
    status: text('status').notNull(),
    windows: integer('windows').notNull().default(0),
    pages: integer('pages').notNull().default(0),
    rowsInserted: integer('rows_inserted').notNull().default(0),
    rowsUpdated: integer('rows_updated').notNull().default(0),
    requests: integer('requests').notNull().default(0),
    retries: integer('retries').notNull().default(0),
    error: text('error'),
  },
  (t) => [index('sync_runs_stream_started_idx').on(t.stream, t.startedAt), uniqueIndex('sync_runs_run_stream_idx').on(t.runId, t.stream)],
);

export const outboundWrites = pgTable(
  'outbound_writes',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    kind: text('kind').notNull(),
    targetId: text('target_id'),
    payload: jsonb('payload').notNull().default(sql`'{}'::jsonb`),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    // Text: a refused write keeps whatever the API answered, JSON or not.
    apiResponse: text('api_response'),
    idempotencyKey: text('idempotency_key'),
    createdAt: isoTime('created_at').notNull().default(sql`now()`),
    updatedAt: isoTime('updated_at').notNull().default(sql`now()`),
    completedAt: isoTime('completed_at'),
    // Text, not a time: it holds the attempt's token while a request is on its way.
    inflightAt: text('inflight_at'),
  },
  (t) => [
    uniqueIndex('outbound_writes_idempotency_key_idx').on(t.idempotencyKey),
    index('outbound_writes_status_idx').on(t.status),
    check('outbound_writes_status_check', sql`status IN ('pending', 'queued', 'succeeded', 'failed', 'dead', 'ambiguous', 'cancelled')`),
  ],
);

// The report rollups live in their own module (kept under one schema for drizzle-kit).
export * from './schema-pg-rollups.js';
