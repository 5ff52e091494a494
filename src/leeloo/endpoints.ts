import type { z } from 'zod';
import type { DateFormat } from './dates.js';
import type { HttpMethod } from './http.js';
import {
  accountDetailEnvelope,
  accountListItemSchema,
  ackSchema,
  arrayOrOneEnvelope,
  channelSchema,
  chatMessageSchema,
  commentSchema,
  connectionSchema,
  createdOrderSchema,
  createdPersonSchema,
  dataEnvelope,
  listEnvelope,
  messageTemplateSchema,
  orderDetailSchema,
  orderListItemSchema,
  personDetailEnvelope,
  personDetailSchema,
  personListItemSchema,
  smsConnectionResultSchema,
  tagSchema,
  templateCategorySchema,
  trafficSourceSchema,
  tunnelDetailEnvelope,
  tunnelSchema,
  tunnelStatsSchema,
  updatedOrderSchema,
  userSchema,
  wrappedListEnvelope,
} from './schemas.js';

/** One answer of a limit/offset list. Walking a whole list is the sync engine's job (src/sync/paging.ts). */
export interface Page<T> {
  items: T[];
  /** Offset this page was requested at. */
  offset: number;
  /** Offset of the next page: `offset + items.length` (what the server really sent). */
  nextOffset: number;
  /** `meta.totalCount` of this answer, or null when the server sent none. */
  totalCount: number | null;
}

/** Where one list request starts and how many it asks for (the server may serve fewer). */
export interface PageRequest {
  /** Default 0. */
  offset?: number;
  /** Default: the client's pageSize. */
  limit?: number;
  signal?: AbortSignal;
}

export type PersonInclude = 'contactedUsers' | 'orders';

export interface ChannelFilter {
  from?: Date;
  to?: Date;
  /** Overrides the client's dateFormat for this list (syncs choose it from the findings). */
  dateFormat?: DateFormat;
}

export interface PeopleFilter {
  /** `filter[last_message]` is documented as required for GET /people. */
  from: Date;
  to: Date;
  /** Overrides the client's dateFormat for this list (syncs choose it from the findings). */
  dateFormat?: DateFormat;
  /** Tag names; sent as repeated `filter[tags]`. */
  tags?: string[];
  phone?: string;
  email?: string;
}

export interface AccountFilter {
  /** Tag names; sent comma-joined as one `filter[tags]` (v1 docs). */
  tags?: string[];
}

/**
 * One documented endpoint (numbers follow the index in leeloo-api.md). `route` is also the
 * metrics label; its `:id` is filled with a checked path id named `id` in errors.
 */
export interface Endpoint<S extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  route: string;
  id?: string;
  /** The whole answer (envelope included), validated before it is handed back as received. */
  schema: S;
  /**
   * Reads and idempotent writes retry every transient failure; the others (a second send is a
   * second message, order, comment) only failures that certainly did not deliver.
   */
  idempotent: boolean;
  /** How a write's body is encoded; form-data where the docs show it. */
  body?: 'json' | 'form';
}

const get = <S extends z.ZodType>(route: string, schema: S, id?: string): Endpoint<S> => ({ method: 'GET', route, id, schema, idempotent: true });
const write = <S extends z.ZodType>(method: HttpMethod, route: string, schema: S, o: { idempotent: boolean; body: 'json' | 'form'; id?: string }): Endpoint<S> => ({ method, route, schema, ...o });

const ack = dataEnvelope(ackSchema);
const chatPage = listEnvelope(chatMessageSchema);

