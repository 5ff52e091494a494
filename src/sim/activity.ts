import { createOrder, createPerson } from './generate.js';
import { MANUAL_STATUSES, PAYMENT_STATUSES } from './model.js';
import { appendMessage, eventTime, updateOrder } from './mutate.js';
import type { Rng } from './random.js';
import type { ActivityReport, ActivityRequest } from './types.js';
import { FRIEND_TEXTS } from './vocab.js';
import type { World } from './world.js';

/**
 * Life in the company while a client syncs: incoming messages (moving lastMessageTime of the
 * channel and its person to the real current time), new people, order status changes and new
 * orders. Times are real Date.now(), so they always come after the seeded data.
 */
export function applyActivity(w: World, rng: Rng, req: ActivityRequest): ActivityReport {
  const report: ActivityReport = { messagedChannelIds: [], newPersonIds: [], changedOrderIds: [], newOrderIds: [] };
  for (let i = 0; i < (req.messages ?? 0) && w.channelsByLmt.length > 0; i++) {
    const c = rng.pick(w.channels);
    // Deleted people write no more: draw again.
    if (c.deleted) {
      i--;
      continue;
    }
    appendMessage(w, c, 'FRIEND_MESSAGE', rng.pick(FRIEND_TEXTS), null, eventTime(c.lmt));
    report.messagedChannelIds.push(c.id);
  }
  for (let i = 0; i < (req.newPeople ?? 0); i++) {
    const t = eventTime();
    const p = createPerson(w, rng, t, t, true);
    w.peopleByLmt.insert(p);
    for (const c of p.channels) w.channelsByLmt.insert(c);
    report.newPersonIds.push(p.id);
  }
  for (let i = 0; i < (req.orderChanges ?? 0) && w.orders.length > 0; i++) {
    const o = rng.pick(w.orders);
    const statuses: readonly string[] = o.paymentMethod === 'MANUAL' ? MANUAL_STATUSES.filter((s) => s !== 'OPENED') : PAYMENT_STATUSES;
    const next = statuses.filter((s) => s !== o.status);
    updateOrder(o, { status: rng.pick(next.length > 0 ? next : statuses) }, eventTime(o.updatedAt));
    report.changedOrderIds.push(o.id);
  }
  for (let i = 0; i < (req.newOrders ?? 0) && w.peopleByLmt.length > 0; i++) {
    const p = rng.pick(w.people);
    if (p.deleted) {
      i--;
      continue;
    }
    const t = eventTime();
    const offer = rng.chance(0.5) ? rng.pick(w.offers) : null;
    const o = createOrder(w, rng, p, t, t, offer && { title: offer.name, description: offer.description, price: offer.price, currency: offer.currency }, true);
    report.newOrderIds.push(o.id);
  }
  return report;
}

/**
 * `activityPerListRequest`: the whole part is a number of events, the fraction the probability
 * of one more. Each event is a message (70%), a new person, an order change or a new order.
 */
export function randomActivity(w: World, rng: Rng, perRequest: number): ActivityReport | null {
  if (perRequest <= 0) return null;
  let n = Math.floor(perRequest);
  if (rng.chance(perRequest - n)) n++;
  if (n === 0) return null;
  const req = { messages: 0, newPeople: 0, orderChanges: 0, newOrders: 0 };
  for (let i = 0; i < n; i++) {
    const k = rng.weighted([70, 10, 10, 10]);
    if (k === 0) req.messages++;
    else if (k === 1) req.newPeople++;
    else if (k === 2) req.orderChanges++;
    else req.newOrders++;
  }
  return applyActivity(w, rng, req);
}
