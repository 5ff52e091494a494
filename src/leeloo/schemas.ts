import { z } from 'zod';

/**
 * Response shapes of the 32 documented endpoints (leeloo-api-v2.txt, leeloo-api-v1-accounts.txt).
 *
 * Every object is loose: the API grows fields and the mirror stores raw payloads, so unknown keys
 * are kept and never fail validation. Known fields are checked only as far as we rely on them:
 * ids must be non-empty strings; everything else is nullable/optional because the examples
 * disagree with each other (v1 `custom_fields` is an object, v2 an array; `included.orders` has
 * no id in v1; order prices are numbers in examples but a string in the update form). No schema
 * transforms: the client validates, then hands back the payload exactly as it was received.
 */

export const idSchema = z.string().min(1);
const text = z.string().nullish();
const timestamp = z.string().nullish();
/** Prices and counters: numbers in the examples, but the update-order form sends price as text. */
const numeric = z.union([z.number(), z.string()]).nullish();
const flag = z.union([z.boolean(), z.string(), z.number()]).nullish();
const stringList = z.array(z.string()).nullish();

export const linkSchema = z.looseObject({ type: text, id: idSchema });
export type Link = z.infer<typeof linkSchema>;

export const metaSchema = z.looseObject({
  limit: numeric,
  offset: numeric,
  /** Inconsistent across the examples (docs/leeloo-api.md, "Lists and paging"): kept, never used. */
  filteredCount: numeric,
  totalCount: numeric,
});
export type ListMeta = z.infer<typeof metaSchema>;

// ---- message templates (1, 2) ----
export const templateCategorySchema = z.looseObject({ id: idSchema, name: text });
export type TemplateCategory = z.infer<typeof templateCategorySchema>;

export const messageTemplateSchema = z.looseObject({ id: idSchema, message_name: text });
export type MessageTemplate = z.infer<typeof messageTemplateSchema>;

