/**
 * Internal records of the simulated company and the JSON shapes the API serves. Records keep
 * times as epoch milliseconds; render.ts turns them into the documented shapes.
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

// ---------------------------------------------------------------- API JSON shapes
// Type aliases, not interfaces: aliases are assignable to Record<string, unknown>, which tests use.

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

export type PersonListItemJson = {
  id: string;
  name: string;
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

export type UserJson = {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
};

export type PersonIncludedOrderJson = {
  id: string;
  title: string;
  price: number;
  currency: Currency;
  status: string;
  updatedAt: string;
};

export type PersonDetailDataJson = {
  id: string;
  name: string;
  tags: string[];
  profileImage: string;
  gender: string;
  phone: string;
  email: string;
  locale: string;
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

export type ChannelListItemJson = {
  id: string;
  person_id: string;
  name: string;
  from: Source;
  botStatus: 'BOT' | 'ADMIN';
  lastMessageTime: string | null;
  createdAt: string;
  utmMarks: Record<string, string>;
};

export type MessageJson = {
  id: string;
  text: string;
  type: MessageType;
  read: boolean;
  createdAt: string;
  updatedAt: string;
  links?: { createdBy: LinkJson<'users'> };
};

export type OrderListItemJson = {
  id: string;
  person_id: string;
  title: string;
  price: number;
  currency: Currency;
  status: string;
  createdAt: string;
  updatedAt: string;
};

export type OrderDetailJson = {
  id: string;
  createdAt: string;
  updatedAt: string;
  title: string;
  description: string;
  price: number;
  currency: Currency;
  status: string;
  paymentMethod: PaymentMethod;
};

export type TagJson = {
  id: string;
  name: string;
};

export type TunnelListItemJson = {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
};

export type LeadgentoolJson = {
  id: string;
  name: string;
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

export type ConnectionJson = {
  id: string;
  type: string;
  name: string;
};

export type TemplateCategoryJson = {
  id: string;
  name: string;
};

export type TemplateJson = {
  id: string;
  message_name: string;
};

export type AccountListItemJson = {
  id: string;
  name: string;
  tags: string[];
  from: Source;
  botStatus: 'BOT' | 'ADMIN';
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
  data: {
    id: string;
    name: string;
    tags: string[];
    from: Source;
    botStatus: 'BOT' | 'ADMIN';
    gender: string;
    phone: string;
    email: string;
    locale: string;
    subscribeHistory: { tunnelName: string; leadgentoolName: string; trafficSource: string }[];
    links: { contactedUsers: LinkJson<'users'>[]; orders: LinkJson<'orders'>[] };
    custom_fields: Record<string, string>;
    createdAt: string;
    updatedAt: string;
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

export type TrafficSourceJson = {
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
  createdAt: string;
  updatedAt: string;
  id: string;
};

/** POST /people answers with the new channel seen through a person-like shape. */
export type CreatedPersonJson = {
  id: string;
  person_id: string;
  name: string;
  tags: string[];
  from: Source;
  botStatus: 'BOT' | 'ADMIN';
  connectionStatus: string;
  gender: string;
  phone: string;
  email: string;
  locale: string;
  subscribeHistory: SubscribeHistoryJson[];
  createdAt: string;
  updatedAt: string;
};

export type CreatedOrderJson = {
  id: string;
  title: string;
  price: number;
  currency: Currency;
  status: string;
  createdAt: string;
  updatedAt: string;
};

// ---------------------------------------------------------------- internal records

export interface SubscribeEntry {
  tunnelId: string;
  leadgentoolId: string;
  trafficSourceId: string;
  accountId: string;
}

/** The parts of a person that only the detail endpoint shows; generated on demand until written. */
export interface PersonExtras {
  subscribeHistory: SubscribeEntry[];
  customFields: CustomFieldJson[];
  contactedUserIds: string[];
  comments: CommentJson[];
}

export interface Person {
  idx: number;
  id: string;
  name: string;
  email: string;
  phone: string;
  profileImage: string;
  gender: string;
  locale: string;
  /** Tag names, as the person objects carry them. */
  tags: string[];
  channels: Channel[];
  orderIds: string[];
  createdAt: number;
  updatedAt: number;
  /** Max of the channels' lastMessageTime. */
  lmt: number;
  extras: PersonExtras | null;
  /** Deleted (tricks.ts): out of the lists, 404 on the detail; its orders stay. */
  deleted?: boolean;
}

export interface Channel {
  idx: number;
  id: string;
  person: Person;
  name: string;
  from: Source;
  botStatus: 'BOT' | 'ADMIN';
  connectionId: string;
  connectionStatus: string;
  createdAt: number;
  lmt: number;
  /** lastMessageTime when the channel was generated: the end of its generated history. */
  genLmt: number;
  /** Messages in the generated history. */
  genCount: number;
  utmMarks: Record<string, string>;
  /** The whole history, oldest first, once something was written to it; null while generated. */
  messages: MessageJson[] | null;
  /** Deleted with its person: out of the lists, 404 on its history. */
  deleted?: boolean;
}

export interface Order {
  idx: number;
  id: string;
  personId: string;
  title: string;
  description: string;
  price: number;
  currency: Currency;
  status: string;
  paymentMethod: PaymentMethod;
  createdAt: number;
  updatedAt: number;
  /** Legacy orders carry minute-precision timestamps (see format.ts shortIso). */
  shortCreated: boolean;
  shortUpdated: boolean;
  paymentDate: string | null;
  userComments: string | null;
}

export interface User {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface TrafficSource {
  id: string;
  name: string;
  json: TrafficSourceJson;
}

export interface Leadgentool {
  id: string;
  name: string;
  type: LeadgentoolType;
  tunnelId: string;
  trafficSources: TrafficSource[];
}

export interface Tunnel {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  leadgentools: Leadgentool[];
  stats: TunnelStatsJson;
}

export interface Connection {
  id: string;
  type: string;
  name: string;
  source: Source;
}

export interface Template {
  id: string;
  message_name: string;
  text: string;
}

export interface TemplateCategory {
  id: string;
  name: string;
  templates: Template[];
}

/** Offers and payment systems are not listable through the API; POST /orders takes their ids. */
export interface Offer {
  id: string;
  name: string;
  description: string;
  price: number;
  currency: Currency;
}

export interface PaymentCredit {
  id: string;
  name: string;
}
