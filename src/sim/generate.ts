import { DAY, MINUTE, flat } from './format.js';
import { KIND, objectId } from './ids.js';
import {
  CURRENCIES,
  LEADGENTOOL_TYPES,
  MANUAL_STATUSES,
  PAYMENT_STATUSES,
  SOURCES,
  type Channel,
  type Currency,
  type Leadgentool,
  type Order,
  type PaymentMethod,
  type Person,
  type Source,
  type TrafficSource,
  type Tunnel,
  type TunnelStatsJson,
} from './model.js';
import { STREAM, rngFor, type Rng } from './random.js';
import {
  CATEGORY_NAMES,
  CONNECTIONS,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  GENDERS,
  LAST_NAMES,
  LEADGENTOOL_NAMES,
  LOCALES,
  NAME_DECORATIONS,
  OFFER_NAMES,
  PAYMENT_CREDIT_NAMES,
  PHONE_PREFIXES,
  TAG_NAMES,
  TEMPLATE_NAMES,
  TEMPLATE_TEXTS,
  TUNNEL_NAMES,
  USER_NAMES,
  UTM_CAMPAIGNS,
  UTM_MEDIUMS,
  UTM_SOURCES,
  asciiSlug,
} from './vocab.js';
import { World } from './world.js';

const YEAR = 365 * DAY;
const SOURCE_WEIGHTS: Record<Source, number> = {
  TELEGRAM: 30,
  FACEBOOK: 20,
  VIBER: 12,
  INSTAGRAM: 12,
  WHATSAPP: 10,
  VKONTAKTE: 6,
  SMS: 5,
  MANUAL: 5,
};
const EMPTY_UTM: Record<string, string> = Object.freeze({}) as Record<string, string>;
const TRAFFIC_SOURCE_NAMES = ['Instagram bio', 'Telegram post', 'Email footer', 'Партнёр А', 'QR on the box'];

function roundMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

function between(rng: Rng, from: number, to: number): number {
  return to <= from ? from : Math.floor(from + rng.next() * (to - from));
}

/**
 * Builds the company for (seed, people, now). Everything is drawn from the world stream in a
 * fixed order, so the same arguments always give the same company; the parts only the detail
 * endpoints show (and chat histories) are drawn later, on demand, from streams of their own.
 */
export function generateWorld(seed: number, peopleCount: number, now: number): World {
  const w = new World(seed, now);
  const rng = rngFor(seed, STREAM.world);
  const end = now - MINUTE;
  const start = end - 3 * YEAR;
  const setup = start - 60 * DAY;
  w.companyId = objectId(setup, KIND.company, 0);

  for (let i = 0; i < 10; i++) {
    const createdAt = roundMinute(i === 0 ? setup : between(rng, setup, end - 30 * DAY));
    const user = {
      id: objectId(createdAt, KIND.user, w.allocate(KIND.user)),
      name: USER_NAMES[i % USER_NAMES.length] as string,
      createdAt,
      updatedAt: roundMinute(between(rng, createdAt, end)),
    };
    w.users.push(user);
    w.usersById.set(user.id, user);
  }
  w.apiUserId = (w.users[0] as { id: string }).id;

  for (const c of CONNECTIONS) {
    const conn = { id: objectId(between(rng, setup, start), KIND.connection, w.allocate(KIND.connection)), type: c.type, name: c.name, source: c.source };
    w.connections.push(conn);
    w.connectionsById.set(conn.id, conn);
    w.connectionBySource.set(conn.source, conn);
  }

  for (const name of TAG_NAMES) {
    const tag = { id: objectId(between(rng, setup, end), KIND.tag, w.allocate(KIND.tag)), name };
    w.tags.push(tag);
    w.tagsById.set(tag.id, tag);
    w.tagsByName.set(tag.name, tag);
  }

  for (let i = 0; i < 8; i++) generateTunnel(w, rng, i, i === 0 ? setup : between(rng, setup, end - 90 * DAY), end);

  for (let i = 0; i < 3; i++) {
    const t = between(rng, setup, end);
    const cat = { id: objectId(t, KIND.category, w.allocate(KIND.category)), name: CATEGORY_NAMES[i] as string, templates: [] as { id: string; message_name: string; text: string }[] };
    const n = rng.int(2, 6);
    for (let k = 0; k < n; k++) {
      const tpl = {
        id: objectId(between(rng, t, end), KIND.template, w.allocate(KIND.template)),
        message_name: `${rng.pick(TEMPLATE_NAMES)}${k > 0 && rng.chance(0.3) ? ` (${k + 1})` : ''}`,
        text: rng.pick(TEMPLATE_TEXTS),
      };
      cat.templates.push(tpl);
      w.templatesById.set(tpl.id, tpl);
    }
    w.categories.push(cat);
    w.categoriesById.set(cat.id, cat);
  }

  for (const name of OFFER_NAMES) {
    const offer = {
      id: objectId(between(rng, setup, start), KIND.offer, w.allocate(KIND.offer)),
      name,
      description: `${name}: ${rng.pick(['access for a year', 'одна консультація', 'PDF + видео', 'Оплата частинами неможлива'])}`,
      price: rng.pick([100, 200, 250, 990, 1500, 49.99, 12.5]),
      currency: rng.pick(CURRENCIES),
    };
    w.offers.push(offer);
    w.offersById.set(offer.id, offer);
  }
  for (const name of PAYMENT_CREDIT_NAMES) {
    const pc = { id: objectId(between(rng, setup, start), KIND.paymentCredit, w.allocate(KIND.paymentCredit)), name };
    w.paymentCredits.push(pc);
    w.paymentCreditsById.set(pc.id, pc);
  }

  for (let i = 0; i < peopleCount; i++) {
    const createdAt = between(rng, start, end);
    const p = createPerson(w, rng, createdAt, end, false);
    const nOrders = rng.weighted([60, 30, 7, 3]);
    for (let k = 0; k < nOrders; k++) createOrder(w, rng, p, between(rng, p.createdAt, end), end, null, false);
    if (nOrders > 0) p.orderIds = p.orderIds.slice();
  }
  w.peopleByLmt.bulkLoad(w.people);
  w.channelsByLmt.bulkLoad(w.channels);
  w.ordersByCreated.bulkLoad(w.orders);
  return w;
}