// ---- chat messages (4, 32) ----
export const chatMessageSchema = z.looseObject({
  id: idSchema,
  text,
  /** SYSTEM_MESSAGE | BOT_MESSAGE | YOUR_MESSAGE | FRIEND_MESSAGE (v1 docs). */
  type: text,
  read: flag,
  createdAt: timestamp,
  updatedAt: timestamp,
  /** v1: `links.createdBy = {type: "users", id}` on messages written by a platform user. */
  links: z.looseObject({ createdBy: linkSchema.nullish() }).nullish(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

// ---- communication channels (6) ----
/** What a v2 channel and a v1 account both carry (`from` is the messenger). */
const accountFields = { id: idSchema, name: text, from: text, botStatus: text, createdAt: timestamp };
const channelFields = { ...accountFields, lastMessageTime: timestamp };

export const channelSchema = z.looseObject({
  ...channelFields,
  person_id: z.string().nullish(),
  utmMarks: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).nullish(),
});
export type Channel = z.infer<typeof channelSchema>;

// ---- people (7, 13, 14, 16) ----
export const personAccountSchema = z.looseObject({
  account_id: idSchema,
  connection_id: z.string().nullish(),
  connection_status: text,
  from: text,
});
export type PersonAccount = z.infer<typeof personAccountSchema>;

/** v2 carries the ids; the v1 example only the names. */
export const subscribeHistorySchema = z.looseObject({
  tunnelName: text,
  leadgentoolName: text,
  trafficSource: text,
  tunnelId: z.string().nullish(),
  leadgentoolId: z.string().nullish(),
  trafficSourceId: z.string().nullish(),
  accountId: z.string().nullish(),
});
export type SubscribeHistoryEntry = z.infer<typeof subscribeHistorySchema>;

export const customFieldSchema = z.looseObject({ type: text, name: text, value: z.unknown() });
export type CustomField = z.infer<typeof customFieldSchema>;

/** v2: `[{type, name, value}]`; v1: `{ "<name>": value }`. Both accepted wherever either appears. */
export const customFieldsSchema = z.union([z.array(customFieldSchema), z.record(z.string(), z.unknown())]).nullish();

export const personLinksSchema = z.looseObject({
  contactedUsers: z.array(linkSchema).nullish(),
  orders: z.array(linkSchema).nullish(),
});

/** What a person list item and a person detail both carry. */
const personFields = {
  id: idSchema,
  name: text,
  email: text,
  phone: text,
  /** Tag names, not ids (add-tag/remove-tag take ids from GET /tags). */
  tags: stringList,
  accounts: z.array(personAccountSchema).nullish(),
};

/** What a person detail and a v1 account detail both add to their list items. */
const detailFields = {
  gender: text,
  phone: text,
  email: text,
  locale: text,
  subscribeHistory: z.array(subscribeHistorySchema).nullish(),
  links: personLinksSchema.nullish(),
  custom_fields: customFieldsSchema,
};

export const personListItemSchema = z.looseObject({ ...personFields, lastMessageTime: timestamp });
export type PersonListItem = z.infer<typeof personListItemSchema>;

export const personDetailSchema = z.looseObject({
  ...personFields,
  ...detailFields,
  profileImage: text,
  /** Person details use snake_case timestamps, list items camelCase (docs/leeloo-api.md). */
  created_at: timestamp,
  updated_at: timestamp,
});
export type PersonDetail = z.infer<typeof personDetailSchema>;

// ---- users (26, 27; also `included.users`) ----
export const userSchema = z.looseObject({ id: idSchema, name: text, createdAt: timestamp, updatedAt: timestamp });
export type User = z.infer<typeof userSchema>;

/** `included.orders` of a person/account: v2 has an id, the v1 example has none. */
export const includedOrderSchema = z.looseObject({
  id: z.string().nullish(),
  title: text,
  price: numeric,
  currency: text,
  status: text,
  paymentMethod: text,
  updatedAt: timestamp,
});
export type IncludedOrder = z.infer<typeof includedOrderSchema>;

export const personIncludedSchema = z.looseObject({
  users: z.array(userSchema).nullish(),
  orders: z.array(includedOrderSchema).nullish(),
});
export type PersonIncluded = z.infer<typeof personIncludedSchema>;

// ---- orders (9, 10, 11, 12) ----
/** What an order list item and an order detail both carry; `status` has two vocabularies. */
const orderFields = { id: idSchema, title: text, price: numeric, currency: text, status: text, createdAt: timestamp, updatedAt: timestamp };

/** status, list vocabulary: OPENED, RESOLVED, REJECTED, … */
export const orderListItemSchema = z.looseObject({ ...orderFields, person_id: z.string().nullish() });
export type OrderListItem = z.infer<typeof orderListItemSchema>;

/** status, detail vocabulary per the docs: ORDER, PENDING, FAILED, SUCCESS, REFUNDED. */
export const orderDetailSchema = z.looseObject({ ...orderFields, description: text, paymentMethod: text });
export type OrderDetail = z.infer<typeof orderDetailSchema>;

/** POST /orders answers a list item without person_id (docs example). */
export const createdOrderSchema = orderListItemSchema.omit({ person_id: true });
export type CreatedOrder = z.infer<typeof createdOrderSchema>;

/** The docs answer `{id}`; nothing relies on it, so a missing id is not an error after an applied update. */
export const updatedOrderSchema = z.looseObject({ id: z.string().nullish() });
export type UpdatedOrder = z.infer<typeof updatedOrderSchema>;

// ---- tags (19) ----
export const tagSchema = z.looseObject({ id: idSchema, name: text });
export type Tag = z.infer<typeof tagSchema>;

// ---- tunnels (22-25) ----
export const tunnelSchema = z.looseObject({
  id: idSchema,
  name: text,
  createdAt: timestamp,
  updatedAt: timestamp,
  links: z.looseObject({ leadgentools: z.array(linkSchema).nullish() }).nullish(),
});
export type Tunnel = z.infer<typeof tunnelSchema>;

export const leadgentoolSchema = z.looseObject({
  id: idSchema,
  name: text,
  /** LINK | QR | WIDGET | POPUP | FORM | FB_AD | DEFAULT */
  type: text,
});
export type Leadgentool = z.infer<typeof leadgentoolSchema>;

export const tunnelStatsSchema = z.looseObject({
  subscribers: numeric,
  uniqSubscribers: numeric,
  orders: numeric,
  sales: numeric,
  uniqSales: numeric,
  visits: numeric,
  uniqVisits: numeric,
  shows: numeric,
  uniqShows: numeric,
  /** In USD per the docs. */
  totalSale: numeric,
  totalExpenses: numeric,
});
export type TunnelStats = z.infer<typeof tunnelStatsSchema>;

// ---- connections (28) ----
export const connectionSchema = z.looseObject({ id: idSchema, type: text, name: text });
export type Connection = z.infer<typeof connectionSchema>;

// ---- v1 accounts (30, 31) ----
export const accountListItemSchema = z.looseObject({ ...channelFields, tags: stringList });
export type AccountListItem = z.infer<typeof accountListItemSchema>;

export const accountDetailSchema = z.looseObject({ ...accountFields, ...detailFields, tags: stringList, updatedAt: timestamp });
export type AccountDetail = z.infer<typeof accountDetailSchema>;
export type AccountIncluded = PersonIncluded;

// ---- write answers (3, 5, 8, 15-18, 20, 21, 29) ----
/** `data: {}` in the docs; tolerate an empty array or null, which some backends send for "nothing". */
export const ackSchema = z.union([z.looseObject({}), z.array(z.unknown())]).nullish();
export type Ack = z.infer<typeof ackSchema>;

export const trafficSourceSchema = z.looseObject({
  id: idSchema,
  type: text,
  name: text,
  description: text,
  fb_adset_id: z.unknown(),
  synchronized_with_fb: flag,
  synchronization_error: z.unknown(),
  disabled: flag,
  company_id: z.string().nullish(),
  leadgentool_id: z.string().nullish(),
  tunnel_id: z.string().nullish(),
  created_by: z.string().nullish(),
  hash: text,
  resubscribe_button_id: z.string().nullish(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type TrafficSource = z.infer<typeof trafficSourceSchema>;

/** POST /people answers the new channel: `id` is the account (channel) id, `person_id` the person. */
export const createdPersonSchema = z.looseObject({
  id: idSchema,
  person_id: z.string().nullish(),
  name: text,
  tags: stringList,
  from: text,
  botStatus: text,
  connectionStatus: text,
  gender: text,
  phone: text,
  email: text,
  locale: text,
  subscribeHistory: z.array(subscribeHistorySchema).nullish(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type CreatedPerson = z.infer<typeof createdPersonSchema>;

export const smsConnectionResultSchema = z.looseObject({ count_to_process: numeric });
export type SmsConnectionResult = z.infer<typeof smsConnectionResultSchema>;

export const commentSchema = z.looseObject({
  id: idSchema,
  text: text,
  created_by: z.string().nullish(),
  company_id: z.string().nullish(),
  entity_id: z.string().nullish(),
  entity_type: text,
  created_at: timestamp,
  updated_at: timestamp,
});
export type Comment = z.infer<typeof commentSchema>;

// ---- envelopes ----
/**
 * A list answer: `{status: 1, data: [...], meta?}`. `meta` is absent on unpaged lists (tags,
 * stats) and may be absent on paged ones; paging then falls back to short-page detection.
 */
export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.looseObject({ data: z.array(item), meta: metaSchema.nullish() });
}

export function dataEnvelope<T extends z.ZodType>(data: T) {
  return z.looseObject({ data });
}

/**
 * `data: {<key>: [...]}` as documented for categories, templates and connections; a bare array
 * is accepted too, so a server that drops the wrapper is not a crash.
 */
export function wrappedListEnvelope<T extends z.ZodType>(key: string, item: T) {
  return z.looseObject({ data: z.union([z.looseObject({ [key]: z.array(item) }), z.array(item)]) });
}

/** GET /tags documents a bare array; tunnel stats an array even for one tunnel. Accept an object too. */
export function arrayOrOneEnvelope<T extends z.ZodType>(item: T) {
  return z.looseObject({ data: z.union([z.array(item), item]) });
}

export const personDetailEnvelope = z.looseObject({ data: personDetailSchema, included: personIncludedSchema.nullish() });
export const accountDetailEnvelope = z.looseObject({ data: accountDetailSchema, included: personIncludedSchema.nullish() });
/** Tunnel detail: the leadgentools come in `linked` (not `included`, unlike people). */
export const tunnelDetailEnvelope = z.looseObject({
  data: tunnelSchema,
  linked: z.looseObject({ leadgentools: z.array(leadgentoolSchema).nullish() }).nullish(),
  included: z.looseObject({ leadgentools: z.array(leadgentoolSchema).nullish() }).nullish(),
});

// ---- request bodies ----
export * from './bodies.js';
