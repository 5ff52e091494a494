import { backfillHistory, StoreHistory } from '../../db/history.js';
import { orders } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { OrderDetail, OrderListItem } from '../../leeloo/schemas.js';
import { listWithDetails } from '../list-details.js';
import { num, rawJson, str, ts } from '../map.js';

export const toOrderRow = (o: OrderListItem, syncedAt: string): InsertRow<typeof orders> => ({
  id: o.id,
  personId: str(o.person_id),
  title: str(o.title),
  price: num(o.price),
  currency: str(o.currency),
  status: str(o.status),
  createdAt: ts(o.createdAt),
  updatedAt: ts(o.updatedAt),
  raw: rawJson(o),
  syncedAt,
});

export const toOrderDetailRow = (d: OrderDetail, syncedAt: string): Partial<InsertRow<typeof orders>> => ({
  description: str(d.description),
  paymentMethod: str(d.paymentMethod),
  detailRaw: rawJson(d),
  detailsSyncedAt: syncedAt,
});

/**
 * GET /orders has no date filter, so the list is read whole every run; only new or changed
 * orders (their list item differs) get the detail request (description, paymentMethod).
 * The list's status vocabulary (OPENED, RESOLVED, …) differs from the detail's (SUCCESS,
 * PENDING, …, per the docs): `status` keeps the list's, the detail stays in detail_raw.
 * An order the complete list no longer has is marked deleted (soft, with the breaker of
 * src/sync/deletions.ts); a detail 404 alone never deletes it.
 */
export default listWithDetails({
  name: 'orders',
  description: 'Orders: the full list every run with change detection (GET /orders), details for new or changed ones (GET /orders/{id}).',
  table: orders,
  noun: 'order',
  list: { kind: 'whole', page: (c, req) => c.ordersPage(req) },
  async setup(ctx) {
    await backfillHistory(ctx.store, 'orders');
    return new StoreHistory(ctx.store);
  },
  toListRow: toOrderRow,
  // order_status_history: an unchanged list item has the status already recorded.
  async afterListRow(h, o, syncedAt, changed) {
    if (changed) await h.recordOrderStatus(o.id, str(o.status), syncedAt);
  },
  afterDelete: (h, id, at) => h.closeOrder(id, at),
  detail: (c, id, signal) => c.getOrder(id, { signal }),
  toDetailRow: toOrderDetailRow,
  onMissing: 'keep',
});
