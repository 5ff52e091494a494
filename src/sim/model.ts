/**
 * Internal records of the simulated company. Records keep times as epoch milliseconds; render.ts
 * turns them into the documented shapes (shapes.ts, re-exported here with the vocabularies).
 */
import type { CommentJson, Currency, CustomFieldJson, LeadgentoolType, MessageJson, PaymentMethod, Source, TrafficSourceJson, TunnelStatsJson } from './shapes.js';

export * from './shapes.js';


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
