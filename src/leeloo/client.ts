import type { z } from 'zod';
import { DEFAULT_MAX_RETRIES, DEFAULT_PAGE_SIZE, DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_MAX } from '../defaults.js';
import type { Env } from '../config.js';
import { ConfigError, ValidationError } from '../errors.js';
import { registerSecret, silentLogger, type Logger } from '../log.js';
import { ApiCaller, type CallOptions, type ClientEvent, type ClientStats } from './caller.js';
import { formatFilterDate, formatIsoDate, formatPaymentDate, type DateFormat } from './dates.js';
import { ENDPOINTS, totalCountOf, type AccountFilter, type ChannelFilter, type Endpoint, type Page, type PageRequest, type PeopleFilter, type PersonInclude } from './endpoints.js';
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, HttpTransport, type QueryValue } from './http.js';
import { pathSegment } from './path-ids.js';
import type { LearnedRate, RateLimitSnapshot } from './aimd.js';
import { AutoRateLimiter, TokenBucketRateLimiter, unlimited, type RateLimiter } from './rate-limit.js';
import { DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_MAX_MS } from './retry.js';
import type * as api from './schemas.js';

export type { CallOptions, ClientEvent, ClientStats } from './caller.js';
export type { AccountFilter, ChannelFilter, Page, PageRequest, PeopleFilter, PersonInclude } from './endpoints.js';

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

const PHONE = /^\+\d+$/;

type Query = readonly (readonly [string, QueryValue])[];
type ListEnvelope<T> = { data: T[]; meta?: unknown };

