/**
 * The mirror's schema. Conventions (docs/schema.md documents every column):
 * - snake_case; timestamps are ISO-8601 UTC text (`2020-02-06T11:30:30.035Z`), so they sort and
 *   compare as text; JSON is text; booleans are 0/1 integers.
 * - Every entity row keeps the API payload it came from (`raw`) and when we wrote it (`synced_at`).
 * - No foreign keys between mirror tables: the API offers no consistent snapshot (a channel can
 *   arrive before its person), and a mirror must accept what the source says. Indexes cover the
 *   joins instead.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, real, primaryKey, index, uniqueIndex, check } from 'drizzle-orm/sqlite-core';
import { CHANNEL_MESSAGES_DUE } from './due.js';

const raw = () => text('raw').notNull();
const syncedAt = () => text('synced_at').notNull();

export const people = sqliteTable(
  'people',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    gender: text('gender'),
    locale: text('locale'),
    profileImage: text('profile_image'),
    lastMessageTime: text('last_message_time'),
    createdAt: text('created_at'),
    updatedAt: text('updated_at'),
    tags: text('tags'), // JSON array of tag names, as listed; person_tags has one row per tag
    raw: raw(), // GET /people list item
    detailRaw: text('detail_raw'), // GET /people/{id}?include=contactedUsers,orders `data`
    syncedAt: syncedAt(),
    detailsSyncedAt: text('details_synced_at'), // null: details are due (new or changed person)
    deletedAt: text('deleted_at'), // confirmed gone from Leeloo (soft delete); null for live rows
  },
  (t) => [
    index('people_last_message_time_idx').on(t.lastMessageTime),
    index('people_email_idx').on(t.email),
    index('people_phone_idx').on(t.phone),
    // (details_synced_at, id): the due query (src/sync/list-details.ts) walks NULL details in id
    // order without sorting every due row a batch (on details_synced_at alone it read and sorted
    // the whole backlog for each 256 keys: quadratic in the company's size), and reconcile's
    // oldest-first pick (src/sync/reconcile.ts) reads it in order too.
    index('people_details_due_idx').on(t.detailsSyncedAt, t.id),
  ],
);

export const personTags = sqliteTable(
  'person_tags',
  {
    personId: text('person_id').notNull(),
    tag: text('tag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.personId, t.tag] }), index('person_tags_tag_idx').on(t.tag)],
);

/** Change history (history mode): one row per interval a person carried a tag; valid_to NULL = current. */
export const personTagHistory = sqliteTable(
  'person_tag_history',
  {
    personId: text('person_id').notNull(),
    tag: text('tag').notNull(),
    validFrom: text('valid_from').notNull(),
    validTo: text('valid_to'),
  },
  (t) => [index('person_tag_history_open_idx').on(t.personId, t.tag, t.validTo)],
);

