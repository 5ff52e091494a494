import type {
  AccountDetailJson,
  AccountListItemJson,
  ChannelListItemJson,
  CommentJson,
  ConnectionJson,
  MessageJson,
  Offer,
  OrderDetailJson,
  OrderListItemJson,
  PaymentCredit,
  PersonDetailJson,
  PersonListItemJson,
  TagJson,
  TemplateCategoryJson,
  TemplateJson,
  TrafficSourceJson,
  TunnelDetailJson,
  TunnelListItemJson,
  TunnelStatsJson,
  UserJson,
} from './model.js';

export type FaultKind = '5xx' | '429' | 'truncated' | 'drop' | 'slow';
export const FAULT_KINDS: readonly FaultKind[] = ['5xx', '429', 'truncated', 'drop', 'slow'];

export interface SimKnobs {
  /** Max items per page, whatever `limit` asks; null = no cap. */
  pageCap: number | null;
  /** Added to every API answer. */
  latencyMs: number;
  /** Probability (0..1) that a request gets one of `faultKinds`. */
  faultRate: number;
  faultKinds: FaultKind[];
  /** Delay of the 'slow' fault. */
  slowMs: number;
  /** Retry-After of the '429' fault. */
  retryAfterSeconds: number;
  /** Server-side limit (requests) over a sliding 1 s window; null = none. */
  rateLimitRps: number | null;
  /** Order of chat messages: newest first (as every documented example) or oldest first. */
  messagesOrder: 'newest' | 'oldest';
  /** Random activity events applied on each list request; a fraction is a probability. */
  activityPerListRequest: number;
  /**
   * How `filter[last_message]` is read: `exact` (full datetimes, both bounds inclusive), `day`
   * (only the date part; `to` through the end of its day), `day-start` (only the date part, both
   * bounds at 00:00 of their date: `to=2026-12-01` excludes all of Dec 1), `ignored` (no filter).
   */
  datePrecision: DatePrecision;
  /**
   * Share (0..1) of people whose channels never got a message: lastMessageTime null, so no
   * `last_message` window lists them; v1 GET /accounts and the detail routes still do. Until
   * something writes a message to one of their channels.
   */
  neverWrote: number;
  /** Claimed `meta.totalCount` of every v2/v1 list answer, whatever it holds; null = the truth. */
  claimTotalCount: number | null;
  /**
   * A broken detail route: the share (0..1) of GET /people/{id} and chat-history requests that
   * answer 404 NOT_FOUND although the record exists.
   */
  notFoundRate: number;
}

export type SilentEditKind = 'tag' | 'email' | 'customField';

export interface SilentEditRequest {
  /** Share (0..1) of the live people that get one edit each. */
  share?: number;
  /** Taken in turn; default all: a tag added or removed, the email changed, a custom field set. */
  kinds?: SilentEditKind[];
}

/** Ids of the people edited, by kind. */
export type SilentEditReport = Record<SilentEditKind, string[]>;

export interface DeleteRequest {
  /** Share (0..1) of the live people, chosen at random. */
  share?: number;
  /** Or exactly these people. */
  ids?: string[];
}

export interface DeleteReport {
  personIds: string[];
  channelIds: string[];
}

export interface NulStringsRequest {
  /** Share (0..1) of the live people whose strings get a U+0000. */
  share: number;
}

/** What got a U+0000: the people (name, a custom field value), one message text of each that has one, one of their tags' names (null when they have none), the first tunnel's name. */
export interface NulStringsReport {
  personIds: string[];
  messageIds: string[];
  tag: string | null;
  tunnelId: string | null;
}

export type DatePrecision = 'exact' | 'day' | 'day-start' | 'ignored';
export const DATE_PRECISIONS: readonly DatePrecision[] = ['exact', 'day', 'day-start', 'ignored'];

/** What startSimulator and `leeloo-sync sim` use for an option not given. */
export const SIM_DEFAULTS = { seed: 42, people: 200, token: 'sim-token', host: '127.0.0.1', port: 0 } as const;

export interface SimOptions {
  /** Seed of the generated company. @defaultValue {@link SIM_DEFAULTS}.seed (42) */
  seed?: number;
  /** People in the company. @defaultValue {@link SIM_DEFAULTS}.people (200) */
  people?: number;
  /** The simulated present. @defaultValue the current time */
  now?: Date;
  /** The X-Leeloo-AuthToken clients must send. @defaultValue {@link SIM_DEFAULTS}.token ('sim-token') */
  token?: string;
  /** @defaultValue {@link SIM_DEFAULTS}.host (127.0.0.1) */
  host?: string;
  /** 0 picks a free port. @defaultValue {@link SIM_DEFAULTS}.port (0) */
  port?: number;
  /** @defaultValue DEFAULT_KNOBS (src/sim/knobs.ts) */
  knobs?: Partial<SimKnobs>;
}