/**
 * Typed client for the 29 v2 and 3 v1 endpoints of the Leeloo API (the table in endpoints.ts).
 * Payloads are validated and returned exactly as received. Lists are read one page per call.
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

  async listTemplateCategories(c?: CallOptions): Promise<api.TemplateCategory[]> {
    return unwrapList((await this.send(ENDPOINTS.templateCategories, { call: c })).data, 'categories') as api.TemplateCategory[];
  }

  async listTemplates(categoryId: string, c?: CallOptions): Promise<api.MessageTemplate[]> {
    return unwrapList((await this.send(ENDPOINTS.templates, { id: categoryId, call: c })).data, 'templates') as api.MessageTemplate[];
  }

  /** id: the channel (= account) id. */
  chatMessagesPage(channelId: string, p?: PageRequest): Promise<Page<api.ChatMessage>> {
    return this.page(ENDPOINTS.chatMessages, channelId, [], p);
  }

  /** Filtered by `filter[last_message][from|to]`. */
  channelsPage(f: ChannelFilter = {}, p?: PageRequest): Promise<Page<api.Channel>> {
    const format = f.dateFormat ?? this.dateFormat;
    const filters: [string, QueryValue][] = [];
    if (f.from) filters.push(['filter[last_message][from]', formatFilterDate(f.from, format, 'from')]);
    if (f.to) filters.push(['filter[last_message][to]', formatFilterDate(f.to, format, 'to')]);
    return this.page(ENDPOINTS.channels, undefined, filters, p);
  }

  async getChannelPerson(accountId: string, c?: CallOptions): Promise<api.PersonDetail> {
    return (await this.send(ENDPOINTS.channelPerson, { id: accountId, call: c })).data;
  }

  /** No date filter is documented. */
  ordersPage(p?: PageRequest): Promise<Page<api.OrderListItem>> {
    return this.page(ENDPOINTS.orders, undefined, [], p);
  }

  async getOrder(id: string, c?: CallOptions): Promise<api.OrderDetail> {
    return (await this.send(ENDPOINTS.order, { id, call: c })).data;
  }

  /** The date window is documented as required. */
  peoplePage(f: PeopleFilter, p?: PageRequest): Promise<Page<api.PersonListItem>> {
    const format = f.dateFormat ?? this.dateFormat;
    const filters: [string, QueryValue][] = (f.tags ?? []).map((tag) => ['filter[tags]', tag]);
    filters.push(['filter[last_message][from]', formatFilterDate(f.from, format, 'from')]);
    filters.push(['filter[last_message][to]', formatFilterDate(f.to, format, 'to')]);
    if (f.phone !== undefined) filters.push(['filter[phone]', f.phone]);
    if (f.email !== undefined) filters.push(['filter[email]', f.email]);
    return this.page(ENDPOINTS.people, undefined, filters, p);
  }

  async getPerson(id: string, include: PersonInclude[] = ['contactedUsers', 'orders'], c?: CallOptions): Promise<{ person: api.PersonDetail; included: api.PersonIncluded }> {
    const env = await this.send(ENDPOINTS.person, { id, query: include.length > 0 ? [['include', include]] : [], call: c });
    return { person: env.data, included: env.included ?? {} };
  }

  async listTags(c?: CallOptions): Promise<api.Tag[]> {
    return unwrapList((await this.send(ENDPOINTS.tags, { call: c })).data, 'tags') as api.Tag[];
  }

  tunnelsPage(p?: PageRequest): Promise<Page<api.Tunnel>> {
    return this.page(ENDPOINTS.tunnels, undefined, [], p);
  }

  /** The tools come in `linked`, not `included`. */
  async getTunnel(id: string, c?: CallOptions): Promise<{ tunnel: api.Tunnel; leadgentools: api.Leadgentool[] }> {
    const env = await this.send(ENDPOINTS.tunnel, { id, query: [['include', 'leadgentools']], call: c });
    return { tunnel: env.data, leadgentools: env.linked?.leadgentools ?? env.included?.leadgentools ?? [] };
  }

  async getAllTunnelStats(c?: CallOptions): Promise<api.TunnelStats[]> {
    return asArray((await this.send(ENDPOINTS.allTunnelStats, { call: c })).data);
  }

  /** An array, as documented, even for one tunnel. */
  async getTunnelStats(id: string, c?: CallOptions): Promise<api.TunnelStats[]> {
    return asArray((await this.send(ENDPOINTS.tunnelStats, { id, call: c })).data);
  }

  usersPage(p?: PageRequest): Promise<Page<api.User>> {
    return this.page(ENDPOINTS.users, undefined, [], p);
  }

  async getUser(id: string, c?: CallOptions): Promise<api.User> {
    return (await this.send(ENDPOINTS.user, { id, call: c })).data;
  }

  async listConnections(c?: CallOptions): Promise<api.Connection[]> {
    return unwrapList((await this.send(ENDPOINTS.connections, { call: c })).data, 'connections') as api.Connection[];
  }

  // ------------------------------------------------------------------ reads (v1)

  /** `filter[tags]=a,b` */
  accountsPage(f: AccountFilter = {}, p?: PageRequest): Promise<Page<api.AccountListItem>> {
    return this.page(ENDPOINTS.accounts, undefined, f.tags && f.tags.length > 0 ? [['filter[tags]', f.tags]] : [], p);
  }

  /** custom_fields is an object here. */
  async getAccount(id: string, include: PersonInclude[] = ['contactedUsers', 'orders'], c?: CallOptions): Promise<{ account: api.AccountDetail; included: api.AccountIncluded }> {
    const env = await this.send(ENDPOINTS.account, { id, query: include.length > 0 ? [['include', include]] : [], call: c });
    return { account: env.data, included: env.included ?? {} };
  }

  accountChatMessagesPage(accountId: string, p?: PageRequest): Promise<Page<api.ChatMessage>> {
    return this.page(ENDPOINTS.accountChatMessages, accountId, [], p);
  }

  // ------------------------------------------------------------------ writes

  async sendTemplate(b: api.SendTemplateBody, c?: CallOptions): Promise<api.Ack> {
    const json: api.SendTemplateBody = { account_id: id('account_id', b.account_id), template_id: id('template_id', b.template_id) };
    if (b.variables !== undefined) json.variables = b.variables;
    return (await this.send(ENDPOINTS.sendTemplate, { body: json, call: c })).data;
  }

  async sendMessage(b: api.SendMessageBody, c?: CallOptions): Promise<api.Ack> {
    if (typeof b.text !== 'string' || b.text.length === 0) throw new ValidationError('text', 'must be a non-empty string');
    return (await this.send(ENDPOINTS.sendMessage, { body: { account_id: id('account_id', b.account_id), text: b.text }, call: c })).data;
  }

  async createTrafficSource(leadgentoolId: string, b: api.CreateTrafficSourceBody, c?: CallOptions): Promise<api.TrafficSource> {
    if (!b.name) throw new ValidationError('name', 'must not be empty');
    const json: api.CreateTrafficSourceBody = { name: b.name };
    if (b.description !== undefined) json.description = b.description;
    return (await this.send(ENDPOINTS.createTrafficSource, { id: leadgentoolId, body: json, call: c })).data;
  }

  /** A manual order. */
  async createOrder(b: api.CreateOrderBody, c?: CallOptions): Promise<api.CreatedOrder> {
    const json: Record<string, unknown> = { ...b, paymentCreditsId: id('paymentCreditsId', b.paymentCreditsId), offerId: id('offerId', b.offerId) };
    if (b.transactionDate !== undefined) json.transactionDate = formatIsoDate(b.transactionDate, 'transactionDate');
    return (await this.send(ENDPOINTS.createOrder, { body: dropUndefined(json), call: c })).data;
  }

  async updateOrder(orderId: string, f: api.UpdateOrderFields, c?: CallOptions): Promise<api.UpdatedOrder> {
    if (f.status !== 'RESOLVED' && f.status !== 'REJECTED') throw new ValidationError('status', 'must be RESOLVED or REJECTED');
    const form = {
      status: f.status,
      paymentDate: f.paymentDate === undefined ? undefined : formatPaymentDate(f.paymentDate),
      currency: f.currency,
      price: f.price === undefined ? undefined : String(f.price),
      userComments: f.userComments,
    };
    return (await this.send(ENDPOINTS.updateOrder, { id: orderId, body: form, call: c })).data;
  }

  async updatePerson(personId: string, b: api.UpdatePersonBody, c?: CallOptions): Promise<api.Ack> {
    if (b.phone !== undefined) checkPhone('phone', b.phone);
    const json = dropUndefined({ phone: b.phone, email: b.email, custom_fields: b.custom_fields });
    return (await this.send(ENDPOINTS.updatePerson, { id: personId, body: json, call: c })).data;
  }

  async createPerson(b: api.CreatePersonBody, c?: CallOptions): Promise<api.CreatedPerson> {
    if (!b.name) throw new ValidationError('name', 'must not be empty');
    if (b.phone !== undefined) checkPhone('phone', b.phone);
    const json = dropUndefined({
      name: b.name,
      email: b.email,
      phone: b.phone,
      leadgentool_id: id('leadgentool_id', b.leadgentool_id),
      connected_users_ids: b.connected_users_ids,
    });
    return (await this.send(ENDPOINTS.createPerson, { body: json, call: c })).data;
  }

  async addSmsConnection(b: api.AddSmsConnectionBody, c?: CallOptions): Promise<api.SmsConnectionResult> {
    if (!Array.isArray(b.data) || b.data.length === 0) throw new ValidationError('data', 'must list at least one person');
    b.data.forEach((p, i) => {
      if (!p.phone) throw new ValidationError(`data[${i}].phone`, 'is required');
    });
    const json = dropUndefined({ data: b.data, connection_id: id('connection_id', b.connection_id), leadgentool_id: id('leadgentool_id', b.leadgentool_id), tags: b.tags });
    return (await this.send(ENDPOINTS.addSmsConnection, { body: json, call: c })).data;
  }

  async addComment(personId: string, comment: string, c?: CallOptions): Promise<api.Comment> {
    if (typeof comment !== 'string' || comment.length === 0) throw new ValidationError('comment', 'must be a non-empty string');
    return (await this.send(ENDPOINTS.addComment, { id: personId, body: { comment }, call: c })).data;
  }

  async removeTag(personId: string, tagId: string, c?: CallOptions): Promise<api.Ack> {
    return (await this.send(ENDPOINTS.removeTag, { id: personId, body: { tag_id: id('tag_id', tagId) }, call: c })).data;
  }

  async addTag(personId: string, tagId: string, c?: CallOptions): Promise<api.Ack> {
    return (await this.send(ENDPOINTS.addTag, { id: personId, body: { tag_id: id('tag_id', tagId) }, call: c })).data;
  }

  async manualSubscribe(accountId: string, f: api.ManualSubscribeFields, c?: CallOptions): Promise<api.Ack> {
    const form = { tunnel_id: id('tunnel_id', f.tunnel_id), tunnel_block_id: id('tunnel_block_id', f.tunnel_block_id) };
    return (await this.send(ENDPOINTS.manualSubscribe, { id: accountId, body: form, call: c })).data;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  // ------------------------------------------------------------------ internals

  /** One call of a table row: the path id checked and filled, the body encoded as the row says. */
  private send<S extends z.ZodType>(e: Endpoint<S>, r: { id?: string; query?: Query; body?: object; call?: CallOptions }): Promise<z.infer<S>> {
    const path = e.id === undefined ? e.route : e.route.replace(':id', pathSegment(e.id, r.id));
    const body = e.body === 'form' ? { form: r.body as Record<string, string | undefined> } : { json: r.body };
    return this.caller.call({ method: e.method, route: e.route, path, query: r.query, ...body, schema: e.schema, idempotent: e.idempotent, call: r.call });
  }

  private async page<T>(e: Endpoint, pathId: string | undefined, filters: Query, p: PageRequest = {}): Promise<Page<T>> {
    const offset = Math.max(0, Math.floor(p.offset ?? 0));
    const limit = Math.max(1, Math.floor(p.limit ?? this.pageSize));
    const query: Query = [['limit', limit], ['offset', offset], ...filters];
    const env = (await this.send(e, { id: pathId, query, call: { signal: p.signal } })) as ListEnvelope<T>;
    return { items: env.data, offset, nextOffset: offset + env.data.length, totalCount: totalCountOf(env.meta) };
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

function asArray<T>(data: T | T[]): T[] {
  return Array.isArray(data) ? data : [data];
}

