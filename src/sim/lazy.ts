import { DAY, iso } from './format.js';
import { messageId } from './ids.js';
import type { Channel, CustomFieldJson, CustomFieldType, MessageJson, MessageType, Person, PersonExtras, SubscribeEntry } from './model.js';
import { STREAM, rngFor } from './random.js';
import { BOT_TEXTS, CUSTOM_FIELD_DEFS, FRIEND_TEXTS, YOUR_TEXTS, asciiSlug } from './vocab.js';
import type { World } from './world.js';

/**
 * Parts of the company that would cost too much to hold for 100k people are derived on demand
 * from (seed, index): chat histories and the detail-only parts of a person. They are stored only
 * once something writes to them (materialise*), so reads never grow memory.
 */

/** The users a person talked to, as generated. Drawn from its own stream: chat histories use it. */
export function generatedContacts(w: World, p: Person): string[] {
  const rng = rngFor(w.seed, STREAM.contacted, p.idx);
  return rng.sample(w.users, rng.weighted([55, 30, 15])).map((u) => u.id);
}

function generateExtras(w: World, p: Person): PersonExtras {
  const rng = rngFor(w.seed, STREAM.personDetail, p.idx);
  const subscribeHistory: SubscribeEntry[] = [];
  for (const c of p.channels) {
    const n = rng.weighted([30, 60, 10]);
    for (let k = 0; k < n; k++) {
      const tunnel = rng.pick(w.tunnels);
      const lgt = rng.pick(tunnel.leadgentools);
      const ts = rng.pick(lgt.trafficSources);
      subscribeHistory.push({ tunnelId: tunnel.id, leadgentoolId: lgt.id, trafficSourceId: ts.id, accountId: c.id });
    }
  }
  const customFields: CustomFieldJson[] = [];
  for (const def of rng.sample(CUSTOM_FIELD_DEFS, rng.weighted([45, 25, 20, 10]))) {
    customFields.push({ type: def.type, name: def.name, value: customValue(def.type, p, rng.next(), w.now) });
  }
  return { subscribeHistory, customFields, contactedUserIds: generatedContacts(w, p), comments: [] };
}

function customValue(type: CustomFieldType, p: Person, r: number, now: number): string {
  switch (type) {
    case 'EMAIL':
      return `${asciiSlug(p.name.split(' ')[0] ?? 'user')}.work${p.idx}@company.example`;
    case 'PHONE':
      return `+380${String(Math.floor(r * 1e9)).padStart(9, '0')}`;
    case 'DATE':
      return iso(Math.floor(now - DAY - r * 3 * 365 * DAY));
    case 'KEYWORD':
      return ['hello word', 'привет', 'оптовик', 'needs invoice, urgent', '"quoted"'][Math.floor(r * 5)] as string;
    case 'NUMBER':
      return String(Math.floor(r * 10000));
  }
}

/** A person's detail-only parts, as stored or as generated (not stored). */
export function extrasOf(w: World, p: Person): PersonExtras {
  return p.extras ?? generateExtras(w, p);
}

/** Stores the generated parts so a write can change them. Must precede any change to p.channels. */
export function materialiseExtras(w: World, p: Person): PersonExtras {
  if (!p.extras) p.extras = generateExtras(w, p);
  return p.extras;
}

// ---------------------------------------------------------------- chat histories

/** Generated histories recently served, so paging through a long chat does not regenerate it per page. */
const CACHE_SIZE = 64;
const cache = new WeakMap<World, Map<number, MessageJson[]>>();

function generateMessages(w: World, c: Channel): MessageJson[] {
  const rng = rngFor(w.seed, STREAM.channelMessages, c.idx);
  const n = c.genCount;
  const times: number[] = [];
  for (let i = 0; i < n - 1; i++) times.push(Math.floor(c.createdAt + rng.next() * (c.genLmt - c.createdAt)));
  times.sort((a, b) => a - b);
  times.push(c.genLmt);
  const contacts = generatedContacts(w, c.person);
  const out: MessageJson[] = [];
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    let type: MessageType;
    if (i === 0 && n > 1 && rng.chance(0.5)) type = 'SYSTEM_MESSAGE';
    else {
      const k = rng.weighted([45, 35, contacts.length > 0 ? 15 : 0, 5]);
      type = (['FRIEND_MESSAGE', 'BOT_MESSAGE', 'YOUR_MESSAGE', 'SYSTEM_MESSAGE'] as const)[k] as MessageType;
    }
    const at = iso(t);
    const text =
      type === 'SYSTEM_MESSAGE' ? '' : rng.pick(type === 'FRIEND_MESSAGE' ? FRIEND_TEXTS : type === 'BOT_MESSAGE' ? BOT_TEXTS : YOUR_TEXTS);
    const m: MessageJson = {
      id: messageId(t, c.idx, i),
      text,
      type,
      // The newest incoming message of a chat is often still unread.
      read: !(i === n - 1 && type === 'FRIEND_MESSAGE' && rng.chance(0.4)),
      createdAt: at,
      updatedAt: at,
    };
    if (type === 'YOUR_MESSAGE') m.links = { createdBy: { type: 'users', id: rng.pick(contacts) } };
    out.push(m);
  }
  return out;
}

/** A channel's whole history, oldest first. Do not modify the array (it may be a cached one). */
const NONE: MessageJson[] = [];

export function messagesOf(w: World, c: Channel): MessageJson[] {
  if (c.messages) return c.messages;
  // A person who never wrote (neverWrote knob): the first write starts an empty history.
  if (w.isSilentChannel(c)) return NONE;
  let m = cache.get(w);
  if (!m) cache.set(w, (m = new Map()));
  const hit = m.get(c.idx);
  if (hit) return hit;
  const generated = generateMessages(w, c);
  if (m.size >= CACHE_SIZE) m.delete(m.keys().next().value as number);
  m.set(c.idx, generated);
  return generated;
}

/** The history as a stored array that writes may append to. */
export function materialiseMessages(w: World, c: Channel): MessageJson[] {
  if (!c.messages) {
    c.messages = messagesOf(w, c).slice();
    cache.get(w)?.delete(c.idx);
  }
  return c.messages;
}

export function messageCount(c: Channel): number {
  return c.messages ? c.messages.length : c.genCount;
}
