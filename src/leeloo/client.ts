import type { z } from 'zod';
import { DEFAULT_MAX_RETRIES, DEFAULT_PAGE_SIZE, DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_MAX } from '../defaults.js';
import type { Env } from '../config.js';
import { ConfigError, ValidationError } from '../errors.js';
import { registerSecret, silentLogger, type Logger } from '../log.js';
import { ApiCaller, type CallOptions, type ClientEvent, type ClientStats } from './caller.js';
import { formatFilterDate, formatIsoDate, formatPaymentDate, type DateFormat } from './dates.js';
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, HttpTransport, type QueryValue } from './http.js';
import { pathSegment } from './path-ids.js';
import { flattenPages, paginate, totalCountOf, type Page, type PageOptions } from './paginate.js';
import type { LearnedRate, RateLimitSnapshot } from './aimd.js';
import { AutoRateLimiter, TokenBucketRateLimiter, unlimited, type RateLimiter } from './rate-limit.js';
import { DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_MAX_MS } from './retry.js';
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
  type AccountDetail,
  type AccountIncluded,
  type AccountListItem,
  type Ack,
  type AddSmsConnectionBody,
  type Channel,
  type ChatMessage,
  type Comment,
  type Connection,
  type CreatedOrder,
  type CreatedPerson,
  type CreateOrderBody,
  type CreatePersonBody,
  type CreateTrafficSourceBody,
  type Leadgentool,
  type ManualSubscribeFields,
  type MessageTemplate,
  type OrderDetail,
  type OrderListItem,
  type PersonDetail,
  type PersonIncluded,
  type PersonListItem,
  type SendMessageBody,
  type SendTemplateBody,
  type SmsConnectionResult,
  type Tag,
  type TemplateCategory,
  type TrafficSource,
  type Tunnel,
  type TunnelStats,
  type UpdatedOrder,
  type UpdateOrderFields,
  type UpdatePersonBody,
  type User,
} from './schemas.js';

export type { CallOptions, ClientEvent, ClientStats } from './caller.js';

