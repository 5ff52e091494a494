import { messageCount, messagesOf, extrasOf } from './lazy.js';
import type { TunnelStatsJson } from './model.js';
import {
  INCLUDE_ALL,
  accountDetail,
  accountListItem,
  channelListItem,
  orderDetail,
  orderListItem,
  personDetail,
  personListItem,
  tunnelDetail,
  tunnelListItem,
  userJson,
} from './render.js';
import type { SimCounts, SimStore } from './types.js';
import type { World } from './world.js';

/** GET /tunnels/stats: the docs show one entry without an id, so it is the sum over all tunnels. */
export function sumStats(list: TunnelStatsJson[]): TunnelStatsJson {
  const out: TunnelStatsJson = { subscribers: 0, uniqSubscribers: 0, orders: 0, sales: 0, uniqSales: 0, visits: 0, uniqVisits: 0, shows: 0, uniqShows: 0, totalSale: 0, totalExpenses: 0 };
  for (const s of list) for (const k of Object.keys(out) as (keyof TunnelStatsJson)[]) out[k] += s[k];
  return out;
}

export function createStore(w: World): SimStore {
  return {
    *peopleList() {
      for (const p of w.peopleByLmt.items) yield personListItem(p, w.isSilent(p));
    },
    personDetail(id) {
      const p = w.person(id);
      return p && personDetail(w, p, INCLUDE_ALL);
    },
    *channelsList() {
      for (const c of w.channelsByLmt.items) yield channelListItem(c, w.isSilentChannel(c));
    },
    chatMessages(channelId) {
      const c = w.channel(channelId);
      return c && messagesOf(w, c).map((m) => structuredClone(m)).reverse();
    },
    *ordersList() {
      for (const o of w.ordersByCreated.items) yield orderListItem(o);
    },
    orderDetail(id) {
      const o = w.order(id);
      return o && orderDetail(o);
    },
    tags: () => w.tags.map((t) => ({ ...t })),
    users: () => usersNewestFirst(w).map(userJson),
    user(id) {
      const u = w.usersById.get(id);
      return u && userJson(u);
    },
    tunnelsList: () => tunnelsNewestFirst(w).map(tunnelListItem),
    tunnelDetail(id) {
      const t = w.tunnelsById.get(id);
      return t && tunnelDetail(t);
    },
    tunnelStats(id) {
      const t = w.tunnelsById.get(id);
      return t && [{ ...t.stats }];
    },
    allTunnelStats: () => [sumStats(w.tunnels.map((t) => t.stats))],
    connections: () => w.connections.map((c) => ({ id: c.id, type: c.type, name: c.name })),
    templateCategories: () => w.categories.map((c) => ({ id: c.id, name: c.name })),
    templates(categoryId) {
      const c = w.categoriesById.get(categoryId);
      return c && c.templates.map((t) => ({ id: t.id, message_name: t.message_name }));
    },
    *accountsList() {
      for (const c of w.channelsByLmt.items) yield accountListItem(c, w.isSilentChannel(c));
    },
    accountDetail(id) {
      const c = w.channel(id);
      return c && accountDetail(w, c, INCLUDE_ALL);
    },
    counts(): SimCounts {
      let messages = 0;
      for (const c of w.channels) messages += w.isSilentChannel(c) ? 0 : messageCount(c);
      let comments = 0;
      for (const p of w.people) comments += p.extras ? p.extras.comments.length : 0;
      let leadgentools = 0;
      for (const t of w.tunnels) leadgentools += t.leadgentools.length;
      return {
        people: w.people.length,
        channels: w.channels.length,
        messages,
        orders: w.orders.length,
        users: w.users.length,
        tags: w.tags.length,
        tunnels: w.tunnels.length,
        leadgentools,
        trafficSources: w.trafficSourcesById.size,
        connections: w.connections.length,
        templateCategories: w.categories.length,
        templates: w.templatesById.size,
        comments,
      };
    },
    tagIdByName: (name) => w.tagsByName.get(name)?.id,
    comments(personId) {
      const p = w.person(personId);
      return p ? extrasOf(w, p).comments.map((c) => ({ ...c })) : [];
    },
    trafficSources(leadgentoolId) {
      return w.leadgentoolsById.get(leadgentoolId)?.trafficSources.map((t) => ({ ...t.json })) ?? [];
    },
    offers: () => w.offers.map((o) => ({ ...o })),
    paymentCredits: () => w.paymentCredits.map((p) => ({ ...p })),
    apiUserId: () => w.apiUserId,
  };
}

/** Users and tunnels are few and rarely change: sorted per request (createdAt desc, id desc). */
export function usersNewestFirst(w: World) {
  return w.users.slice().sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}

export function tunnelsNewestFirst(w: World) {
  return w.tunnels.slice().sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}