export const customFields = sqliteTable(
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

export const subscriptions = sqliteTable(
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

export const personContactedUsers = sqliteTable(
  'person_contacted_users',
  {
    personId: text('person_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.personId, t.userId] }), index('person_contacted_users_user_idx').on(t.userId)],
);

export const communicationChannels = sqliteTable(
  'communication_channels',
  {
    id: text('id').primaryKey(),
    personId: text('person_id'),
    name: text('name'),
    source: text('source'), // the API's "from": TELEGRAM, FACEBOOK, …
    botStatus: text('bot_status'),
    lastMessageTime: text('last_message_time'),
    createdAt: text('created_at'),
    utmMarks: text('utm_marks'), // JSON object
    connectionId: text('connection_id'), // from the person's `accounts`
    connectionStatus: text('connection_status'),
    raw: text('raw'), // null until the channel list itself returned this channel
    syncedAt: syncedAt(),
    messagesSyncedLmt: text('messages_synced_lmt'), // last_message_time its messages were synced up to
    messagesSyncedAt: text('messages_synced_at'),
    deletedAt: text('deleted_at'), // confirmed gone from Leeloo (soft delete); null for live rows
  },
  (t) => [
    index('communication_channels_person_idx').on(t.personId),
    index('communication_channels_lmt_idx').on(t.lastMessageTime),
    index('communication_channels_source_idx').on(t.source),
    // Only the channels whose history is due, in id order: the due sweep walks it instead of every
    // channel's row (each sweep re-reads from the start while the channel list is still read).
    index('communication_channels_messages_due_idx').on(t.id).where(sql.raw(CHANNEL_MESSAGES_DUE)),
  ],
);

export const chatMessages = sqliteTable(
  'chat_messages',
  {
    id: text('id').primaryKey(),
    channelId: text('channel_id').notNull(),
    text: text('text'),
    type: text('type'),
    read: integer('read'),
    createdAt: text('created_at'),
    updatedAt: text('updated_at'),
    createdBy: text('created_by'), // links.createdBy.id: the platform user who wrote it
    raw: raw(),
    syncedAt: syncedAt(),
    deletedAt: text('deleted_at'), // no longer in the channel's history (soft delete); null for live rows
  },
  // No index on created_at alone: no query of the sync, the views or the reports uses one (the
  // messages_daily view scans the table), and message ids and times arrive in no order, so it
  // cost every insert a write to a random leaf page (docs/benchmarks.md, "CPU per request grows
  // with the company").
  (t) => [index('chat_messages_channel_created_idx').on(t.channelId, t.createdAt)],
);

export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    personId: text('person_id'),
    title: text('title'),
    description: text('description'),
    price: real('price'),
    currency: text('currency'),
    status: text('status'),
    paymentMethod: text('payment_method'),
    createdAt: text('created_at'),
    updatedAt: text('updated_at'),
    raw: raw(), // GET /orders list item
    detailRaw: text('detail_raw'), // GET /orders/{id} `data`
    syncedAt: syncedAt(),
    detailsSyncedAt: text('details_synced_at'),
    deletedAt: text('deleted_at'), // confirmed gone from Leeloo (soft delete); null for live rows
  },
  (t) => [
    index('orders_person_idx').on(t.personId),
    index('orders_status_idx').on(t.status),
    index('orders_created_idx').on(t.createdAt),
    index('orders_details_due_idx').on(t.detailsSyncedAt, t.id), // as people_details_due_idx
  ],
);

/** Change history (history mode): one row per interval an order had a status; valid_to NULL = current. */
export const orderStatusHistory = sqliteTable(
  'order_status_history',
  {
    orderId: text('order_id').notNull(),
    status: text('status'),
    validFrom: text('valid_from').notNull(),
    validTo: text('valid_to'),
  },
  (t) => [index('order_status_history_open_idx').on(t.orderId, t.validTo)],
);

export const tags = sqliteTable(
  'tags',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('tags_name_idx').on(t.name)],
);

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: text('created_at'),
  updatedAt: text('updated_at'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const tunnels = sqliteTable('tunnels', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: text('created_at'),
  updatedAt: text('updated_at'),
  raw: raw(), // GET /tunnels list item
  detailRaw: text('detail_raw'), // GET /tunnels/{id}?include=leadgentools `data`
  syncedAt: syncedAt(),
});

export const leadgentools = sqliteTable(
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

export const tunnelStats = sqliteTable(
  'tunnel_stats',
  {
    tunnelId: text('tunnel_id').notNull(),
    snapshotDate: text('snapshot_date').notNull(), // YYYY-MM-DD (UTC) of the sync that took it
    subscribers: integer('subscribers'),
    uniqSubscribers: integer('uniq_subscribers'),
    orders: integer('orders'),
    sales: integer('sales'),
    uniqSales: integer('uniq_sales'),
    visits: integer('visits'),
    uniqVisits: integer('uniq_visits'),
    shows: integer('shows'),
    uniqShows: integer('uniq_shows'),
    totalSale: real('total_sale'),
    totalExpenses: real('total_expenses'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [primaryKey({ columns: [t.tunnelId, t.snapshotDate] })],
);

export const connections = sqliteTable('connections', {
  id: text('id').primaryKey(),
  type: text('type'),
  name: text('name'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const templateCategories = sqliteTable('template_categories', {
  id: text('id').primaryKey(),
  name: text('name'),
  raw: raw(),
  syncedAt: syncedAt(),
});

export const messageTemplates = sqliteTable(
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

/** Legacy v1 accounts (GET /api/v1/accounts); a stream that is off by default. */
export const accounts = sqliteTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    tags: text('tags'), // JSON array of names
    source: text('source'),
    botStatus: text('bot_status'),
    lastMessageTime: text('last_message_time'),
    createdAt: text('created_at'),
    raw: raw(),
    syncedAt: syncedAt(),
  },
  (t) => [index('accounts_lmt_idx').on(t.lastMessageTime)],
);

/** One row per stream and partition: where the next run resumes. `state` is the stream's JSON cursor. */
export const syncState = sqliteTable(
  'sync_state',
  {
    stream: text('stream').notNull(),
    partition: text('partition').notNull().default(''),
    cursor: text('cursor'), // human-readable high-water mark (e.g. the last completed window's end)
    state: text('state'), // JSON: in-progress window, offset, …
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.stream, t.partition] })],
);

/**
 * What leeloo-sync has learned about the API it talks to (doctor's checks, the first sync's own
 * probe, the learned rate limit): one row per finding, `value` is JSON. Syncs read these instead
 * of trusting undocumented behaviour (docs/leeloo-api.md).
 */
export const apiFindings = sqliteTable('api_findings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(), // JSON
  detail: text('detail'), // one human-readable line: what was observed
  source: text('source').notNull(), // doctor, probe, sync, rate-limit
  checkedAt: text('checked_at').notNull(),
});

export const syncRuns = sqliteTable(
  'sync_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id').notNull(),
    stream: text('stream').notNull(),
    trigger: text('trigger'), // cli, demo, bench; worker: nightly, frequent, full, manual
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
    status: text('status').notNull(), // running, succeeded, failed, interrupted
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

/**
 * The outbox of write-backs (src/writes/). Rows may be inserted by plain SQL, so the status is
 * CHECKed: a misspelt status would otherwise leave a row that nothing ever picks up.
 */
export const outboundWrites = sqliteTable(
  'outbound_writes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    targetId: text('target_id'),
    payload: text('payload').notNull().default('{}'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    apiResponse: text('api_response'),
    idempotencyKey: text('idempotency_key'),
    createdAt: text('created_at').notNull().default(sqlNowDefault()),
    updatedAt: text('updated_at').notNull().default(sqlNowDefault()),
    completedAt: text('completed_at'),
    // Set (to a token) while a request is on its way, cleared with its outcome: a row found with it
    // set was interrupted mid-attempt (worker killed), so the API may or may not have applied it.
    inflightAt: text('inflight_at'),
  },
  (t) => [
    uniqueIndex('outbound_writes_idempotency_key_idx').on(t.idempotencyKey),
    index('outbound_writes_status_idx').on(t.status),
    check('outbound_writes_status_check', sql`status IN ('pending', 'queued', 'succeeded', 'failed', 'dead', 'ambiguous', 'cancelled')`),
  ],
);

function sqlNowDefault() {
  return sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
}

// The report rollups live in their own module (kept under one schema for drizzle-kit).
export * from './schema-rollups.js';