export interface ActivityRequest {
  messages?: number;
  newPeople?: number;
  orderChanges?: number;
  newOrders?: number;
}

export interface ActivityReport {
  messagedChannelIds: string[];
  newPersonIds: string[];
  changedOrderIds: string[];
  newOrderIds: string[];
}

export interface WriteLogEntry {
  seq: number;
  method: string;
  /** Route template, e.g. `/api/v2/people/:id/add-tag`. */
  route: string;
  /** Path ids by name (`id`). */
  params: Record<string, string>;
  /** The parsed body (JSON, or form fields as strings). */
  body: unknown;
  /** When the write was applied (ISO). */
  at: string;
  /** Set when the client did not get a clean answer although the write was applied ('drop', '5xx', 'truncated'). */
  fault?: FaultKind;
}

export interface SimCounts {
  people: number;
  channels: number;
  /** Computed from the channels: generated histories are not materialised to count them. */
  messages: number;
  orders: number;
  users: number;
  tags: number;
  tunnels: number;
  leadgentools: number;
  trafficSources: number;
  connections: number;
  templateCategories: number;
  templates: number;
  comments: number;
}

/**
 * Read access to the simulated company as the API serves it: every object is a fresh copy in the
 * documented JSON shape, lists in the order the API lists them (newest first).
 */
export interface SimStore {
  /** GET /people items, all of them (no window), newest lastMessageTime first. */
  peopleList(): Generator<PersonListItemJson>;
  /** GET /people/{id}?include=contactedUsers,orders without `status`. */
  personDetail(id: string): PersonDetailJson | undefined;
  channelsList(): Generator<ChannelListItemJson>;
  /** The whole chat of a channel, newest first (whatever the messagesOrder knob says). */
  chatMessages(channelId: string): MessageJson[] | undefined;
  ordersList(): Generator<OrderListItemJson>;
  orderDetail(id: string): OrderDetailJson | undefined;
  tags(): TagJson[];
  users(): UserJson[];
  user(id: string): UserJson | undefined;
  tunnelsList(): TunnelListItemJson[];
  /** GET /tunnels/{id}?include=leadgentools without `status`: {data, linked}. */
  tunnelDetail(id: string): TunnelDetailJson | undefined;
  /** GET /tunnels/{id}/stats `data`. */
  tunnelStats(id: string): TunnelStatsJson[] | undefined;
  /** GET /tunnels/stats `data`. */
  allTunnelStats(): TunnelStatsJson[];
  connections(): ConnectionJson[];
  templateCategories(): TemplateCategoryJson[];
  templates(categoryId: string): TemplateJson[] | undefined;
  /** v1 GET /accounts items, newest lastMessageTime first. */
  accountsList(): Generator<AccountListItemJson>;
  /** v1 GET /accounts/{id}?include=contactedUsers,orders without `status`. */
  accountDetail(id: string): AccountDetailJson | undefined;
  counts(): SimCounts;
  tagIdByName(name: string): string | undefined;
  /** Not readable through the API: comments stored by add-comment, oldest first. */
  comments(personId: string): CommentJson[];
  /** Not listable through the API: a leadgentool's traffic sources (POST create-traffic-source adds one). */
  trafficSources(leadgentoolId: string): TrafficSourceJson[];
  /** Not listable through the API: the offers POST /orders accepts as offerId. */
  offers(): Offer[];
  /** Not listable through the API: the payment systems POST /orders accepts as paymentCreditsId. */
  paymentCredits(): PaymentCredit[];
  /** The user the token belongs to: author of sent messages, comments and traffic sources. */
  apiUserId(): string;
}

export interface Simulator {
  /** e.g. http://127.0.0.1:PORT — clients append /api/v2/... and /api/v1/... */
  url: string;
  token: string;
  knobs: SimKnobs;
  setKnobs(k: Partial<SimKnobs>): void;
  store: SimStore;
  activity(a: ActivityRequest): ActivityReport;
  /** Edits that send no message (lastMessageTime stays): see SilentEditRequest. */
  silentEdits(r: SilentEditRequest): SilentEditReport;
  /** People deleted in Leeloo: gone from lists, 404 on detail and chat history, orders kept. */
  deletePeople(r: DeleteRequest): DeleteReport;
  /** Deleted people back as they were. */
  restorePeople(ids: string[]): DeleteReport;
  /** U+0000 in API strings (names, custom field values, message texts, a tag name): see NulStringsRequest. */
  nulStrings(r: NulStringsRequest): NulStringsReport;
  requestCounts(): Record<string, number>;
  rateLimitedCount(): number;
  resetCounts(): void;
  writeLog(): WriteLogEntry[];
  close(): Promise<void>;
}