function generateTunnel(w: World, rng: Rng, i: number, t: number, end: number): void {
  const createdAt = roundMinute(t);
  const id = objectId(createdAt, KIND.tunnel, w.allocate(KIND.tunnel));
  const subscribers = rng.int(20, 5000);
  const visits = rng.int(subscribers, subscribers * 4);
  const shows = rng.int(visits, visits * 3);
  const orders = rng.int(0, Math.floor(subscribers / 5));
  const sales = rng.int(0, orders);
  const totalSale = sales * rng.int(10, 200);
  const stats: TunnelStatsJson = {
    subscribers,
    uniqSubscribers: rng.int(Math.floor(subscribers / 2), subscribers),
    orders,
    sales,
    uniqSales: rng.int(0, sales),
    visits,
    uniqVisits: rng.int(Math.floor(visits * 0.4), visits),
    shows,
    uniqShows: rng.int(Math.floor(shows * 0.3), shows),
    totalSale,
    totalExpenses: rng.int(0, totalSale + 500),
  };
  const tunnel: Tunnel = {
    id,
    name: TUNNEL_NAMES[i % TUNNEL_NAMES.length] as string,
    createdAt,
    updatedAt: roundMinute(between(rng, createdAt, end)),
    leadgentools: [],
    stats,
  };
  const n = i === 0 ? 1 : rng.int(1, 4);
  for (let k = 0; k < n; k++) {
    const type = i === 0 ? 'DEFAULT' : rng.pick(LEADGENTOOL_TYPES.filter((x) => x !== 'DEFAULT'));
    const lgtTime = between(rng, createdAt, end);
    const lgt: Leadgentool = {
      id: objectId(lgtTime, KIND.leadgentool, w.allocate(KIND.leadgentool)),
      name: i === 0 ? 'Default leadgentool' : `${rng.pick(LEADGENTOOL_NAMES)}${rng.chance(0.3) ? ` ${k + 1}` : ''}`,
      type,
      tunnelId: id,
      trafficSources: [],
    };
    const extra = rng.weighted([50, 35, 15]);
    for (let s = 0; s <= extra; s++) {
      addTrafficSource(w, rng, lgt, s === 0 ? 'Default traffic source' : rng.pick(TRAFFIC_SOURCE_NAMES), '', between(rng, lgtTime, end));
    }
    tunnel.leadgentools.push(lgt);
    w.leadgentoolsById.set(lgt.id, lgt);
  }
  w.tunnels.push(tunnel);
  w.tunnelsById.set(id, tunnel);
}