export interface LeelooClientOptions {
  /** Without the /api/v2 suffix; a trailing slash is fine. An empty string means the default. @defaultValue {@link DEFAULT_BASE_URL} (https://api.leeloo.ai) */
  baseUrl: string;
  token: string;
  /** Whole exchange (connect, headers, body), in ms. @defaultValue {@link DEFAULT_TIMEOUT_MS} (30 s) */
  timeoutMs?: number;
  /** A response body past this many bytes fails the call for good. @defaultValue {@link DEFAULT_MAX_RESPONSE_BYTES} (64 MiB) */
  maxResponseBytes?: number;
  /** Retries after the first attempt. @defaultValue {@link DEFAULT_MAX_RETRIES} (6) */
  maxRetries?: number;
  /** Base delay of the first retry, in ms. @defaultValue {@link DEFAULT_RETRY_BASE_MS} (250 ms) */
  retryBaseMs?: number;
  /** Upper bound of any computed backoff, in ms. @defaultValue {@link DEFAULT_RETRY_MAX_MS} (30 s) */
  retryMaxMs?: number;
  /** Requests per second for the built-in limiter; 0 or Infinity disables it; `auto` learns it. @defaultValue {@link DEFAULT_RATE_LIMIT} (10) */
  rateLimit?: number | 'auto';
  /** `auto`: never faster than this (LEELOO_RATE_LIMIT_MAX). @defaultValue {@link DEFAULT_RATE_LIMIT_MAX} (200) */
  rateLimitMax?: number;
  /** `auto`: what the last run learned (kept in the mirror by the sync engine), to start near it. */
  learnedRate?: LearnedRate | null;
  /** Replaces the built-in limiter (e.g. one shared through Redis). @defaultValue a token bucket of `rateLimit` */
  rateLimiter?: RateLimiter;
  /** `limit` of list requests. @defaultValue {@link DEFAULT_PAGE_SIZE} (100) */
  pageSize?: number;
  /** How `filter[last_message]` dates are written. @defaultValue `'datetime'` */
  dateFormat?: DateFormat;
  /** @defaultValue a silent logger */
  logger?: Logger;
  onEvent?: (e: ClientEvent) => void;
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

const PHONE = /^\+\d+$/;

// Envelopes compiled once.
const categoriesEnvelope = wrappedListEnvelope('categories', templateCategorySchema);
const templatesEnvelope = wrappedListEnvelope('templates', messageTemplateSchema);
const connectionsEnvelope = wrappedListEnvelope('connections', connectionSchema);
const tagsEnvelope = arrayOrOneEnvelope(tagSchema);
const statsEnvelope = arrayOrOneEnvelope(tunnelStatsSchema);
const chatPage = listEnvelope(chatMessageSchema);
const channelPage = listEnvelope(channelSchema);
const orderPage = listEnvelope(orderListItemSchema);
const peoplePage = listEnvelope(personListItemSchema);
const tunnelPage = listEnvelope(tunnelSchema);
const userPage = listEnvelope(userSchema);
const accountPage = listEnvelope(accountListItemSchema);
const channelPersonEnvelope = dataEnvelope(personDetailSchema);
const orderDetailEnvelope = dataEnvelope(orderDetailSchema);
const userEnvelope = dataEnvelope(userSchema);
const ackEnvelope = dataEnvelope(ackSchema);
const trafficSourceEnvelope = dataEnvelope(trafficSourceSchema);
const createdOrderEnvelope = dataEnvelope(createdOrderSchema);
const updatedOrderEnvelope = dataEnvelope(updatedOrderSchema);
const createdPersonEnvelope = dataEnvelope(createdPersonSchema);
const smsEnvelope = dataEnvelope(smsConnectionResultSchema);
const commentEnvelope = dataEnvelope(commentSchema);

type ListEnvelope<T> = { data: T[]; meta?: unknown };

/**
 * Typed client for the 29 v2 and 3 v1 endpoints of the Leeloo API (numbers in comments follow
 * the index in docs/leeloo-api.md). Payloads are validated and returned exactly as received.
 */
export class LeelooClient {
  /** Cumulative counters of this client (the same object for its whole life). */
  readonly stats: ClientStats;
  readonly pageSize: number;
  readonly dateFormat: DateFormat;
  private readonly transport: HttpTransport;
  private readonly caller: ApiCaller;
  private readonly limiter: RateLimiter;

  constructor(opts: LeelooClientOptions) {
    if (!opts.token) throw new ConfigError('the Leeloo API token is empty');
    // Second fence: whatever field it lands in, log lines and error excerpts drop it.
    registerSecret(opts.token);
    this.transport = new HttpTransport({ baseUrl: opts.baseUrl || DEFAULT_BASE_URL, token: opts.token, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxResponseBytes: opts.maxResponseBytes });
    const rate = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
    this.limiter =
      opts.rateLimiter ??
      (rate === 'auto'
        ? new AutoRateLimiter({ maxRate: opts.rateLimitMax ?? DEFAULT_RATE_LIMIT_MAX, learned: opts.learnedRate })
        : rate > 0 && Number.isFinite(rate)
          ? new TokenBucketRateLimiter({ rate })
          : unlimited);
    this.caller = new ApiCaller({
      transport: this.transport,
      limiter: this.limiter,
      maxRetries: Math.max(0, Math.floor(opts.maxRetries ?? DEFAULT_MAX_RETRIES)),
      backoff: { baseMs: opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, maxMs: opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS },
      logger: opts.logger ?? silentLogger,
      onEvent: opts.onEvent,
    });
    this.stats = this.caller.stats;
    this.pageSize = Math.max(1, Math.floor(opts.pageSize ?? DEFAULT_PAGE_SIZE));
    this.dateFormat = opts.dateFormat ?? 'datetime';
  }

  /** The limiter's current rate and, with `auto`, what it learned; undefined when unlimited. */
  rateLimit(): RateLimitSnapshot | undefined {
    return this.limiter.snapshot?.();
  }

  // ------------------------------------------------------------------ reads (v2)

  /** 1. GET /categories/templates */
  async listTemplateCategories(c?: CallOptions): Promise<TemplateCategory[]> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/categories/templates', path: '/api/v2/categories/templates', schema: categoriesEnvelope, idempotent: true, call: c });
    return unwrapList(env.data, 'categories') as TemplateCategory[];
  }

