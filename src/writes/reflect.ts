/**
 * After a successful write, the mirror is changed the way the next sync would change it, in the
 * same transaction as the outbox row's status, so SQL users see the write at once. The next sync
 * overwrites these rows with what the API says. Rows of entities the mirror does not hold yet are
 * not invented, except the objects a create answers with in full.
 *
 * Why this matters beyond convenience: the people stream reads people in `filter[last_message]`
 * windows, and a tag, phone or email change does not move lastMessageTime, so an incremental sync
 * alone would not see it.
 */
import { sql } from 'drizzle-orm';
import { StoreHistory } from '../db/history.js';
import { jsonFor } from '../db/pg-types.js';
import { normalizeTimestamp } from '../leeloo/dates.js';
import type { Store } from '../db/store/types.js';
import type { NormalizedWrite } from './validate.js';

export interface ReflectContext {
  outboxId: number;
  /** ISO time of the success. */
  at: string;
}

/** Chat rows written for sent messages carry this id prefix until the sync brings the real message. */
export const PROVISIONAL_MESSAGE_PREFIX = 'outbox-';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' && v !== 'NOT_DEFINED' && v !== 'NO_DATA' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

/**
 * An API answer's JSON for a raw (jsonb) column. PostgreSQL stores U+0000 in neither text nor
 * jsonb: an answer echoing one would fail the reflection, and with it the transaction that records
 * the write's success (after the API applied it). Text parameters lose their NULs where every
 * PostgreSQL parameter passes (pg-types.ts pgParameters); JSON's `\u0000` escape is not a NUL
 * there, so raw SQL into jsonb goes through jsonFor, as the sync's does. The next sync overwrites
 * these rows anyway. Payload strings never hold one (validate.ts refuses them). Times are read as
 * the sync reads them (normalizeTimestamp): a timestamptz column refuses other text.
 */
const rawFor = (store: Store, v: unknown): string => jsonFor(store.dialect, JSON.stringify(v));

const histories = new WeakMap<Store, StoreHistory>();

/** One set of the history's prepared statements per store. */
function historyOf(store: Store): StoreHistory {
  let h = histories.get(store);
  if (!h) {
    h = new StoreHistory(store);
    histories.set(store, h);
  }
  return h;
}

async function exists(store: Store, table: 'people' | 'orders', id: string, live = false): Promise<boolean> {
  const alive = live ? sql` AND deleted_at IS NULL` : sql.empty();
  return (await store.get(sql`SELECT 1 AS one FROM ${sql.identifier(table)} WHERE id = ${id}${alive}`)) !== undefined;
}

/** Keeps people.tags (the JSON list of names) and person_tag_history in step with person_tags. */
async function setTag(store: Store, personId: string, name: string, present: boolean, at: string): Promise<void> {
  if (present) await store.run(sql`INSERT INTO person_tags (person_id, tag) VALUES (${personId}, ${name}) ON CONFLICT DO NOTHING`);
  else await store.run(sql`DELETE FROM person_tags WHERE person_id = ${personId} AND tag = ${name}`);
  if (await exists(store, 'people', personId, true)) {
    const tags = await store.all<{ tag: string }>(sql`SELECT tag FROM person_tags WHERE person_id = ${personId}`);
    await historyOf(store).recordPersonTags(
      personId,
      tags.map((t) => t.tag),
      at,
    );
  }
  const row = await store.get<{ tags: string | null }>(sql`SELECT tags FROM people WHERE id = ${personId}`);
  if (!row) return;
  let list: unknown[] = [];
  try {
    const parsed: unknown = row.tags ? JSON.parse(row.tags) : [];
    if (Array.isArray(parsed)) list = parsed;
  } catch {
    // a malformed list is replaced
  }
  const next = present ? (list.includes(name) ? list : [...list, name]) : list.filter((t) => t !== name);
  if (next !== list) await store.run(sql`UPDATE people SET tags = ${JSON.stringify(next)} WHERE id = ${personId}`);
}

/**
 * The next sync refetches a person's details (tags, custom fields, subscriptions, orders) once
 * this is null: the local change is shown at once, and the API's own version of the person
 * (its updated_at, fields the write touched indirectly) replaces it at the next sync.
 */
async function detailsDue(store: Store, personId: string): Promise<void> {
  await store.run(sql`UPDATE people SET details_synced_at = NULL WHERE id = ${personId}`);
}

async function provisionalMessage(store: Store, channelId: string, text: string | null, raw: Obj, ctx: ReflectContext): Promise<void> {
  // The send answer is `data: {}` (docs 3 and 5): no message id. The row gets a provisional id; the
  // next sync of the channel sees one message more than the API counts, re-reads the channel in
  // full and replaces it with the real message. `read` is bound, not a literal: a 0/1 flag on
  // SQLite, a boolean on PostgreSQL (which takes '1' for true but not the integer 1).
  await store.run(
    sql`INSERT INTO chat_messages (id, channel_id, text, type, read, created_at, updated_at, created_by, raw, synced_at)
        VALUES (${`${PROVISIONAL_MESSAGE_PREFIX}${ctx.outboxId}`}, ${channelId}, ${text}, 'YOUR_MESSAGE', ${1}, ${ctx.at}, ${ctx.at}, NULL,
          ${rawFor(store, { provisional: true, outbox_id: ctx.outboxId, ...raw })}, ${ctx.at})
        ON CONFLICT DO NOTHING`,
  );
}

