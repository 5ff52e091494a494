import { sql } from 'drizzle-orm';
import { ApiError } from '../../errors.js';
import { customFields, people, personContactedUsers, personTags, subscriptions } from '../../db/schema.js';
import type { Mirror } from '../../db/connection.js';
import { ChildReplacer, EntityUpserter, ph } from '../../db/upsert.js';
import type { StreamDef } from '../context.js';
import { CommitBatcher } from '../batch.js';
import { drainDue } from '../due.js';
import { firstPage } from '../kinds.js';
import { array, asItem, json, rawJson, str, ts, type Item } from '../map.js';
import { readUnreachable } from '../unreachable.js';
import { runWindowed } from '../windowed.js';

/** Prepared statements for the people stream, built once per run. */
class PeopleWriter {
  readonly list: EntityUpserter;
  readonly tags: ChildReplacer;
  readonly fields: ChildReplacer;
  readonly subs: ChildReplacer;
  readonly contacted: ChildReplacer;
  private readonly channelStub;
  private readonly detail;
  readonly due;
  readonly remove;

  constructor(readonly m: Mirror) {
    const db = m.db;
    this.list = new EntityUpserter(db, people, {
      columns: ['id', 'name', 'email', 'phone', 'tags', 'lastMessageTime', 'raw', 'syncedAt'],
      // A changed list item (new message, tags, contact data) makes its details due again.
      onChange: { detailsSyncedAt: null },
    });
    this.tags = new ChildReplacer(db, personTags, 'personId', ['personId', 'tag']);
    this.fields = new ChildReplacer(db, customFields, 'personId', ['personId', 'ordinal', 'name', 'type', 'value']);
    this.subs = new ChildReplacer(db, subscriptions, 'personId', [
      'personId',
      'ordinal',
      'tunnelId',
      'tunnelName',
      'leadgentoolId',
      'leadgentoolName',
      'trafficSourceId',
      'trafficSource',
      'accountId',
      'raw',
    ]);
    this.contacted = new ChildReplacer(db, personContactedUsers, 'personId', ['personId', 'userId']);
    // A person's `accounts` carry connection_id/connection_status, which the channel list lacks.
    // Only those columns are written here; the channel stream owns the rest of the row.
    this.channelStub = m.sqlite.prepare(
      `INSERT INTO communication_channels (id, person_id, source, connection_id, connection_status, synced_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, connection_id = excluded.connection_id, connection_status = excluded.connection_status,
         source = coalesce(communication_channels.source, excluded.source)
       WHERE communication_channels.person_id IS NOT excluded.person_id OR communication_channels.connection_id IS NOT excluded.connection_id
         OR communication_channels.connection_status IS NOT excluded.connection_status`,
    );
    // Applied only if the list item is still the one we fetched details for; otherwise the person
    // changed meanwhile, stays due and is fetched again.
    this.detail = db
      .update(people)
      .set({
        name: ph('name'),
        email: ph('email'),
        phone: ph('phone'),
        gender: ph('gender'),
        locale: ph('locale'),
        profileImage: ph('profileImage'),
        createdAt: ph('createdAt'),
        updatedAt: ph('updatedAt'),
        detailRaw: ph('detailRaw'),
        detailsSyncedAt: ph('detailsSyncedAt'),
      })
      .where(sql`${people.id} = ${sql.placeholder('id')} AND ${people.raw} = ${sql.placeholder('raw')}`)
      .prepare();
    this.due = m.sqlite.prepare('SELECT id, raw FROM people WHERE details_synced_at IS NULL AND id > ? ORDER BY id LIMIT ?');
    const deletes = ['people', 'person_tags', 'custom_fields', 'subscriptions', 'person_contacted_users'].map((t) =>
      m.sqlite.prepare(`DELETE FROM ${t} WHERE ${t === 'people' ? 'id' : 'person_id'} = ?`),
    );
    this.remove = m.sqlite.transaction((id: string) => {
      for (const d of deletes) d.run(id);
    });
  }

  writeListPage(items: Item[]): { inserted: number; updated: number } {
    const now = new Date().toISOString();
    const rows = items.map((p) => ({
      id: p.id,
      name: str(p.name),
      email: str(p.email),
      phone: str(p.phone),
      tags: json(array(p.tags)),
      lastMessageTime: ts(p.lastMessageTime),
      raw: rawJson(p),
      syncedAt: now,
    }));
    const r = this.list.upsert(rows);
    for (const p of items) {
      const id = String(p.id);
      this.tags.replace(id, tagRows(p.tags));
      for (const a of array(p.accounts).map(asItem)) {
        if (typeof a.account_id !== 'string') continue;
        this.channelStub.run(a.account_id, id, str(a.from), str(a.connection_id), str(a.connection_status), now);
      }
    }
    return r;
  }