  /** 2. GET /categories/templates/{category_id} */
  async listTemplates(categoryId: string, c?: CallOptions): Promise<MessageTemplate[]> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v2/categories/templates/:id',
      path: `/api/v2/categories/templates/${seg('categoryId', categoryId)}`,
      schema: templatesEnvelope,
      idempotent: true,
      call: c,
    });
    return unwrapList(env.data, 'templates') as MessageTemplate[];
  }

  /** 4. GET /communication-channels/{id}/chat-messages (id: the channel = account id) */
  chatMessagePages(channelId: string, o?: PageOptions): AsyncGenerator<Page<ChatMessage>> {
    const path = `/api/v2/communication-channels/${seg('channelId', channelId)}/chat-messages`;
    return this.pages<ChatMessage>('/api/v2/communication-channels/:id/chat-messages', path, chatPage, [], o);
  }

  chatMessages(channelId: string, o?: PageOptions): AsyncGenerator<ChatMessage> {
    return flattenPages(this.chatMessagePages(channelId, o));
  }

  /** 6. GET /communication-channels, filtered by `filter[last_message][from|to]` */
  channelPages(f: ChannelFilter = {}, o?: PageOptions): AsyncGenerator<Page<Channel>> {
    const filters: [string, QueryValue][] = [];
    const format = f.dateFormat ?? this.dateFormat;
    if (f.from) filters.push(['filter[last_message][from]', formatFilterDate(f.from, format, 'from')]);
    if (f.to) filters.push(['filter[last_message][to]', formatFilterDate(f.to, format, 'to')]);
    return this.pages<Channel>('/api/v2/communication-channels', '/api/v2/communication-channels', channelPage, filters, o);
  }

  channels(f: ChannelFilter = {}, o?: PageOptions): AsyncGenerator<Channel> {
    return flattenPages(this.channelPages(f, o));
  }

  /** 7. GET /communication-channels/{account_id}/person */
  async getChannelPerson(accountId: string, c?: CallOptions): Promise<PersonDetail> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v2/communication-channels/:id/person',
      path: `/api/v2/communication-channels/${seg('accountId', accountId)}/person`,
      schema: channelPersonEnvelope,
      idempotent: true,
      call: c,
    });
    return env.data as PersonDetail;
  }

  /** 10. GET /orders (no date filter documented) */
  orderPages(o?: PageOptions): AsyncGenerator<Page<OrderListItem>> {
    return this.pages<OrderListItem>('/api/v2/orders', '/api/v2/orders', orderPage, [], o);
  }

  orders(o?: PageOptions): AsyncGenerator<OrderListItem> {
    return flattenPages(this.orderPages(o));
  }

  /** 11. GET /orders/{id} */
  async getOrder(id: string, c?: CallOptions): Promise<OrderDetail> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/orders/:id', path: `/api/v2/orders/${seg('orderId', id)}`, schema: orderDetailEnvelope, idempotent: true, call: c });
    return env.data as OrderDetail;
  }

  /** 13. GET /people; the date window is documented as required. */
  peoplePages(f: PeopleFilter, o?: PageOptions): AsyncGenerator<Page<PersonListItem>> {
    const filters: [string, QueryValue][] = [];
    for (const tag of f.tags ?? []) filters.push(['filter[tags]', tag]);
    const format = f.dateFormat ?? this.dateFormat;
    filters.push(['filter[last_message][from]', formatFilterDate(f.from, format, 'from')]);
    filters.push(['filter[last_message][to]', formatFilterDate(f.to, format, 'to')]);
    if (f.phone !== undefined) filters.push(['filter[phone]', f.phone]);
    if (f.email !== undefined) filters.push(['filter[email]', f.email]);
    return this.pages<PersonListItem>('/api/v2/people', '/api/v2/people', peoplePage, filters, o);
  }

  people(f: PeopleFilter, o?: PageOptions): AsyncGenerator<PersonListItem> {
    return flattenPages(this.peoplePages(f, o));
  }

  /** 14. GET /people/{id}?include=contactedUsers,orders */
  async getPerson(id: string, include: PersonInclude[] = ['contactedUsers', 'orders'], c?: CallOptions): Promise<{ person: PersonDetail; included: PersonIncluded }> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v2/people/:id',
      path: `/api/v2/people/${seg('personId', id)}`,
      query: include.length > 0 ? [['include', include]] : [],
      schema: personDetailEnvelope,
      idempotent: true,
      call: c,
    });
    return { person: env.data as PersonDetail, included: (env.included ?? {}) as PersonIncluded };
  }

  /** 19. GET /tags */
  async listTags(c?: CallOptions): Promise<Tag[]> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/tags', path: '/api/v2/tags', schema: tagsEnvelope, idempotent: true, call: c });
    return unwrapList(env.data, 'tags') as Tag[];
  }

  /** 22. GET /tunnels */
  tunnelPages(o?: PageOptions): AsyncGenerator<Page<Tunnel>> {
    return this.pages<Tunnel>('/api/v2/tunnels', '/api/v2/tunnels', tunnelPage, [], o);
  }

  tunnels(o?: PageOptions): AsyncGenerator<Tunnel> {
    return flattenPages(this.tunnelPages(o));
  }

  /** 23. GET /tunnels/{id}?include=leadgentools; the tools come in `linked`, not `included`. */
  async getTunnel(id: string, c?: CallOptions): Promise<{ tunnel: Tunnel; leadgentools: Leadgentool[] }> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v2/tunnels/:id',
      path: `/api/v2/tunnels/${seg('tunnelId', id)}`,
      query: [['include', 'leadgentools']],
      schema: tunnelDetailEnvelope,
      idempotent: true,
      call: c,
    });
    const tools = env.linked?.leadgentools ?? env.included?.leadgentools ?? [];
    return { tunnel: env.data as Tunnel, leadgentools: tools as Leadgentool[] };
  }

  /** 24. GET /tunnels/stats */
  async getAllTunnelStats(c?: CallOptions): Promise<TunnelStats[]> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/tunnels/stats', path: '/api/v2/tunnels/stats', schema: statsEnvelope, idempotent: true, call: c });
    return asArray(env.data) as TunnelStats[];
  }

  /** 25. GET /tunnels/{id}/stats (an array, as documented, even for one tunnel) */
  async getTunnelStats(id: string, c?: CallOptions): Promise<TunnelStats[]> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v2/tunnels/:id/stats',
      path: `/api/v2/tunnels/${seg('tunnelId', id)}/stats`,
      schema: statsEnvelope,
      idempotent: true,
      call: c,
    });
    return asArray(env.data) as TunnelStats[];
  }

  /** 26. GET /users */
  userPages(o?: PageOptions): AsyncGenerator<Page<User>> {
    return this.pages<User>('/api/v2/users', '/api/v2/users', userPage, [], o);
  }

  users(o?: PageOptions): AsyncGenerator<User> {
    return flattenPages(this.userPages(o));
  }

  /** 27. GET /users/{id} */
  async getUser(id: string, c?: CallOptions): Promise<User> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/users/:id', path: `/api/v2/users/${seg('userId', id)}`, schema: userEnvelope, idempotent: true, call: c });
    return env.data as User;
  }

  /** 28. GET /connections */
  async listConnections(c?: CallOptions): Promise<Connection[]> {
    const env = await this.caller.call({ method: 'GET', route: '/api/v2/connections', path: '/api/v2/connections', schema: connectionsEnvelope, idempotent: true, call: c });
    return unwrapList(env.data, 'connections') as Connection[];
  }

  // ------------------------------------------------------------------ reads (v1)

  /** 30. v1 GET /accounts?filter[tags]=a,b */
  accountPages(f: AccountFilter = {}, o?: PageOptions): AsyncGenerator<Page<AccountListItem>> {
    const filters: [string, QueryValue][] = f.tags && f.tags.length > 0 ? [['filter[tags]', f.tags]] : [];
    return this.pages<AccountListItem>('/api/v1/accounts', '/api/v1/accounts', accountPage, filters, o);
  }

  accounts(f: AccountFilter = {}, o?: PageOptions): AsyncGenerator<AccountListItem> {
    return flattenPages(this.accountPages(f, o));
  }

  /** 31. v1 GET /accounts/{id}?include=contactedUsers,orders (custom_fields is an object here) */
  async getAccount(id: string, include: PersonInclude[] = ['contactedUsers', 'orders'], c?: CallOptions): Promise<{ account: AccountDetail; included: AccountIncluded }> {
    const env = await this.caller.call({
      method: 'GET',
      route: '/api/v1/accounts/:id',
      path: `/api/v1/accounts/${seg('accountId', id)}`,
      query: include.length > 0 ? [['include', include]] : [],
      schema: accountDetailEnvelope,
      idempotent: true,
      call: c,
    });
    return { account: env.data as AccountDetail, included: (env.included ?? {}) as AccountIncluded };
  }

  /** 32. v1 GET /accounts/{id}/chat-messages */
  accountChatMessagePages(accountId: string, o?: PageOptions): AsyncGenerator<Page<ChatMessage>> {
    const path = `/api/v1/accounts/${seg('accountId', accountId)}/chat-messages`;
    return this.pages<ChatMessage>('/api/v1/accounts/:id/chat-messages', path, chatPage, [], o);
  }

  accountChatMessages(accountId: string, o?: PageOptions): AsyncGenerator<ChatMessage> {
    return flattenPages(this.accountChatMessagePages(accountId, o));
  }

  // ------------------------------------------------------------------ writes

  /** 3. POST /messages/send-template. Not idempotent: a second send is a second message. */
  async sendTemplate(b: SendTemplateBody, c?: CallOptions): Promise<Ack> {
    const json: SendTemplateBody = { account_id: id('account_id', b.account_id), template_id: id('template_id', b.template_id) };
    if (b.variables !== undefined) json.variables = b.variables;
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/messages/send-template', path: '/api/v2/messages/send-template', json, schema: ackEnvelope, idempotent: false, call: c });
    return env.data as Ack;
  }

  /** 5. POST /messages/send-message. Not idempotent. */
  async sendMessage(b: SendMessageBody, c?: CallOptions): Promise<Ack> {
    if (typeof b.text !== 'string' || b.text.length === 0) throw new ValidationError('text', 'must be a non-empty string');
    const json = { account_id: id('account_id', b.account_id), text: b.text };
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/messages/send-message', path: '/api/v2/messages/send-message', json, schema: ackEnvelope, idempotent: false, call: c });
    return env.data as Ack;
  }

  /** 8. POST /leadgentools/{id}/create-traffic-source. Not idempotent. */
  async createTrafficSource(leadgentoolId: string, b: CreateTrafficSourceBody, c?: CallOptions): Promise<TrafficSource> {
    if (!b.name) throw new ValidationError('name', 'must not be empty');
    const json: CreateTrafficSourceBody = { name: b.name };
    if (b.description !== undefined) json.description = b.description;
    const env = await this.caller.call({
      method: 'POST',
      route: '/api/v2/leadgentools/:id/create-traffic-source',
      path: `/api/v2/leadgentools/${seg('leadgentoolId', leadgentoolId)}/create-traffic-source`,
      json,
      schema: trafficSourceEnvelope,
      idempotent: false,
      call: c,
    });
    return env.data as TrafficSource;
  }

  /** 9. POST /orders (manual order). Not idempotent. */
  async createOrder(b: CreateOrderBody, c?: CallOptions): Promise<CreatedOrder> {
    const json: Record<string, unknown> = { ...b, paymentCreditsId: id('paymentCreditsId', b.paymentCreditsId), offerId: id('offerId', b.offerId) };
    if (b.transactionDate !== undefined) json.transactionDate = formatIsoDate(b.transactionDate, 'transactionDate');
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/orders', path: '/api/v2/orders', json: dropUndefined(json), schema: createdOrderEnvelope, idempotent: false, call: c });
    return env.data as CreatedOrder;
  }

  /** 12. POST /orders/{id}: a MANUAL order without partial payments; form-data per the docs. Idempotent. */
  async updateOrder(orderId: string, f: UpdateOrderFields, c?: CallOptions): Promise<UpdatedOrder> {
    if (f.status !== 'RESOLVED' && f.status !== 'REJECTED') throw new ValidationError('status', 'must be RESOLVED or REJECTED');
    const form = {
      status: f.status,
      paymentDate: f.paymentDate === undefined ? undefined : formatPaymentDate(f.paymentDate),
      currency: f.currency,
      price: f.price === undefined ? undefined : String(f.price),
      userComments: f.userComments,
    };
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/orders/:id', path: `/api/v2/orders/${seg('orderId', orderId)}`, form, schema: updatedOrderEnvelope, idempotent: true, call: c });
    return env.data as UpdatedOrder;
  }

  /** 15. PUT /people/{id}. Idempotent; the docs show no answer, so none is assumed. */
  async updatePerson(personId: string, b: UpdatePersonBody, c?: CallOptions): Promise<Ack> {
    if (b.phone !== undefined) checkPhone('phone', b.phone);
    const env = await this.caller.call({
      method: 'PUT',
      route: '/api/v2/people/:id',
      path: `/api/v2/people/${seg('personId', personId)}`,
      json: dropUndefined({ phone: b.phone, email: b.email, custom_fields: b.custom_fields }),
      schema: ackEnvelope,
      idempotent: true,
      call: c,
    });
    return env.data as Ack;
  }

  /** 16. POST /people. Not idempotent. Answers the new channel (`id`) and its `person_id`. */
  async createPerson(b: CreatePersonBody, c?: CallOptions): Promise<CreatedPerson> {
    if (!b.name) throw new ValidationError('name', 'must not be empty');
    if (b.phone !== undefined) checkPhone('phone', b.phone);
    const json = dropUndefined({
      name: b.name,
      email: b.email,
      phone: b.phone,
      leadgentool_id: id('leadgentool_id', b.leadgentool_id),
      connected_users_ids: b.connected_users_ids,
    });
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/people', path: '/api/v2/people', json, schema: createdPersonEnvelope, idempotent: false, call: c });
    return env.data as CreatedPerson;
  }

  /** 17. POST /people/sms (tags are ids here). Not idempotent. */
  async addSmsConnection(b: AddSmsConnectionBody, c?: CallOptions): Promise<SmsConnectionResult> {
    if (!Array.isArray(b.data) || b.data.length === 0) throw new ValidationError('data', 'must list at least one person');
    b.data.forEach((p, i) => {
      if (!p.phone) throw new ValidationError(`data[${i}].phone`, 'is required');
    });
    const json = dropUndefined({ data: b.data, connection_id: id('connection_id', b.connection_id), leadgentool_id: id('leadgentool_id', b.leadgentool_id), tags: b.tags });
    const env = await this.caller.call({ method: 'POST', route: '/api/v2/people/sms', path: '/api/v2/people/sms', json, schema: smsEnvelope, idempotent: false, call: c });
    return env.data as SmsConnectionResult;
  }

  /** 18. PUT /people/{id}/add-comment. A PUT, but every call adds a comment: not idempotent. */
  async addComment(personId: string, comment: string, c?: CallOptions): Promise<Comment> {
    if (typeof comment !== 'string' || comment.length === 0) throw new ValidationError('comment', 'must be a non-empty string');
    const env = await this.caller.call({
      method: 'PUT',
      route: '/api/v2/people/:id/add-comment',
      path: `/api/v2/people/${seg('personId', personId)}/add-comment`,
      json: { comment },
      schema: commentEnvelope,
      idempotent: false,
      call: c,
    });
    return env.data as Comment;
  }

  /** 20. PUT /people/{id}/remove-tag, form-data `tag_id`. Idempotent. */
  async removeTag(personId: string, tagId: string, c?: CallOptions): Promise<Ack> {
    return this.tagWrite('remove-tag', personId, tagId, c);
  }

  /** 21. PUT /people/{id}/add-tag, form-data `tag_id` (an id from GET /tags, not a name). Idempotent. */
  async addTag(personId: string, tagId: string, c?: CallOptions): Promise<Ack> {
    return this.tagWrite('add-tag', personId, tagId, c);
  }

  /** 29. POST /communication-channels/{account_id}/manual-subscribe, form-data. Idempotent. */
  async manualSubscribe(accountId: string, f: ManualSubscribeFields, c?: CallOptions): Promise<Ack> {
    const form = { tunnel_id: id('tunnel_id', f.tunnel_id), tunnel_block_id: id('tunnel_block_id', f.tunnel_block_id) };
    const env = await this.caller.call({
      method: 'POST',
      route: '/api/v2/communication-channels/:id/manual-subscribe',
      path: `/api/v2/communication-channels/${seg('accountId', accountId)}/manual-subscribe`,
      form,
      schema: ackEnvelope,
      idempotent: true,
      call: c,
    });
    return env.data as Ack;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  // ------------------------------------------------------------------ internals

  private async tagWrite(action: 'add-tag' | 'remove-tag', personId: string, tagId: string, c?: CallOptions): Promise<Ack> {
    const env = await this.caller.call({
      method: 'PUT',
      route: `/api/v2/people/:id/${action}`,
      path: `/api/v2/people/${seg('personId', personId)}/${action}`,
      form: { tag_id: id('tag_id', tagId) },
      schema: ackEnvelope,
      idempotent: true,
      call: c,
    });
    return env.data as Ack;
  }

  private pages<T>(route: string, path: string, schema: z.ZodType, filters: readonly (readonly [string, QueryValue])[], o: PageOptions = {}): AsyncGenerator<Page<T>> {
    const fetch = async (offset: number, limit: number, signal?: AbortSignal) => {
      const env = (await this.caller.call({
        method: 'GET',
        route,
        path,
        query: [['limit', limit], ['offset', offset], ...filters],
        schema,
        idempotent: true,
        call: { signal },
      })) as ListEnvelope<T>;
      return { items: env.data, totalCount: totalCountOf(env.meta) };
    };
    return paginate<T>(fetch, { pageSize: o.pageSize ?? this.pageSize, startOffset: o.startOffset, signal: o.signal, route });
  }
}