/** Also used by POST /leadgentools/{id}/create-traffic-source; the shape is that endpoint's example. */
export function addTrafficSource(w: World, rng: Rng, lgt: Leadgentool, name: string, description: string, t: number): TrafficSource {
  const id = objectId(t, KIND.trafficSource, w.allocate(KIND.trafficSource));
  const at = new Date(t).toISOString();
  const ts: TrafficSource = {
    id,
    name,
    json: {
      type: 'normal',
      fb_adset_id: null,
      name,
      description,
      synchronized_with_fb: false,
      synchronization_error: false,
      disabled: false,
      company_id: w.companyId,
      leadgentool_id: lgt.id,
      tunnel_id: lgt.tunnelId,
      created_by: w.apiUserId,
      hash: rng.base36(6),
      resubscribe_button_id: objectId(t, KIND.button, w.allocate(KIND.button)),
      createdAt: at,
      updatedAt: at,
      id,
    },
  };
  lgt.trafficSources.push(ts);
  w.trafficSourcesById.set(id, ts);
  return ts;
}

function pickSources(rng: Rng, n: number): Source[] {
  const pool = SOURCES.slice();
  const out: Source[] = [];
  while (out.length < n && pool.length > 0) {
    const i = rng.weighted(pool.map((s) => SOURCE_WEIGHTS[s]));
    out.push(pool[i] as Source);
    pool.splice(i, 1);
  }
  return out;
}

/** A person's display name: first and last name, sometimes decorated. */
export function personName(rng: Rng): { name: string; first: string; last: string } {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  return { name: flat(`${first} ${last}${rng.pick(NAME_DECORATIONS)}`), first, last };
}

/** Unique per index (7919 is coprime with 10, so the suffix is a bijection below 10^7). */
function phoneFor(rng: Rng, idx: number): string {
  return rng.pick(PHONE_PREFIXES) + String((idx * 7919 + 1234567) % 10_000_000).padStart(7, '0');
}

/**
 * A person with 1–3 channels. Seeded people (fresh = false) spread their channels and last
 * messages between createdAt and `end`; fresh ones (activity) have everything at `createdAt`.
 * Pushes to the world's arrays; the caller inserts into the newest-first lists.
 */
export function createPerson(w: World, rng: Rng, createdAt: number, end: number, fresh: boolean): Person {
  const idx = w.people.length;
  const { name, first, last } = personName(rng);
  let lmt = createdAt;
  if (!fresh) {
    const shape = rng.weighted([30, 50, 20]);
    const f = shape === 0 ? rng.next() * 0.01 : shape === 1 ? rng.next() : 1 - rng.next() * 0.02;
    lmt = Math.min(end, Math.floor(createdAt + (end - createdAt) * f));
  }
  const person: Person = {
    idx,
    id: objectId(createdAt, KIND.person, idx),
    name,
    email: rng.chance(0.75) ? flat(`${asciiSlug(first)}.${asciiSlug(last)}${idx}@${rng.pick(EMAIL_DOMAINS)}`) : 'NOT_DEFINED',
    phone: rng.chance(0.65) ? flat(phoneFor(rng, idx)) : 'NOT_DEFINED',
    profileImage: rng.chance(0.5)
      ? flat(`https://static.leeloo.ai/images/${w.companyId}/${rng.hex(8)}-${rng.hex(4)}-11ec-${rng.hex(4)}-${rng.hex(12)}%5B571x1100%5Djpg`)
      : 'NOT_DEFINED',
    gender: GENDERS[rng.weighted([30, 30, 5, 20, 15])] as string,
    locale: rng.pick(LOCALES),
    tags: pickTags(w, rng),
    channels: [],
    orderIds: [],
    createdAt,
    updatedAt: fresh ? createdAt : lmt + Math.floor(rng.next() * Math.min(end - lmt, 30 * DAY) * rng.next()),
    lmt,
    extras: null,
  };
  w.people.push(person);
  const sources = pickSources(rng, 1 + rng.weighted([70, 22, 8]));
  const main = rng.int(0, sources.length - 1);
  sources.forEach((source, k) => {
    const chCreated = k === 0 || fresh ? createdAt : between(rng, createdAt, lmt);
    const chLmt = k === main || fresh ? lmt : between(rng, chCreated, lmt);
    const channel = createChannel(w, rng, person, source, chCreated, chLmt, fresh ? rng.int(1, 3) : undefined);
    if (rng.chance(0.2)) channel.name = first;
  });
  // Exact-size copies: a pushed-to array keeps room for 16 more elements.
  person.channels = person.channels.slice();
  return person;
}