  /** Returns false when the person changed since `raw` was read (details stay due). */
  writeDetail(id: string, raw: string, d: Item): boolean {
    const applied = this.detail.run({
      id,
      raw,
      name: str(d.name),
      email: str(d.email),
      phone: str(d.phone),
      gender: str(d.gender),
      locale: str(d.locale),
      profileImage: str(d.profileImage),
      createdAt: ts(d.created_at ?? d.createdAt),
      updatedAt: ts(d.updated_at ?? d.updatedAt),
      detailRaw: rawJson(d),
      detailsSyncedAt: new Date().toISOString(),
    }).changes;
    if (!applied) return false;
    if (Array.isArray(d.tags)) this.tags.replace(id, tagRows(d.tags));
    this.fields.replace(
      id,
      customFieldRows(d.custom_fields),
    );
    this.subs.replace(
      id,
      array(d.subscribeHistory).map((h, ordinal) => {
        const s = asItem(h);
        return {
          ordinal,
          tunnelId: str(s.tunnelId),
          tunnelName: str(s.tunnelName),
          leadgentoolId: str(s.leadgentoolId),
          leadgentoolName: str(s.leadgentoolName),
          trafficSourceId: str(s.trafficSourceId),
          trafficSource: str(s.trafficSource),
          accountId: str(s.accountId),
          raw: rawJson(h),
        };
      }),
    );
    const links = asItem(d.links);
    const users = new Set(array(links.contactedUsers).map((u) => str(asItem(u).id)).filter((u): u is string => u !== null));
    this.contacted.replace(id, [...users].map((userId) => ({ userId })));
    return true;
  }
}

function tagRows(tags: unknown): { tag: string }[] {
  return [...new Set(array(tags).filter((t): t is string => typeof t === 'string'))].map((tag) => ({ tag }));
}

/** custom_fields is a list of {type, name, value} in v2 (and an object name → value in v1). */
function customFieldRows(v: unknown) {
  const list = Array.isArray(v)
    ? v.map(asItem)
    : v && typeof v === 'object'
      ? Object.entries(v as Item).map(([name, value]) => ({ name, value, type: null }))
      : [];
  return list.map((f, ordinal) => ({
    ordinal,
    name: String(f.name ?? ''),
    type: str(f.type),
    value: f.value === null || f.value === undefined ? null : typeof f.value === 'string' ? f.value : JSON.stringify(f.value),
  }));
}

const stream: StreamDef = {
  name: 'people',
  description:
    'People by last_message windows (GET /people), with person_tags; details (GET /people/{id}) for new or changed people fill custom_fields, subscriptions and person_contacted_users.',
  async run(ctx, s) {
    const w = new PeopleWriter(ctx.mirror);
    const batch = new CommitBatcher(ctx.mirror.sqlite);
    if (ctx.full) ctx.mirror.sqlite.prepare('UPDATE people SET details_synced_at = NULL WHERE details_synced_at IS NOT NULL').run();
    const listing = runWindowed<Item>(ctx, s, {
      fetchPage: (win, offset, limit) =>
        firstPage(ctx.client.peoplePages(win.filter, { startOffset: offset, pageSize: limit, signal: ctx.signal }), offset) as never,
      idOf: (p) => String(p.id),
      writePage: (items) => w.writeListPage(items),
    }).then(() => (ctx.reconcile || ctx.full ? readUnreachable(ctx, s, (items) => w.writeListPage(items)) : undefined));
    await drainDue(
      ctx,
      s,
      {
        selectDue: (limit, after) => w.due.all(after, limit) as { id: string; raw: string }[],
        keyOf: (r) => r.id,
        countDue: () => (ctx.mirror.sqlite.prepare('SELECT count(*) AS n FROM people WHERE details_synced_at IS NULL').get() as { n: number }).n,
        process: async ({ id, raw }) => {
          let detail: Item;
          try {
            detail = asItem((await s.call(() => ctx.client.getPerson(id, undefined, { signal: ctx.signal }))).person);
          } catch (err) {
            // Listed a moment ago, gone now: the person was deleted in Leeloo.
            if (err instanceof ApiError && err.status === 404) {
              await batch.run(() => w.remove(id));
              s.log.info({ personId: id }, 'person no longer exists; removed from the mirror');
              return;
            }
            throw err;
          }
          const applied = await batch.run(() => w.writeDetail(id, raw, detail));
          if (applied) s.counters.rowsUpdated++;
        },
      },
      listing,
    );
  },
};

export default stream;
