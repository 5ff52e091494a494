import { sql } from 'drizzle-orm';
import { ApiError } from '../../errors.js';
import { customFields, people, personContactedUsers, personTags, subscriptions } from '../../db/schema.js';
import type { Mirror } from '../../db/connection.js';
import type { Page } from '../../leeloo/paginate.js';
import { ChildReplacer, EntityUpserter, ph } from '../../db/upsert.js';
import type { StreamDef, SyncContext } from '../context.js';
import { CommitBatcher } from '../batch.js';
import { answers, SoftDeletes, stillListed, undeleter } from '../deletions.js';
import { drainDue } from '../due.js';
import { firstPage } from '../kinds.js';
import { array, asItem, json, rawJson, str, ts, type Item } from '../map.js';
import { lookupFilter } from '../dateguard.js';
import { markOldestDetailsDue, reconcileList } from '../reconcile.js';
import { readUnreachable } from '../unreachable.js';
import { runWindowed, type Window, type WindowSpec } from '../windowed.js';

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
  readonly lastMessageTime;
  private readonly undelete;

  constructor(
    readonly m: Mirror,
    ctx: SyncContext,
    private readonly dels: SoftDeletes,
  ) {
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
        deletedAt: null,
      })
      .where(sql`${people.id} = ${sql.placeholder('id')} AND ${people.raw} = ${sql.placeholder('raw')}`)
      .prepare();
    this.due = m.sqlite.prepare('SELECT id, raw FROM people WHERE details_synced_at IS NULL AND deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?');
    this.lastMessageTime = m.sqlite.prepare('SELECT last_message_time FROM people WHERE id = ?').pluck();
    // Back after being marked deleted: its details may have changed while it was gone.
    this.undelete = undeleter(ctx, 'people', 'details_synced_at = NULL');
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
      this.dels.listed(id);
      if (this.undelete(id) > 0) r.updated++;
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
    const dels = new SoftDeletes(ctx, s, 'people', 'person detail');
    const w = new PeopleWriter(ctx.mirror, ctx, dels);
    const batch = new CommitBatcher(ctx.mirror.sqlite);
    if (ctx.full) ctx.mirror.sqlite.prepare('UPDATE people SET details_synced_at = NULL WHERE details_synced_at IS NOT NULL').run();
    if (ctx.reconcile) {
      const n = markOldestDetailsDue(ctx);
      s.log.info({ refresh: n, share: ctx.env.SYNC_RECONCILE_DETAIL_SHARE }, 'reconcile: re-reading the oldest person details');
    }
    // Windows of the walk carry the filter chosen for the server; look-ups (reconcile's movers
    // read, a deletion's second look) get one as wide as the date findings require.
    const pages = (win: { from: Date; to: Date; filter?: Window['filter'] }, offset = 0, limit = ctx.env.LEELOO_PAGE_SIZE) =>
      ctx.client.peoplePages(win.filter ?? lookupFilter(ctx, win.from, win.to), { startOffset: offset, pageSize: limit, signal: ctx.signal }) as AsyncGenerator<Page<Item>>;
    const spec: WindowSpec<Item> = {
      fetchPage: (win, offset, limit) => firstPage(pages(win, offset, limit), offset),
      idOf: (p) => String(p.id),
      writePage: (items) => w.writeListPage(items),
    };
    const listing = (async () => {
      await runWindowed<Item>(ctx, s, spec);
      if (ctx.reconcile || ctx.full) await readUnreachable(ctx, s, (items) => w.writeListPage(items));
      if (ctx.reconcile) await reconcileList<Item>(ctx, s, spec, (win) => pages(win), dels, (id) => answers(s, () => ctx.client.getPerson(id, [], { signal: ctx.signal })));
    })();
    // Answered 404 this run: not asked again before the stream ends (they stay due for the next run).
    const notFound = new Set<string>();
    await drainDue(
      ctx,
      s,
      {
        selectDue: (limit, after) => {
          if (dels.tripped) return [];
          for (;;) {
            const rows = w.due.all(after, limit) as { id: string; raw: string }[];
            const keep = rows.filter((r) => !notFound.has(r.id));
            if (keep.length > 0 || rows.length === 0) return keep;
            after = rows[rows.length - 1]!.id;
          }
        },
        keyOf: (r) => r.id,
        countDue: () => (ctx.mirror.sqlite.prepare('SELECT count(*) AS n FROM people WHERE details_synced_at IS NULL AND deleted_at IS NULL').get() as { n: number }).n,
        process: async ({ id, raw }) => {
          if (dels.tripped) return;
          let detail: Item;
          dels.read();
          try {
            detail = asItem((await s.call(() => ctx.client.getPerson(id, undefined, { signal: ctx.signal }))).person);
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 404)) throw err;
            // The docs define no error for an unknown id: a 404 may be a deletion or a routing or
            // permission problem. It counts toward the breaker and needs a second look.
            notFound.add(id);
            if (!dels.answeredNotFound()) return;
            const listed = await stillListed(s, w.lastMessageTime.get(id) as string | null, id, pages);
            if (listed === false) {
              dels.stage(id, 'detail 404 and not listed around its last message time');
              s.log.info({ personId: id }, 'person detail answered 404 and the list no longer has the person; marking it deleted at the end of the stream');
            } else {
              s.log.warn({ personId: id, listed }, 'person detail answered 404 but the person is not confirmed gone; details left due');
            }
            return;
          }
          const applied = await batch.run(() => w.writeDetail(id, raw, detail));
          if (applied) s.counters.rowsUpdated++;
        },
      },
      listing,
    );
    dels.apply();
  },
};

export default stream;
