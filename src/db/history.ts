/**
 * Change history (what Fivetran calls history mode): order_status_history and
 * person_tag_history hold one row per interval, valid_to NULL for the current one. Callers run
 * these inside the transaction that writes the rows they describe, so the history never
 * disagrees with the mirror. An unchanged status or tag set writes nothing: one indexed SELECT of
 * the open rows per order or person.
 */
import { sql } from 'drizzle-orm';
import { nulFree } from './pg-types.js';
import type { Prepared, Store } from './store/types.js';

const p = (name: string) => sql.placeholder(name);

/**
 * A change's time never precedes the open interval's start (a write-back reflected at its
 * success time, then a sync whose page time was taken earlier): intervals stay ordered.
 */
const notBefore = (at: string, from: string) => (at < from ? from : at);

/** The change history through the Store: what the sync writes, in the page's transaction. */
export class StoreHistory {
  private readonly openStatus: Prepared<{ status: string | null; validFrom: string }>;
  private readonly closeStatus: Prepared<never>;
  private readonly insertStatus: Prepared<never>;
  private readonly openTags: Prepared<{ tag: string; validFrom: string }>;
  private readonly closeTag: Prepared<never>;
  private readonly insertTag: Prepared<never>;
  private readonly closeTags: Prepared<never>;
  private readonly openTagsOfMany: Prepared<{ personId: string; tag: string; validFrom: string }>;
  /** A value as the store gives it back: PostgreSQL stores an API's U+0000 as U+FFFD (pg-types.ts pgParameters). */
  private readonly stored: (v: string) => string;

  constructor(store: Store) {
    this.stored = store.dialect === 'postgres' ? nulFree : (v) => v;
    this.openStatus = store.prepare(sql`SELECT status, valid_from AS "validFrom" FROM order_status_history WHERE order_id = ${p('id')} AND valid_to IS NULL`);
    this.closeStatus = store.prepare(sql`UPDATE order_status_history SET valid_to = ${p('at')} WHERE order_id = ${p('id')} AND valid_to IS NULL`);
    this.insertStatus = store.prepare(sql`INSERT INTO order_status_history (order_id, status, valid_from, valid_to) VALUES (${p('id')}, ${p('status')}, ${p('at')}, NULL)`);
    this.openTags = store.prepare(sql`SELECT tag, valid_from AS "validFrom" FROM person_tag_history WHERE person_id = ${p('id')} AND valid_to IS NULL`);
    this.closeTag = store.prepare(sql`UPDATE person_tag_history SET valid_to = ${p('at')} WHERE person_id = ${p('id')} AND tag = ${p('tag')} AND valid_to IS NULL`);
    this.insertTag = store.prepare(sql`INSERT INTO person_tag_history (person_id, tag, valid_from, valid_to) VALUES (${p('id')}, ${p('tag')}, ${p('at')}, NULL)`);
    this.closeTags = store.prepare(sql`UPDATE person_tag_history SET valid_to = ${p('at')} WHERE person_id = ${p('id')} AND valid_to IS NULL`);
    // A page's people as one JSON array parameter: one statement text for any page size.
    const ids = store.dialect === 'sqlite' ? sql`SELECT value FROM json_each(${p('ids')})` : sql`SELECT jsonb_array_elements_text(${p('ids')}::jsonb)`;
    this.openTagsOfMany = store.prepare(
      sql`SELECT person_id AS "personId", tag, valid_from AS "validFrom" FROM person_tag_history WHERE person_id IN (${ids}) AND valid_to IS NULL`,
    );
  }

  /** The order's status as of `at`: closes the open interval and opens one when it differs. */
  async recordOrderStatus(orderId: string, status: string | null, at: string): Promise<void> {
    const open = await this.openStatus.all({ id: orderId });
    if (open.length === 1 && open[0]!.status === (status === null ? null : this.stored(status))) return;
    let start = at;
    if (open.length > 0) {
      for (const o of open) start = notBefore(start, o.validFrom);
      await this.closeStatus.run({ at: start, id: orderId });
    }
    await this.insertStatus.run({ id: orderId, status, at: start });
  }

  /** The person's whole tag set as of `at`: closes the intervals of removed tags, opens added ones. */
  async recordPersonTags(personId: string, tags: readonly string[], at: string): Promise<void> {
    await this.applyTags(personId, tags, await this.openTags.all({ id: personId }), at);
  }

  /**
   * recordPersonTags for a list page's people, their open intervals read in one statement (one
   * SELECT a person was 2,000 of a 2,000-people sync's statements). A person listed twice on the
   * page counts once, with its last tag set.
   */
  async recordPersonTagsOfPage(people: readonly { personId: string; tags: readonly string[] }[], at: string): Promise<void> {
    const last = new Map<string, readonly string[]>();
    for (const x of people) last.set(x.personId, x.tags);
    if (last.size === 0) return;
    const open = new Map<string, { tag: string; validFrom: string }[]>();
    for (const o of await this.openTagsOfMany.all({ ids: JSON.stringify([...last.keys()]) })) {
      const list = open.get(o.personId);
      if (list) list.push(o);
      else open.set(o.personId, [o]);
    }
    for (const [personId, tags] of last) await this.applyTags(personId, tags, open.get(personId) ?? [], at);
  }

  /** Closes the intervals of removed tags, opens added ones. */
  private async applyTags(personId: string, tags: readonly string[], open: readonly { tag: string; validFrom: string }[], at: string): Promise<void> {
    const want = new Set(tags.map(this.stored));
    const have = new Map<string, string>();
    for (const o of open) have.set(o.tag, o.validFrom);
    for (const [tag, from] of have) if (!want.has(tag)) await this.closeTag.run({ at: notBefore(at, from), id: personId, tag });
    for (const tag of want) if (!have.has(tag)) await this.insertTag.run({ id: personId, tag, at });
  }

  /** The order is gone (soft delete): its open interval ends; a reappearance opens a new one. */
  async closeOrder(orderId: string, at: string): Promise<void> {
    const open = await this.openStatus.all({ id: orderId });
    if (open.length === 0) return;
    let end = at;
    for (const o of open) end = notBefore(end, o.validFrom);
    await this.closeStatus.run({ at: end, id: orderId });
  }

  /** The person is gone (soft delete): every open tag interval ends. */
  async closePerson(personId: string, at: string): Promise<void> {
    const open = await this.openTags.all({ id: personId });
    if (open.length === 0) return;
    let end = at;
    for (const o of open) end = notBefore(end, o.validFrom);
    await this.closeTags.run({ at: end, id: personId });
  }
}

/**
 * A mirror made before the history tables existed: its live rows get their current interval,
 * from when they were last written (the closest to "first seen" it knows). Once, while the
 * table is empty; cheap otherwise.
 */
export async function backfillHistory(store: Store, table: 'orders' | 'people'): Promise<void> {
  const [history, insert] =
    table === 'orders'
      ? [sql`order_status_history`, sql`INSERT INTO order_status_history (order_id, status, valid_from, valid_to) SELECT id, status, synced_at, NULL FROM orders WHERE deleted_at IS NULL`]
      : [
          sql`person_tag_history`,
          sql`INSERT INTO person_tag_history (person_id, tag, valid_from, valid_to)
           SELECT t.person_id, t.tag, p.synced_at, NULL FROM person_tags t JOIN people p ON p.id = t.person_id WHERE p.deleted_at IS NULL`,
        ];
  await store.transaction(async () => {
    if ((await store.get(sql`SELECT 1 AS one FROM ${history} LIMIT 1`)) !== undefined) return;
    await store.run(insert);
  });
}
