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
import type Database from 'better-sqlite3';
import { historyOf } from '../db/history.js';
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

function personExists(db: Database.Database, id: string): boolean {
  return db.prepare('SELECT 1 FROM people WHERE id = ?').get(id) !== undefined;
}

/** Keeps people.tags (the JSON list of names) and person_tag_history in step with person_tags. */
function setTag(db: Database.Database, personId: string, name: string, present: boolean, at: string): void {
  if (present) db.prepare('INSERT OR IGNORE INTO person_tags (person_id, tag) VALUES (?, ?)').run(personId, name);
  else db.prepare('DELETE FROM person_tags WHERE person_id = ? AND tag = ?').run(personId, name);
  if (db.prepare('SELECT 1 FROM people WHERE id = ? AND deleted_at IS NULL').get(personId) !== undefined) {
    const tags = db.prepare('SELECT tag FROM person_tags WHERE person_id = ?').pluck().all(personId) as string[];
    historyOf(db).recordPersonTags(personId, tags, at);
  }
  const row = db.prepare('SELECT tags FROM people WHERE id = ?').get(personId) as { tags: string | null } | undefined;
  if (!row) return;
  let list: unknown[] = [];
  try {
    const parsed: unknown = row.tags ? JSON.parse(row.tags) : [];
    if (Array.isArray(parsed)) list = parsed;
  } catch {
    // a malformed list is replaced
  }
  const next = present ? (list.includes(name) ? list : [...list, name]) : list.filter((t) => t !== name);
  if (next !== list) db.prepare('UPDATE people SET tags = ? WHERE id = ?').run(JSON.stringify(next), personId);
}

/**
 * The next sync refetches a person's details (tags, custom fields, subscriptions, orders) once
 * this is null: the local change is shown at once, and the API's own version of the person
 * (its updated_at, fields the write touched indirectly) replaces it at the next sync.
 */
function detailsDue(db: Database.Database, personId: string): void {
  db.prepare('UPDATE people SET details_synced_at = NULL WHERE id = ?').run(personId);
}

function provisionalMessage(db: Database.Database, channelId: string, text: string | null, raw: Obj, ctx: ReflectContext): void {
  // The send answer is `data: {}` (docs 3 and 5): no message id. The row gets a provisional id; the
  // next sync of the channel sees one message more than the API counts, re-reads the channel in
  // full and replaces it with the real message.
  db.prepare(
    `INSERT OR IGNORE INTO chat_messages (id, channel_id, text, type, read, created_at, updated_at, created_by, raw, synced_at)
     VALUES (?, ?, ?, 'YOUR_MESSAGE', 1, ?, ?, NULL, ?, ?)`,
  ).run(`${PROVISIONAL_MESSAGE_PREFIX}${ctx.outboxId}`, channelId, text, ctx.at, ctx.at, JSON.stringify({ provisional: true, outbox_id: ctx.outboxId, ...raw }), ctx.at);
}

export function reflectWrite(db: Database.Database, w: NormalizedWrite, response: unknown, ctx: ReflectContext): void {
  switch (w.kind) {
    case 'add-tag':
    case 'remove-tag':
      if (!personExists(db, w.target)) return;
      // A tag newer than the mirror has no name here: the details fetch brings it.
      if (w.payload.tag_name !== null) setTag(db, w.target, w.payload.tag_name, w.kind === 'add-tag', ctx.at);
      detailsDue(db, w.target);
      return;
    case 'update-person': {
      const p = w.payload;
      if (!personExists(db, w.target)) return;
      db.prepare('UPDATE people SET phone = coalesce(?, phone), email = coalesce(?, email) WHERE id = ?').run(p.phone ?? null, p.email ?? null, w.target);
      // The API merges custom fields by name (a known name is replaced, a new one appended).
      for (const cf of p.custom_fields ?? []) {
        const changed = db.prepare('UPDATE custom_fields SET type = ?, value = ? WHERE person_id = ? AND name = ?').run(cf.type, cf.value, w.target, cf.name).changes;
        if (changed === 0) {
          db.prepare(
            'INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, (SELECT coalesce(max(ordinal) + 1, 0) FROM custom_fields WHERE person_id = ?), ?, ?, ?)',
          ).run(w.target, w.target, cf.name, cf.type, cf.value);
        }
      }
      detailsDue(db, w.target);
      return;
    }
    case 'update-order': {
      const p = w.payload;
      db.prepare('UPDATE orders SET status = ?, price = coalesce(?, price), currency = coalesce(?, currency) WHERE id = ?').run(
        p.status,
        p.price ?? null,
        p.currency ?? null,
        w.target,
      );
      if (db.prepare('SELECT 1 FROM orders WHERE id = ? AND deleted_at IS NULL').get(w.target) !== undefined) historyOf(db).recordOrderStatus(w.target, p.status, ctx.at);
      // The person's details include their orders.
      const owner = db.prepare('SELECT person_id AS personId FROM orders WHERE id = ?').get(w.target) as { personId: string | null } | undefined;
      if (owner?.personId) detailsDue(db, owner.personId);
      return;
    }
    case 'create-order': {
      // The answer: {id, title, price, currency, status, createdAt, updatedAt} (docs 9).
      const o = obj(response);
      if (typeof o.id !== 'string') return;
      const created = db.prepare(
        `INSERT OR IGNORE INTO orders (id, person_id, title, price, currency, status, payment_method, created_at, updated_at, raw, synced_at, details_synced_at)
         VALUES (?, ?, ?, ?, ?, ?, 'MANUAL', ?, ?, ?, ?, NULL)`,
      ).run(o.id, w.target, str(o.title), num(o.price), str(o.currency), str(o.status), str(o.createdAt), str(o.updatedAt), JSON.stringify(o), ctx.at).changes;
      if (created > 0) historyOf(db).recordOrderStatus(o.id, str(o.status), ctx.at);
      detailsDue(db, w.target);
      return;
    }
    case 'create-person': {
      // The answer is the new channel: `id` the channel, `person_id` the person (docs 16).
      const c = obj(response);
      if (typeof c.id !== 'string' || typeof c.person_id !== 'string') return;
      db.prepare(
        `INSERT OR IGNORE INTO people (id, name, email, phone, tags, created_at, updated_at, raw, synced_at, details_synced_at)
         VALUES (?, ?, ?, ?, '[]', ?, ?, ?, ?, NULL)`,
      ).run(c.person_id, str(c.name), str(c.email), str(c.phone), str(c.createdAt), str(c.updatedAt), JSON.stringify(c), ctx.at);
      db.prepare(
        `INSERT OR IGNORE INTO communication_channels (id, person_id, name, source, bot_status, created_at, connection_status, synced_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(c.id, c.person_id, str(c.name), str(c.from), str(c.botStatus), str(c.createdAt), str(c.connectionStatus), ctx.at);
      return;
    }
    case 'send-message':
      provisionalMessage(db, w.target, w.payload.text, {}, ctx);
      return;
    case 'send-template':
      // The text is the template's with variables filled in by the server; the mirror lists templates without text.
      provisionalMessage(db, w.target, null, { template_id: w.payload.template_id, variables: w.payload.variables ?? {} }, ctx);
      return;
    case 'manual-subscribe': {
      const row = db.prepare('SELECT person_id AS personId FROM communication_channels WHERE id = ?').get(w.target) as { personId: string | null } | undefined;
      if (row?.personId) detailsDue(db, row.personId);
      return;
    }
    case 'add-comment':
    case 'add-sms-connection':
    case 'create-traffic-source':
      // Comments and traffic sources are not mirrored; SMS contacts arrive with the next people sync.
      return;
  }
}