/** A client configured from the environment (src/config.ts); `extra` overrides any option. */
export function createClientFromEnv(env: Env, extra: Partial<LeelooClientOptions> = {}): LeelooClient {
  const token = extra.token ?? env.LEELOO_API_TOKEN;
  if (!token) throw new ConfigError('LEELOO_API_TOKEN is required (the API token from Leeloo settings; sent as X-Leeloo-AuthToken)');
  return new LeelooClient({
    baseUrl: env.LEELOO_API_URL,
    timeoutMs: env.LEELOO_TIMEOUT_MS,
    maxResponseBytes: env.LEELOO_MAX_RESPONSE_BYTES,
    maxRetries: env.LEELOO_MAX_RETRIES,
    rateLimit: env.LEELOO_RATE_LIMIT,
    rateLimitMax: env.LEELOO_RATE_LIMIT_MAX,
    pageSize: env.LEELOO_PAGE_SIZE,
    // `auto`: syncs pass the format per list from the findings; datetime is only the default.
    dateFormat: env.LEELOO_DATE_FORMAT === 'date' ? 'date' : 'datetime',
    ...dropUndefined(extra),
    token,
  });
}

// ------------------------------------------------------------------ helpers

function id(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field, 'must be a non-empty id string');
  return value;
}

/** A path segment: a 24-hex id (path-ids.ts), percent-encoded so it cannot change the route. */
function seg(field: string, value: unknown): string {
  return pathSegment(field, value);
}

function checkPhone(field: string, phone: string): void {
  // POST /people requires `+` and digits (docs/leeloo-api.md); PUT /people/{id} stores the same field.
  if (!PHONE.test(phone)) throw new ValidationError(field, 'must be "+" followed by digits, e.g. +380953066789');
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function unwrapList(data: unknown, key: string): unknown[] {
  if (Array.isArray(data)) return data;
  const inner = (data as Record<string, unknown>)[key];
  return Array.isArray(inner) ? inner : [];
}

function asArray(data: unknown): unknown[] {
  return Array.isArray(data) ? data : [data];
}

