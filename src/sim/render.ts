import { iso, shortIso } from './format.js';
import { extrasOf } from './lazy.js';
import type {
  AccountDetailJson,
  AccountIncludedOrderJson,
  AccountListItemJson,
  AccountRefJson,
  Channel,
  ChannelListItemJson,
  ContactJson,
  CreatedPersonJson,
  LinkJson,
  Order,
  OrderDetailJson,
  OrderListItemJson,
  Person,
  PersonDetailJson,
  PersonIncludedOrderJson,
  PersonListItemJson,
  SubscribeEntry,
  SubscribeHistoryJson,
  Tunnel,
  TunnelDetailJson,
  TunnelListItemJson,
  User,
  UserJson,
} from './model.js';
import type { World } from './world.js';

/**
 * Records → the documented JSON shapes (leeloo-api-v2.txt, leeloo-api-v1-accounts.txt). Every
 * call builds new objects, so callers may keep or change them.
 */

export interface Include {
  users: boolean;
  orders: boolean;
}

export const INCLUDE_ALL: Include = { users: true, orders: true };

/** `?include=contactedUsers,orders` (comma list; repeated parameters are merged). */
export function parseInclude(values: string[]): Include {
  const parts = new Set(values.flatMap((v) => v.split(',')).map((s) => s.trim()));
  return { users: parts.has('contactedUsers'), orders: parts.has('orders') };
}

function accountRefs(p: Person): AccountRefJson[] {
  return p.channels.map((c) => ({ account_id: c.id, connection_id: c.connectionId, connection_status: c.connectionStatus, from: c.from }));
}

/** `silent`: a person who never wrote (neverWrote knob) has no lastMessageTime. */
export function personListItem(p: Person, silent = false): PersonListItemJson {
  return { id: p.id, name: p.name, email: p.email, phone: p.phone, tags: p.tags.slice(), accounts: accountRefs(p), lastMessageTime: silent ? null : iso(p.lmt) };
}

export function subscribeJson(w: World, e: SubscribeEntry): SubscribeHistoryJson {
  const tunnel = w.tunnelsById.get(e.tunnelId);
  const lgt = w.leadgentoolsById.get(e.leadgentoolId);
  const ts = w.trafficSourcesById.get(e.trafficSourceId);
  return {
    tunnelName: tunnel?.name ?? '',
    leadgentoolName: lgt?.name ?? '',
    trafficSource: ts?.name ?? '',
    tunnelId: e.tunnelId,
    leadgentoolId: e.leadgentoolId,
    trafficSourceId: e.trafficSourceId,
    accountId: e.accountId,
  };
}

export function userJson(u: User): UserJson {
  return { id: u.id, name: u.name, createdAt: shortIso(u.createdAt), updatedAt: shortIso(u.updatedAt) };
}

function orderTime(o: Order, which: 'createdAt' | 'updatedAt'): string {
  const short = which === 'createdAt' ? o.shortCreated : o.shortUpdated;
  return short ? shortIso(o[which]) : iso(o[which]);
}

export function orderListItem(o: Order): OrderListItemJson {
  return {
    id: o.id,
    person_id: o.personId,
    title: o.title,
    price: o.price,
    currency: o.currency,
    status: o.status,
    createdAt: orderTime(o, 'createdAt'),
    updatedAt: orderTime(o, 'updatedAt'),
  };
}

export function orderDetail(o: Order): OrderDetailJson {
  return {
    id: o.id,
    createdAt: orderTime(o, 'createdAt'),
    updatedAt: orderTime(o, 'updatedAt'),
    title: o.title,
    description: o.description,
    price: o.price,
    currency: o.currency,
    status: o.status,
    paymentMethod: o.paymentMethod,
  };
}

function personIncludedOrder(o: Order): PersonIncludedOrderJson {
  return { id: o.id, title: o.title, price: o.price, currency: o.currency, status: o.status, updatedAt: orderTime(o, 'updatedAt') };
}

function accountIncludedOrder(o: Order): AccountIncludedOrderJson {
  return { price: o.price, currency: o.currency, paymentMethod: o.paymentMethod, status: o.status, updatedAt: orderTime(o, 'updatedAt') };
}

function links(p: Person, contacted: string[]): { contactedUsers: LinkJson<'users'>[]; orders: LinkJson<'orders'>[] } {
  return {
    contactedUsers: contacted.map((id) => ({ type: 'users' as const, id })),
    orders: p.orderIds.map((id) => ({ type: 'orders' as const, id })),
  };
}

function includedUsers(w: World, ids: string[]): UserJson[] {
  return ids.flatMap((id) => {
    const u = w.usersById.get(id);
    return u ? [userJson(u)] : [];
  });
}

