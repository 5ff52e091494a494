import { iso } from './format.js';
import { KIND, messageId, objectId } from './ids.js';
import { materialiseExtras, materialiseMessages } from './lazy.js';
import { createChannel, createOrder } from './generate.js';
import type { Channel, CommentJson, Connection, CustomFieldJson, Leadgentool, MessageJson, MessageType, Offer, Order, Person, Source, Tunnel } from './model.js';
import type { Rng } from './random.js';
import type { World } from './world.js';

/**
 * State changes shared by the write endpoints and the activity generator. Inputs are already
 * validated; times come from the caller (real Date.now(), never before what they replace).
 */

/** A time for an event on `c`: now, but never before the channel's or person's last message. */
export function eventTime(...notBefore: number[]): number {
  return Math.max(Date.now(), ...notBefore);
}

/** Moves the channel's and its person's lastMessageTime to `t` (and the person's updated_at). */
export function touchChannel(w: World, c: Channel, t: number): void {
  if (t > c.lmt) w.channelsByLmt.move(c, () => (c.lmt = t));
  const p = c.person;
  if (t > p.lmt) w.peopleByLmt.move(p, () => (p.lmt = t));
  if (t > p.updatedAt) p.updatedAt = t;
}

export function appendMessage(w: World, c: Channel, type: MessageType, text: string, createdBy: string | null, t0: number): MessageJson {
  const t = Math.max(t0, c.lmt);
  const history = materialiseMessages(w, c);
  const at = iso(t);
  const m: MessageJson = { id: messageId(t, c.idx, history.length), text, type, read: type !== 'FRIEND_MESSAGE', createdAt: at, updatedAt: at };
  if (createdBy) m.links = { createdBy: { type: 'users', id: createdBy } };
  history.push(m);
  touchChannel(w, c, t);
  if (createdBy) {
    const x = materialiseExtras(w, c.person);
    if (!x.contactedUserIds.includes(createdBy)) x.contactedUserIds.push(createdBy);
  }
  return m;
}

function touchPerson(p: Person, t: number): void {
  if (t > p.updatedAt) p.updatedAt = t;
}

/** Idempotent: a tag the person already has is not added twice. */
export function addTag(p: Person, tagName: string, t: number): void {
  if (!p.tags.includes(tagName)) p.tags = [...p.tags, tagName];
  touchPerson(p, t);
}

export function removeTag(p: Person, tagName: string, t: number): void {
  if (p.tags.includes(tagName)) p.tags = p.tags.filter((x) => x !== tagName);
  touchPerson(p, t);
}

/** Not idempotent: every call stores another comment (docs: PUT /people/{id}/add-comment). */
export function addComment(w: World, p: Person, text: string, t: number): CommentJson {
  const at = iso(t);
  const comment: CommentJson = {
    created_by: w.apiUserId,
    company_id: w.companyId,
    text,
    entity_id: p.id,
    entity_type: 'PERSON',
    created_at: at,
    updated_at: at,
    id: objectId(t, KIND.comment, w.allocate(KIND.comment)),
  };
  materialiseExtras(w, p).comments.push(comment);
  return comment;
}

/** PUT /people/{id}: custom fields are merged by name (a known name is replaced, a new one appended). */
export function updatePerson(w: World, p: Person, changes: { phone?: string; email?: string; customFields?: CustomFieldJson[] }, t: number): void {
  if (changes.phone !== undefined) p.phone = changes.phone;
  if (changes.email !== undefined) p.email = changes.email;
  if (changes.customFields) {
    const fields = materialiseExtras(w, p).customFields;
    for (const f of changes.customFields) {
      const i = fields.findIndex((x) => x.name === f.name);
      if (i >= 0) fields[i] = { ...f };
      else fields.push({ ...f });
    }
  }
  touchPerson(p, t);
}

interface NewPersonInput {
  name: string;
  email: string;
  phone: string;
  contactedUserIds: string[];
  tags: string[];
}

/**
 * A person created through the API with one channel of `source`. The history starts with one
 * SYSTEM_MESSAGE at creation, so lastMessageTime is the time of a real message.
 */
