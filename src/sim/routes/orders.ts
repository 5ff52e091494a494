import { field, formatError, refused } from '../http.js';
import { CURRENCIES, type Currency } from '../model.js';
import { createManualOrder, eventTime, updateOrder } from '../mutate.js';
import { orderDetail, orderListItem } from '../render.js';
import { DEFAULT_LIMIT, bodyId, found, pathId, slicePage, type Ctx, type Route } from './common.js';

function listOrders(ctx: Ctx): unknown {
  const all = ctx.w.ordersByCreated.items;
  const answer = slicePage(ctx, all, 0, all.length, orderListItem);
  // The docs' GET /orders example has limit 1, one item and filteredCount 20.
  answer.meta.filteredCount = Math.min(DEFAULT_LIMIT, answer.meta.totalCount);
  return answer;
}

function getOrder(ctx: Ctx): unknown {
  return { status: 1, data: orderDetail(found(ctx.w.order(pathId(ctx, 'order_id')))) };
}

function parsesAsDate(v: string): boolean {
  return !Number.isNaN(new Date(v).getTime());
}

/**
 * POST /orders: personId, offerId and paymentCreditsId are required and must exist (offers and
 * payment systems come from the platform's settings; store.offers()/paymentCredits() list the
 * simulated ones); managerId, if given, must be a user. Creates a MANUAL order, status OPENED.
 */
function postOrder(ctx: Ctx): unknown {
  const { w, body } = ctx;
  const personId = bodyId(body, 'personId') as string;
  const offerId = bodyId(body, 'offerId') as string;
  const creditsId = bodyId(body, 'paymentCreditsId') as string;
  const managerId = bodyId(body, 'managerId', false);
  const tx = field(body, 'transactionDate');
  if (tx !== undefined && tx !== '' && !parsesAsDate(tx)) throw formatError({ transactionDate: 'INVALID' });
  const notify = field(body, 'isNotifyAccount');
  if (notify !== undefined && notify !== 'true' && notify !== 'false') throw formatError({ isNotifyAccount: 'INVALID' });
  const p = found(w.person(personId));
  const offer = found(w.offersById.get(offerId));
  found(w.paymentCreditsById.get(creditsId));
  if (managerId) found(w.usersById.get(managerId));
  const o = createManualOrder(w, ctx.rng, p, offer, eventTime());
  if (tx) o.paymentDate = tx;
  const d = orderDetail(o);
  return { data: { id: d.id, title: d.title, price: d.price, currency: d.currency, status: d.status, createdAt: d.createdAt, updatedAt: d.updatedAt }, status: 1 };
}

/**
 * POST /orders/{id}: only MANUAL orders (docs: "update information in a MANUAL order … cannot
 * have partial payments"); any status of a manual order may be set again to RESOLVED or
 * REJECTED, so a retried update succeeds. Sets status, price, currency and updatedAt.
 */
function postOrderUpdate(ctx: Ctx): unknown {
  const id = pathId(ctx, 'order_id');
  const o = found(ctx.w.order(id));
  if (o.paymentMethod !== 'MANUAL') throw refused('ORDER_NOT_MANUAL', 'Only manual orders without partial payments can be updated');
  const status = field(ctx.body, 'status');
  if (!status) throw formatError({ status: 'REQUIRED' });
  if (status !== 'RESOLVED' && status !== 'REJECTED') throw formatError({ status: 'INVALID' });
  const price = field(ctx.body, 'price');
  if (price !== undefined && !/^\d+(\.\d+)?$/.test(price)) throw formatError({ price: 'INVALID' });
  const currency = field(ctx.body, 'currency');
  if (currency !== undefined && !CURRENCIES.includes(currency as Currency)) throw formatError({ currency: 'INVALID' });
  const paymentDate = field(ctx.body, 'paymentDate');
  if (paymentDate !== undefined && !parsesAsDate(paymentDate)) throw formatError({ paymentDate: 'INVALID' });
  const userComments = field(ctx.body, 'userComments');
  updateOrder(
    o,
    { status, price: price === undefined ? undefined : Number(price), currency: currency as Currency | undefined, paymentDate, userComments },
    eventTime(o.updatedAt),
  );
  return { data: { id: o.id }, status: 1 };
}

export const orderRoutes: Route[] = [
  { method: 'GET', template: '/api/v2/orders', list: true, handle: listOrders },
  { method: 'POST', template: '/api/v2/orders', write: true, handle: postOrder },
  { method: 'GET', template: '/api/v2/orders/:id', handle: getOrder },
  { method: 'POST', template: '/api/v2/orders/:id', write: true, handle: postOrderUpdate },
];