function pickTags(w: World, rng: Rng): string[] {
  const n = rng.weighted([40, 30, 20, 10]);
  const out: string[] = [];
  for (let tries = 0; out.length < n && tries < 10; tries++) {
    // Skewed towards the first tags, so some are popular and filters have big and small answers.
    const tag = w.tags[Math.floor(w.tags.length * rng.next() ** 2)];
    if (tag && !out.includes(tag.name)) out.push(tag.name);
  }
  return out.slice();
}

/** A channel of `person`, pushed to the world's channel array (not to the newest-first list). */
export function createChannel(w: World, rng: Rng, person: Person, source: Source, createdAt: number, lmt: number, messages?: number): Channel {
  const conn = w.connectionBySource.get(source);
  const idx = w.channels.length;
  let utmMarks = EMPTY_UTM;
  if (rng.chance(0.25)) {
    utmMarks = { utm_source: rng.pick(UTM_SOURCES) };
    if (rng.chance(0.6)) utmMarks.utm_medium = rng.pick(UTM_MEDIUMS);
    if (rng.chance(0.5)) utmMarks.utm_campaign = rng.pick(UTM_CAMPAIGNS);
  }
  const channel: Channel = {
    idx,
    id: objectId(createdAt, KIND.channel, idx),
    person,
    name: person.name,
    from: source,
    botStatus: rng.chance(0.85) ? 'BOT' : 'ADMIN',
    connectionId: conn ? conn.id : '',
    connectionStatus: rng.chance(0.92) ? 'OK' : 'BLOCKED',
    createdAt,
    lmt,
    genLmt: lmt,
    // Most chats are short; ~2% are long enough to need many pages.
    genCount: messages ?? (rng.chance(0.02) ? rng.int(100, 400) : rng.int(1, 10)),
    utmMarks,
    messages: null,
  };
  person.channels.push(channel);
  w.channels.push(channel);
  return channel;
}

const ORDER_TITLES = ['Консультація', 'Course "Start"', 'Annual plan', 'manual offer', 'Title11', 'E-book 📘', 'Marathon, 21 days'];

/**
 * An order of `person`. `manual` forces a manual OPENED order (POST /orders, activity);
 * otherwise the payment method and status are drawn. Short-form timestamps go to a share of
 * the payment-system orders, like the GET /orders/{id} example.
 */
export function createOrder(w: World, rng: Rng, person: Person, createdAt: number, end: number, manual: { title: string; description: string; price: number; currency: Currency } | null, sorted: boolean): Order {
  const idx = w.orders.length;
  const method: PaymentMethod = manual ? 'MANUAL' : (['MANUAL', 'WAYFORPAY', 'YANDEX_MONEY', 'ASSET_PAYMENT'] as const)[rng.weighted([45, 25, 15, 15])] as PaymentMethod;
  let status: string;
  if (manual) status = 'OPENED';
  else if (method === 'MANUAL') status = MANUAL_STATUSES[rng.weighted([60, 25, 15])] as string;
  else status = PAYMENT_STATUSES[rng.weighted([10, 10, 10, 60, 10])] as string;
  const short = !manual && method !== 'MANUAL' && rng.chance(0.3);
  const created = short ? roundMinute(createdAt) : createdAt;
  let updated = status === 'OPENED' || status === 'ORDER' ? created : between(rng, created, Math.min(end, created + 14 * DAY));
  if (short) updated = Math.max(created, roundMinute(updated));
  const offer = manual ?? {
    title: rng.pick(ORDER_TITLES),
    description: rng.chance(0.8) ? rng.pick(['Description1', 'Оплата за курс', 'Monthly plan — March', '']) : 'NOT_DEFINED',
    price: rng.pick([1, 100, 200, 250, 990, 1500, 49.99]),
    currency: rng.pick(CURRENCIES),
  };
  const order: Order = {
    idx,
    id: objectId(created, KIND.order, idx),
    personId: person.id,
    title: offer.title,
    description: offer.description,
    price: offer.price,
    currency: offer.currency,
    status,
    paymentMethod: method,
    createdAt: created,
    updatedAt: updated,
    shortCreated: short,
    shortUpdated: short,
    paymentDate: null,
    userComments: null,
  };
  person.orderIds.push(order.id);
  if (sorted) w.addOrder(order);
  else w.orders.push(order);
  return order;
}
