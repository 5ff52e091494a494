/** The JSON shapes the simulated API serves (render.ts builds them from model.ts's records). */
import type { Source, CustomFieldType, Currency, PaymentMethod, LeadgentoolType, MessageType, Order } from './model.js';

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

/** An order record as served, its times as ISO strings. */
export type OrderDetailJson = Pick<Order, 'id' | 'title' | 'description' | 'price' | 'currency' | 'status' | 'paymentMethod'> & { createdAt: string; updatedAt: string };

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
