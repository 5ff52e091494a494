/**
 * What the simulated API serves: its vocabularies and the JSON shapes of its answers, as the
 * vendor documentation shows them (docs/leeloo-api.md). render.ts builds these from the records
 * of model.ts.
 */

export const SOURCES = ['TELEGRAM', 'FACEBOOK', 'VIBER', 'INSTAGRAM', 'WHATSAPP', 'VKONTAKTE', 'SMS', 'MANUAL'] as const;
export type Source = (typeof SOURCES)[number];

export const CUSTOM_FIELD_TYPES = ['EMAIL', 'PHONE', 'DATE', 'KEYWORD', 'NUMBER'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export const CURRENCIES = ['USD', 'EUR', 'UAH', 'RUB'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const PAYMENT_METHODS = ['WAYFORPAY', 'YANDEX_MONEY', 'ASSET_PAYMENT', 'MANUAL'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** Statuses of orders paid through a payment system (GET /orders/{id} example comment). */
export const PAYMENT_STATUSES = ['ORDER', 'PENDING', 'FAILED', 'SUCCESS', 'REFUNDED'] as const;
/** Statuses of manual orders: created OPENED (POST /orders example), closed RESOLVED or REJECTED (POST /orders/{id}). */
export const MANUAL_STATUSES = ['OPENED', 'RESOLVED', 'REJECTED'] as const;

export const LEADGENTOOL_TYPES = ['LINK', 'QR', 'WIDGET', 'POPUP', 'FORM', 'FB_AD', 'DEFAULT'] as const;
export type LeadgentoolType = (typeof LEADGENTOOL_TYPES)[number];

export const MESSAGE_TYPES = ['FRIEND_MESSAGE', 'BOT_MESSAGE', 'YOUR_MESSAGE', 'SYSTEM_MESSAGE'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];


// Type aliases, not interfaces: aliases are assignable to Record<string, unknown>, which tests use.

/** Most objects: an id and a name. */
type IdName = {
  id: string;
  name: string;
};

/** camelCase timestamps, as list items and most objects carry them. */
type Stamped = {
  createdAt: string;
  updatedAt: string;
};

/** How a person is reached, as persons, accounts and POST /people's answer carry it. */
export type ContactJson = {
  gender: string;
  phone: string;
  email: string;
  locale: string;
};

/** A channel (v1: account) as lists show it. */
type ChannelCoreJson = IdName & {
  from: Source;
  botStatus: 'BOT' | 'ADMIN';
};

/** What every order shape shares (list item, detail, POST /orders' answer). */
type OrderCoreJson = Stamped & {
  id: string;
  title: string;
  price: number;
  currency: Currency;
  status: string;
};

export type ListMeta = {
  limit: number;
  offset: number;
  filteredCount: number;
  totalCount: number;
};

export type AccountRefJson = {
  account_id: string;
  connection_id: string;
  connection_status: string;
  from: Source;
};

export type PersonListItemJson = IdName & {
  email: string;
  phone: string;
  tags: string[];
  accounts: AccountRefJson[];
  lastMessageTime: string | null;
};

export type SubscribeHistoryJson = {
  tunnelName: string;
  leadgentoolName: string;
  trafficSource: string;
  tunnelId: string;
  leadgentoolId: string;
  trafficSourceId: string;
  accountId: string;
};

export type CustomFieldJson = {
  type: CustomFieldType;
  name: string;
  value: string;
};

export type LinkJson<T extends string> = {
  type: T;
  id: string;
};

export type UserJson = IdName & Stamped;

export type PersonIncludedOrderJson = {
  id: string;
  title: string;
  price: number;
  currency: Currency;
  status: string;
  updatedAt: string;
};

export type PersonDetailDataJson = IdName &
  ContactJson & {
  tags: string[];
  profileImage: string;
  accounts: AccountRefJson[];
  subscribeHistory: SubscribeHistoryJson[];
  links: { contactedUsers: LinkJson<'users'>[]; orders: LinkJson<'orders'>[] };
  custom_fields: CustomFieldJson[];
  created_at: string;
  updated_at: string;
};

export type PersonDetailJson = {
  data: PersonDetailDataJson;
  included: { users?: UserJson[]; orders?: PersonIncludedOrderJson[] };
};

export type ChannelListItemJson = ChannelCoreJson & {
  person_id: string;
  lastMessageTime: string | null;
  createdAt: string;
  utmMarks: Record<string, string>;
};

export type MessageJson = Stamped & {
  id: string;
  text: string;
  type: MessageType;
  read: boolean;
  links?: { createdBy: LinkJson<'users'> };
};

export type OrderListItemJson = OrderCoreJson & {
  person_id: string;
};

export type OrderDetailJson = OrderCoreJson & {
  description: string;
  paymentMethod: PaymentMethod;
};

export type TagJson = IdName;

export type TunnelListItemJson = IdName & Stamped;

export type LeadgentoolJson = IdName & {
  type: LeadgentoolType;
};

export type TunnelDetailJson = {
  data: TunnelListItemJson & { links: { leadgentools: LinkJson<'leadgentools'>[] } };
  linked: { leadgentools: LeadgentoolJson[] };
};

export type TunnelStatsJson = {
  subscribers: number;
  uniqSubscribers: number;
  orders: number;
  sales: number;
  uniqSales: number;
  visits: number;
  uniqVisits: number;
  shows: number;
  uniqShows: number;
  totalSale: number;
  totalExpenses: number;
};

export type ConnectionJson = IdName & {
  type: string;
};

export type TemplateCategoryJson = IdName;

export type TemplateJson = {
  id: string;
  message_name: string;
};

export type AccountListItemJson = ChannelCoreJson & {
  tags: string[];
  lastMessageTime: string | null;
  createdAt: string;
};

/** v1 included orders carry no id (leeloo-api-v1-accounts.txt, account detail example). */
export type AccountIncludedOrderJson = {
  price: number;
  currency: Currency;
  paymentMethod: PaymentMethod;
  status: string;
  updatedAt: string;
};

export type AccountDetailJson = {
  data: ChannelCoreJson &
    ContactJson &
    Stamped & {
      tags: string[];
      subscribeHistory: { tunnelName: string; leadgentoolName: string; trafficSource: string }[];
      links: { contactedUsers: LinkJson<'users'>[]; orders: LinkJson<'orders'>[] };
      custom_fields: Record<string, string>;
    };
  included: { users?: UserJson[]; orders?: AccountIncludedOrderJson[] };
};

export type CommentJson = {
  created_by: string;
  company_id: string;
  text: string;
  entity_id: string;
  entity_type: 'PERSON';
  created_at: string;
  updated_at: string;
  id: string;
};

export type TrafficSourceJson = Stamped & {
  type: string;
  fb_adset_id: string | null;
  name: string;
  description: string;
  synchronized_with_fb: boolean;
  synchronization_error: boolean;
  disabled: boolean;
  company_id: string;
  leadgentool_id: string;
  tunnel_id: string;
  created_by: string;
  hash: string;
  resubscribe_button_id: string;
  id: string;
};

/** POST /people answers with the new channel seen through a person-like shape. */
export type CreatedPersonJson = ChannelCoreJson &
  ContactJson &
  Stamped & {
    person_id: string;
    tags: string[];
    connectionStatus: string;
    subscribeHistory: SubscribeHistoryJson[];
  };

export type CreatedOrderJson = OrderCoreJson;