/** Changes the mirror as the next sync would after `w` succeeded; run inside the attempt's transaction (finishAttempt). */
export async function reflectWrite(store: Store, w: NormalizedWrite, response: unknown, ctx: ReflectContext): Promise<void> {
  switch (w.kind) {
    case 'add-tag':
    case 'remove-tag':
      if (!(await exists(store, 'people', w.target))) return;
      // A tag newer than the mirror has no name here: the details fetch brings it.
      if (w.payload.tag_name !== null) await setTag(store, w.target, w.payload.tag_name, w.kind === 'add-tag', ctx.at);
      await detailsDue(store, w.target);
      return;
    case 'update-person': {
      const p = w.payload;
      if (!(await exists(store, 'people', w.target))) return;
      await store.run(sql`UPDATE people SET phone = coalesce(${p.phone ?? null}, phone), email = coalesce(${p.email ?? null}, email) WHERE id = ${w.target}`);
      // The API merges custom fields by name (a known name is replaced, a new one appended).
      for (const cf of p.custom_fields ?? []) {
        const changed = await store.run(sql`UPDATE custom_fields SET type = ${cf.type}, value = ${cf.value} WHERE person_id = ${w.target} AND name = ${cf.name}`);
        if (changed === 0) {
          await store.run(
            sql`INSERT INTO custom_fields (person_id, ordinal, name, type, value)
                VALUES (${w.target}, (SELECT coalesce(max(ordinal) + 1, 0) FROM custom_fields WHERE person_id = ${w.target}), ${cf.name}, ${cf.type}, ${cf.value})`,
          );
        }
      }
      await detailsDue(store, w.target);
      return;
    }
    case 'update-order': {
      const p = w.payload;
      await store.run(
        sql`UPDATE orders SET status = ${p.status}, price = coalesce(${p.price ?? null}, price), currency = coalesce(${p.currency ?? null}, currency) WHERE id = ${w.target}`,
      );
      if (await exists(store, 'orders', w.target, true)) await historyOf(store).recordOrderStatus(w.target, p.status, ctx.at);
      // The person's details include their orders.
      const owner = await store.get<{ personId: string | null }>(sql`SELECT person_id AS "personId" FROM orders WHERE id = ${w.target}`);
      if (owner?.personId) await detailsDue(store, owner.personId);
      return;
    }
    case 'create-order': {
      // The answer: {id, title, price, currency, status, createdAt, updatedAt} (docs 9).
      const o = obj(response);
      if (typeof o.id !== 'string') return;
      const created = await store.run(
        sql`INSERT INTO orders (id, person_id, title, price, currency, status, payment_method, created_at, updated_at, raw, synced_at, details_synced_at)
            VALUES (${o.id}, ${w.target}, ${str(o.title)}, ${num(o.price)}, ${str(o.currency)}, ${str(o.status)}, 'MANUAL', ${normalizeTimestamp(o.createdAt)}, ${normalizeTimestamp(o.updatedAt)},
              ${rawFor(store, o)}, ${ctx.at}, NULL)
            ON CONFLICT DO NOTHING`,
      );
      if (created > 0) await historyOf(store).recordOrderStatus(o.id, str(o.status), ctx.at);
      await detailsDue(store, w.target);
      return;
    }
    case 'create-person': {
      // The answer is the new channel: `id` the channel, `person_id` the person (docs 16).
      const c = obj(response);
      if (typeof c.id !== 'string' || typeof c.person_id !== 'string') return;
      await store.run(
        sql`INSERT INTO people (id, name, email, phone, tags, created_at, updated_at, raw, synced_at, details_synced_at)
            VALUES (${c.person_id}, ${str(c.name)}, ${str(c.email)}, ${str(c.phone)}, '[]', ${normalizeTimestamp(c.createdAt)}, ${normalizeTimestamp(c.updatedAt)}, ${rawFor(store, c)}, ${ctx.at}, NULL)
            ON CONFLICT DO NOTHING`,
      );
      await store.run(
        sql`INSERT INTO communication_channels (id, person_id, name, source, bot_status, created_at, connection_status, synced_at)
            VALUES (${c.id}, ${c.person_id}, ${str(c.name)}, ${str(c.from)}, ${str(c.botStatus)}, ${normalizeTimestamp(c.createdAt)}, ${str(c.connectionStatus)}, ${ctx.at})
            ON CONFLICT DO NOTHING`,
      );
      return;
    }
    case 'send-message':
      await provisionalMessage(store, w.target, w.payload.text, {}, ctx);
      return;
    case 'send-template':
      // The text is the template's with variables filled in by the server; the mirror lists templates without text.
      await provisionalMessage(store, w.target, null, { template_id: w.payload.template_id, variables: w.payload.variables ?? {} }, ctx);
      return;
    case 'manual-subscribe': {
      const row = await store.get<{ personId: string | null }>(sql`SELECT person_id AS "personId" FROM communication_channels WHERE id = ${w.target}`);
      if (row?.personId) await detailsDue(store, row.personId);
      return;
    }
    case 'add-comment':
    case 'add-sms-connection':
    case 'create-traffic-source':
      // Comments and traffic sources are not mirrored; SMS contacts arrive with the next people sync.
      return;
  }
}
