import { sql, type SQL } from 'drizzle-orm';
import type { StreamRun, SyncContext } from './context.js';
import type { SoftDeletes } from './deletions.js';
import { walkPages } from './paging.js';
import { forEachConcurrent } from './pool.js';
import { runWindowed, type WindowedState, type WindowSpec } from './windowed.js';

/**
 * `sync --reconcile`: what an incremental run cannot see. People and channels can only be
 * filtered by last_message, so an edit that sends no message (a tag, an email, a channel's
 * fields) and a deletion never enter an incremental window. A reconcile run therefore reads the
 * whole list once more, over all time, in the stream's ordinary windows (about one request per
 * page of rows), upserting what changed, and marks the live rows it did not list deleted, but
 * only when every window was proven complete (runWindowed throws otherwise) and a request for
 * the row itself answers 404.
 */

/** sync_state partition of the reconcile pass: resumable without touching the stream's cursor. */
export const RECONCILE_PARTITION = 'reconcile';

export function startDate(ctx: SyncContext): Date {
  return new Date(`${ctx.env.SYNC_START_DATE}T00:00:00.000Z`);
}

export async function reconcileList<T>(
  ctx: SyncContext,
  s: StreamRun,
  spec: WindowSpec<T>,
  dels: SoftDeletes,
  /** The second look at a row the pass did not list: false when the API confirms it gone (404). */
  exists: (id: string) => Promise<boolean>,
  where: SQL = sql`1 = 1`,
): Promise<void> {
  const from = startDate(ctx);
  const resumed = (await ctx.state.get<WindowedState>(s.name, RECONCILE_PARTITION)).state?.current != null;
  const seen = new Set<string>();
  await runWindowed<T>(
    ctx,
    s,
    {
      ...spec,
      writePage(items) {
        for (const i of items) seen.add(spec.idOf(i));
        return spec.writePage(items);
      },
    },
    { partition: RECONCILE_PARTITION, from },
  );
  if (dels.tripped) return;
  if (resumed) {
    // The ids listed before the kill are not known any more, so this pass proves nothing about absence.
    s.log.info('reconcile pass resumed from a killed run: list fields updated, unlisted rows not marked deleted this time');
    return;
  }
  // A record that wrote during the pass left its window for one after the run's start: not listed,
  // not gone. One short read of that span spares them; its end lies a day ahead, as the server's
  // clock (which stamps new messages) may run ahead of ours.
  const movers = new Set<string>();
  const after = { from: ctx.runStart, to: new Date(Date.now() + 86_400_000) };
  for await (const page of walkPages((req) => spec.list(after, req), { pageSize: ctx.env.LEELOO_PAGE_SIZE, signal: ctx.signal, call: (fn) => s.call(fn) })) {
    s.counters.pages++;
    for (const i of page.items) movers.add(spec.idOf(i));
  }
  // Only rows a pass over SYNC_START_DATE..run start can list: a row without a last message time
  // (a channel that never wrote) or outside that span is not evidence of anything.
  const span = sql`last_message_time IS NOT NULL AND last_message_time >= ${from.toISOString()} AND last_message_time <= ${ctx.runStart.toISOString()}`;
  const unlisted = await dels.unlisted(seen, movers, sql`${span} AND (${where})`);
  if (await dels.wouldTrip(unlisted.length)) {
    // Far too many to be a few deletions: no need to look at each; the breaker will say so.
    for (const id of unlisted) dels.stage(id, 'not listed by a complete reconcile pass');
  } else {
    // A record that wrote again while the span after the run's start was read can still slip
    // through that read (it moved up across a page boundary): each unlisted row gets one request.
    let spared = 0;
    await forEachConcurrent(unlisted, ctx.pool.size, async (id) => {
      if (await exists(id)) spared++;
      else dels.stage(id, 'not listed by a complete reconcile pass, and its detail answered 404');
    });
    if (spared > 0) s.log.info({ spared }, 'unlisted rows the API still has (they wrote during the pass); kept');
  }
  s.log.info({ listed: seen.size, movedDuringPass: movers.size, unlisted: unlisted.length }, 'reconcile pass complete');
}

/**
 * The rolling re-read of person details: the live people whose details are oldest, a share
 * SYNC_RECONCILE_DETAIL_SHARE of them, are made due. Custom fields and subscriptions change
 * without a message, so with a nightly reconcile and the default 1/7 no detail is older than a
 * week. Returns how many were made due.
 */
export async function markOldestDetailsDue(ctx: SyncContext): Promise<number> {
  const { store } = ctx;
  const live = Number((await store.get<{ n: number }>(sql`SELECT count(*) AS n FROM people WHERE deleted_at IS NULL`))?.n ?? 0);
  const n = Math.ceil(ctx.env.SYNC_RECONCILE_DETAIL_SHARE * live);
  if (n === 0) return 0;
  return store.run(
    sql`UPDATE people SET details_synced_at = NULL WHERE id IN (
         SELECT id FROM people WHERE deleted_at IS NULL AND details_synced_at IS NOT NULL ORDER BY details_synced_at, id LIMIT ${n})`,
  );
}