export const ENDPOINTS = {
  // ---- reads (v2)
  /* 1 */ templateCategories: get('/api/v2/categories/templates', wrappedListEnvelope('categories', templateCategorySchema)),
  /* 2 */ templates: get('/api/v2/categories/templates/:id', wrappedListEnvelope('templates', messageTemplateSchema), 'categoryId'),
  /* 4 */ chatMessages: get('/api/v2/communication-channels/:id/chat-messages', chatPage, 'channelId'),
  /* 6 */ channels: get('/api/v2/communication-channels', listEnvelope(channelSchema)),
  /* 7 */ channelPerson: get('/api/v2/communication-channels/:id/person', dataEnvelope(personDetailSchema), 'accountId'),
  /* 10 */ orders: get('/api/v2/orders', listEnvelope(orderListItemSchema)),
  /* 11 */ order: get('/api/v2/orders/:id', dataEnvelope(orderDetailSchema), 'orderId'),
  /* 13 */ people: get('/api/v2/people', listEnvelope(personListItemSchema)),
  /* 14 */ person: get('/api/v2/people/:id', personDetailEnvelope, 'personId'),
  /* 19 */ tags: get('/api/v2/tags', arrayOrOneEnvelope(tagSchema)),
  /* 22 */ tunnels: get('/api/v2/tunnels', listEnvelope(tunnelSchema)),
  /* 23 */ tunnel: get('/api/v2/tunnels/:id', tunnelDetailEnvelope, 'tunnelId'),
  /* 24 */ allTunnelStats: get('/api/v2/tunnels/stats', arrayOrOneEnvelope(tunnelStatsSchema)),
  /* 25 */ tunnelStats: get('/api/v2/tunnels/:id/stats', arrayOrOneEnvelope(tunnelStatsSchema), 'tunnelId'),
  /* 26 */ users: get('/api/v2/users', listEnvelope(userSchema)),
  /* 27 */ user: get('/api/v2/users/:id', dataEnvelope(userSchema), 'userId'),
  /* 28 */ connections: get('/api/v2/connections', wrappedListEnvelope('connections', connectionSchema)),
  // ---- reads (v1)
  /* 30 */ accounts: get('/api/v1/accounts', listEnvelope(accountListItemSchema)),
  /* 31 */ account: get('/api/v1/accounts/:id', accountDetailEnvelope, 'accountId'),
  /* 32 */ accountChatMessages: get('/api/v1/accounts/:id/chat-messages', chatPage, 'accountId'),
  // ---- writes
  /* 3 */ sendTemplate: write('POST', '/api/v2/messages/send-template', ack, { idempotent: false, body: 'json' }),
  /* 5 */ sendMessage: write('POST', '/api/v2/messages/send-message', ack, { idempotent: false, body: 'json' }),
  /* 8 */ createTrafficSource: write('POST', '/api/v2/leadgentools/:id/create-traffic-source', dataEnvelope(trafficSourceSchema), { idempotent: false, body: 'json', id: 'leadgentoolId' }),
  /* 9 */ createOrder: write('POST', '/api/v2/orders', dataEnvelope(createdOrderSchema), { idempotent: false, body: 'json' }),
  /* 12: a MANUAL order without partial payments */
  updateOrder: write('POST', '/api/v2/orders/:id', dataEnvelope(updatedOrderSchema), { idempotent: true, body: 'form', id: 'orderId' }),
  /* 15: the docs show no answer, so none is assumed */
  updatePerson: write('PUT', '/api/v2/people/:id', ack, { idempotent: true, body: 'json', id: 'personId' }),
  /* 16: answers the new channel (`id`) and its `person_id` */
  createPerson: write('POST', '/api/v2/people', dataEnvelope(createdPersonSchema), { idempotent: false, body: 'json' }),
  /* 17: tags are ids here */
  addSmsConnection: write('POST', '/api/v2/people/sms', dataEnvelope(smsConnectionResultSchema), { idempotent: false, body: 'json' }),
  /* 18: a PUT, but every call adds a comment */
  addComment: write('PUT', '/api/v2/people/:id/add-comment', dataEnvelope(commentSchema), { idempotent: false, body: 'json', id: 'personId' }),
  /* 20 */ removeTag: write('PUT', '/api/v2/people/:id/remove-tag', ack, { idempotent: true, body: 'form', id: 'personId' }),
  /* 21: `tag_id` is an id from GET /tags, not a name */
  addTag: write('PUT', '/api/v2/people/:id/add-tag', ack, { idempotent: true, body: 'form', id: 'personId' }),
  /* 29 */ manualSubscribe: write('POST', '/api/v2/communication-channels/:id/manual-subscribe', ack, { idempotent: true, body: 'form', id: 'accountId' }),
} as const;

/** `meta.totalCount` as a number, tolerating a numeric string; anything else is unknown. */
export function totalCountOf(meta: unknown): number | null {
  if (!meta || typeof meta !== 'object') return null;
  const t = (meta as { totalCount?: unknown }).totalCount;
  const n = typeof t === 'number' ? t : typeof t === 'string' && t.trim() !== '' ? Number(t) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
}