function personOrders(w: World, p: Person): Order[] {
  return p.orderIds.flatMap((id) => {
    const o = w.order(id);
    return o ? [o] : [];
  });
}

/** How a person is reached; persons, v1 accounts and POST /people's answer carry it alike. */
function contactOf(p: Person): ContactJson {
  return { gender: p.gender, phone: p.phone, email: p.email, locale: p.locale };
}

/** `?include=contactedUsers,orders` of a person's or an account's detail; `order` renders an order as that route does. */
function includedOf<O>(w: World, p: Person, contactedUserIds: string[], include: Include, order: (o: Order) => O): { users?: UserJson[]; orders?: O[] } {
  const included: { users?: UserJson[]; orders?: O[] } = {};
  if (include.users) included.users = includedUsers(w, contactedUserIds);
  if (include.orders) included.orders = personOrders(w, p).map(order);
  return included;
}

/** GET /people/{id} and GET /communication-channels/{id}/person (without `status`). */
export function personDetail(w: World, p: Person, include: Include): PersonDetailJson {
  const x = extrasOf(w, p);
  const included = includedOf(w, p, x.contactedUserIds, include, personIncludedOrder);
  return {
    data: {
      id: p.id,
      name: p.name,
      tags: p.tags.slice(),
      profileImage: p.profileImage,
      ...contactOf(p),
      accounts: accountRefs(p),
      subscribeHistory: x.subscribeHistory.map((e) => subscribeJson(w, e)),
      links: links(p, x.contactedUserIds),
      custom_fields: x.customFields.map((f) => ({ ...f })),
      created_at: iso(p.createdAt),
      updated_at: iso(p.updatedAt),
    },
    included,
  };
}

export function channelListItem(c: Channel, silent = false): ChannelListItemJson {
  return {
    id: c.id,
    person_id: c.person.id,
    name: c.name,
    from: c.from,
    botStatus: c.botStatus,
    lastMessageTime: silent ? null : iso(c.lmt),
    createdAt: iso(c.createdAt),
    utmMarks: { ...c.utmMarks },
  };
}

/** v1 accounts are the channels, carrying the owning person's tags. */
export function accountListItem(c: Channel, silent = false): AccountListItemJson {
  return { id: c.id, name: c.name, tags: c.person.tags.slice(), from: c.from, botStatus: c.botStatus, lastMessageTime: silent ? null : iso(c.lmt), createdAt: iso(c.createdAt) };
}

/**
 * v1 GET /accounts/{id}: custom_fields is an object name → value, subscribeHistory entries carry
 * names only (and are the ones of this account), included orders have no id.
 */
export function accountDetail(w: World, c: Channel, include: Include): AccountDetailJson {
  const p = c.person;
  const x = extrasOf(w, p);
  const customFields: Record<string, string> = {};
  for (const f of x.customFields) customFields[f.name] = f.value;
  const included = includedOf(w, p, x.contactedUserIds, include, accountIncludedOrder);
  return {
    data: {
      id: c.id,
      name: c.name,
      tags: p.tags.slice(),
      from: c.from,
      botStatus: c.botStatus,
      ...contactOf(p),
      subscribeHistory: x.subscribeHistory
        .filter((e) => e.accountId === c.id)
        .map((e) => {
          const s = subscribeJson(w, e);
          return { tunnelName: s.tunnelName, leadgentoolName: s.leadgentoolName, trafficSource: s.trafficSource };
        }),
      links: links(p, x.contactedUserIds),
      custom_fields: customFields,
      createdAt: iso(c.createdAt),
      updatedAt: iso(p.updatedAt),
    },
    included,
  };
}

export function tunnelListItem(t: Tunnel): TunnelListItemJson {
  return { id: t.id, name: t.name, createdAt: shortIso(t.createdAt), updatedAt: shortIso(t.updatedAt) };
}

export function tunnelDetail(t: Tunnel): TunnelDetailJson {
  return {
    data: { ...tunnelListItem(t), links: { leadgentools: t.leadgentools.map((l) => ({ type: 'leadgentools' as const, id: l.id })) } },
    linked: { leadgentools: t.leadgentools.map((l) => ({ id: l.id, name: l.name, type: l.type })) },
  };
}

/** POST /people answers with the new MANUAL channel in this shape (docs example). */
export function createdPerson(w: World, c: Channel): CreatedPersonJson {
  const p = c.person;
  return {
    id: c.id,
    person_id: p.id,
    name: p.name,
    tags: p.tags.slice(),
    from: c.from,
    botStatus: c.botStatus,
    connectionStatus: c.connectionStatus,
    ...contactOf(p),
    subscribeHistory: extrasOf(w, p).subscribeHistory.map((e) => subscribeJson(w, e)),
    createdAt: iso(c.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}
