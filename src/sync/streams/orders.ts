import { sql } from 'drizzle-orm';
import { ApiError } from '../../errors.js';
import { orders } from '../../db/schema.js';
import { EntityUpserter, ph } from '../../db/upsert.js';
import type { StreamDef } from '../context.js';
import { CommitBatcher } from '../batch.js';
import { SoftDeletes, undeleter } from '../deletions.js';
import { drainDue } from '../due.js';
import { runFullList } from '../fulllist.js';
import { firstPage } from '../kinds.js';
import { asItem, num, rawJson, str, ts, type Item } from '../map.js';

/**
 * GET /orders has no date filter, so the list is read whole every run; only new or changed
 * orders (their list item differs) get the detail request (description, paymentMethod).
 * The list's status vocabulary (OPENED, RESOLVED, …) differs from the detail's (SUCCESS,
 * PENDING, …, per the docs): `status` keeps the list's, the detail stays in detail_raw.
 * An order the complete list no longer has is marked deleted (soft, with the breaker of
 * src/sync/deletions.ts); a detail 404 alone never deletes it.
 */
const stream: StreamDef = {
  name: 'orders',
  description: 'Orders: the full list every run with change detection (GET /orders), details for new or changed ones (GET /orders/{id}).',
  async run(ctx, s) {
    const up = new EntityUpserter(ctx.mirror.db, orders, {
      columns: ['id', 'personId', 'title', 'price', 'currency', 'status', 'createdAt', 'updatedAt', 'raw', 'syncedAt'],
      onChange: { detailsSyncedAt: null },
    });
    const detail = ctx.mirror.db
      .update(orders)
      .set({
        description: ph('description'),
        paymentMethod: ph('paymentMethod'),
        detailRaw: ph('detailRaw'),
        detailsSyncedAt: ph('at'),
      })
      .where(sql`${orders.id} = ${sql.placeholder('id')} AND ${orders.raw} = ${sql.placeholder('raw')}`)
      .prepare();
    const batch = new CommitBatcher(ctx.mirror.sqlite);
    const due = ctx.mirror.sqlite.prepare('SELECT id, raw FROM orders WHERE details_synced_at IS NULL AND deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?');
    const dels = new SoftDeletes(ctx, s, 'orders');
    const undelete = undeleter(ctx, 'orders', 'details_synced_at = NULL');
    const markGone = ctx.mirror.sqlite.prepare("UPDATE orders SET details_synced_at = ? WHERE id = ?");
    if (ctx.full) ctx.mirror.sqlite.prepare('UPDATE orders SET details_synced_at = NULL WHERE details_synced_at IS NOT NULL').run();

    const listing = runFullList<Item>(ctx, s, {
      fetchPage: (offset, limit) => firstPage(ctx.client.orderPages({ startOffset: offset, pageSize: limit, signal: ctx.signal }), offset) as never,
      idOf: (o) => String(o.id),
      resumable: true,
      deleteMissing(seen) {
        dels.stageUnlisted(seen, new Set(), 'not in the complete order list');
        return 0;
      },
      writePage(items) {
        const now = new Date().toISOString();
        const r = up.upsert(
          items.map((o) => ({
            id: o.id,
            personId: str(o.person_id),
            title: str(o.title),
            price: num(o.price),
            currency: str(o.currency),
            status: str(o.status),
            createdAt: ts(o.createdAt),
            updatedAt: ts(o.updatedAt),
            raw: rawJson(o),
            syncedAt: now,
          })),
        );
        for (const o of items) {
          dels.listed(String(o.id));
          if (undelete(String(o.id)) > 0) r.updated++;
        }
        return r;
      },
    });
    await drainDue(
      ctx,
      s,
      {
        selectDue: (limit, after) => due.all(after, limit) as { id: string; raw: string }[],
        keyOf: (r) => r.id,
        countDue: () => (ctx.mirror.sqlite.prepare('SELECT count(*) AS n FROM orders WHERE details_synced_at IS NULL AND deleted_at IS NULL').get() as { n: number }).n,
        async process({ id, raw }) {
          let d: Item;
          try {
            d = asItem(await s.call(() => ctx.client.getOrder(id, { signal: ctx.signal })));
          } catch (err) {
            if (err instanceof ApiError && err.status === 404) {
              // Listed but not readable: keep the list row, stop asking until it changes.
              await batch.run(() => markGone.run(new Date().toISOString(), id));
              return;
            }
            throw err;
          }
          const applied = await batch.run(() => detail.run({
            id,
            raw,
            description: str(d.description),
            paymentMethod: str(d.paymentMethod),
            detailRaw: rawJson(d),
            at: new Date().toISOString(),
          }).changes);
          if (applied) s.counters.rowsUpdated++;
        },
      },
      listing,
    );
    dels.apply();
  },
};

export default stream;
