/**
 * Internal records of the simulated company; the JSON shapes the API serves are in json.ts
 * (re-exported here). Records keep times as epoch milliseconds; render.ts turns them into the
 * documented shapes.
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

import type { CommentJson, CustomFieldJson, MessageJson, TrafficSourceJson, TunnelStatsJson } from './json.js';

export type * from './json.js';

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