export function createApiPerson(w: World, rng: Rng, input: NewPersonInput, source: Source, connection: Connection | undefined, t: number): Channel {
  const idx = w.people.length;
  const p: Person = {
    idx,
    id: objectId(t, KIND.person, idx),
    name: input.name,
    email: input.email,
    phone: input.phone,
    profileImage: 'NOT_DEFINED',
    gender: 'NOT_DEFINED',
    locale: '',
    tags: input.tags.slice(),
    channels: [],
    orderIds: [],
    createdAt: t,
    updatedAt: t,
    lmt: t,
    extras: { subscribeHistory: [], customFields: [], contactedUserIds: input.contactedUserIds.slice(), comments: [] },
  };
  w.people.push(p);
  w.peopleByLmt.insert(p);
  const c = addApiChannel(w, rng, p, source, connection, t);
  return c;
}

function addApiChannel(w: World, rng: Rng, p: Person, source: Source, connection: Connection | undefined, t: number): Channel {
  const c = createChannel(w, rng, p, source, t, t, 1);
  c.name = p.name;
  c.botStatus = 'BOT';
  c.connectionStatus = 'OK';
  c.utmMarks = {};
  if (connection) c.connectionId = connection.id;
  const at = iso(t);
  c.messages = [{ id: messageId(t, c.idx, 0), text: '', type: 'SYSTEM_MESSAGE', read: true, createdAt: at, updatedAt: at }];
  w.channelsByLmt.insert(c);
  touchChannel(w, c, t);
  return c;
}

/**
 * POST /people/sms: a person whose phone is already known gets an SMS channel (unless it has
 * one); anyone else becomes a new person with an SMS channel. Tags (names) are added either way.
 */
export function addSmsPerson(w: World, rng: Rng, input: Omit<NewPersonInput, 'contactedUserIds'>, connection: Connection, t: number): Channel {
  const digits = input.phone.replace(/\D/g, '');
  const existing = w.people.find((p) => p.phone.replace(/\D/g, '') === digits);
  if (!existing) return createApiPerson(w, rng, { ...input, contactedUserIds: [] }, 'SMS', connection, t);
  materialiseExtras(w, existing);
  for (const tag of input.tags) addTag(existing, tag, t);
  const sms = existing.channels.find((c) => c.from === 'SMS');
  if (sms) return sms;
  if (existing.email === 'NOT_DEFINED' && input.email) existing.email = input.email;
  return addApiChannel(w, rng, existing, 'SMS', connection, t);
}

/** POST /orders: a MANUAL order, status OPENED, priced by the offer. */
export function createManualOrder(w: World, rng: Rng, p: Person, offer: Offer, t: number): Order {
  return createOrder(w, rng, p, t, t, { title: offer.name, description: offer.description, price: offer.price, currency: offer.currency }, true);
}

export function updateOrder(o: Order, changes: { status: string; price?: number; currency?: Order['currency']; paymentDate?: string; userComments?: string }, t: number): void {
  o.status = changes.status;
  if (changes.price !== undefined) o.price = changes.price;
  if (changes.currency !== undefined) o.currency = changes.currency;
  if (changes.paymentDate !== undefined) o.paymentDate = changes.paymentDate;
  if (changes.userComments !== undefined) o.userComments = changes.userComments;
  o.updatedAt = Math.max(t, o.updatedAt);
  o.shortUpdated = false;
}

/**
 * manual-subscribe: recorded in the person's subscribeHistory through the tunnel's first
 * leadgentool and its default traffic source (the API does not say which it uses).
 */
export function manualSubscribe(w: World, c: Channel, tunnel: Tunnel, t: number): void {
  const x = materialiseExtras(w, c.person);
  const lgt = tunnel.leadgentools[0] as Leadgentool;
  const ts = lgt.trafficSources[0];
  const first = !x.subscribeHistory.some((e) => e.tunnelId === tunnel.id);
  x.subscribeHistory.push({ tunnelId: tunnel.id, leadgentoolId: lgt.id, trafficSourceId: ts ? ts.id : '', accountId: c.id });
  tunnel.stats.subscribers++;
  if (first) tunnel.stats.uniqSubscribers++;
  touchPerson(c.person, t);
}
