import { backfillHistory, StoreHistory } from '../../db/history.js';
import { customFields, people, personContactedUsers, personTags, subscriptions } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { PersonDetail, PersonListItem } from '../../leeloo/schemas.js';
import type { SyncContext } from '../context.js';
import { listWithDetails } from '../list-details.js';
import { array, json, rawJson, str, ts } from '../map.js';
import { markOldestDetailsDue } from '../reconcile.js';
import { channelStubWriter } from './channel-stubs.js';
import { readUnreachable } from '../unreachable.js';

export const toPersonRow = (p: PersonListItem, syncedAt: string): InsertRow<typeof people> => ({
  id: p.id,
  name: str(p.name),
  email: str(p.email),
  phone: str(p.phone),
  tags: json(array(p.tags)),
  lastMessageTime: ts(p.lastMessageTime),
  raw: rawJson(p),
  syncedAt,
});

/** Person details use snake_case timestamps, list items camelCase (leeloo-api.md). */
export const toPersonDetailRow = (d: PersonDetail, syncedAt: string): Partial<InsertRow<typeof people>> => ({
  name: str(d.name),
  email: str(d.email),
  phone: str(d.phone),
  gender: str(d.gender),
  locale: str(d.locale),
  profileImage: str(d.profileImage),
  createdAt: ts(d.created_at ?? d.createdAt),
  updatedAt: ts(d.updated_at ?? d.updatedAt),
  detailRaw: rawJson(d),
  detailsSyncedAt: syncedAt,
  deletedAt: null,
});

const tagNames = (tags: readonly unknown[] | null | undefined) => [...new Set(array(tags).filter((t): t is string => typeof t === 'string'))];
const tagRows = (names: readonly string[]) => names.map((tag) => ({ tag }));

/** custom_fields is a list of {type, name, value} in v2 (and an object name → value in v1). */
export function customFieldRows(v: PersonDetail['custom_fields']) {
  const list = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.entries(v).map(([name, value]) => ({ name, value, type: null })) : [];
  return list.map((f, ordinal) => ({
    ordinal,
    name: String(f.name ?? ''),
    type: str(f.type),
    value: f.value === null || f.value === undefined ? null : typeof f.value === 'string' ? f.value : JSON.stringify(f.value),
  }));
}

const subscriptionRows = (d: PersonDetail) =>
  array(d.subscribeHistory).map((h, ordinal) => ({
    ordinal,
    tunnelId: str(h.tunnelId),
    tunnelName: str(h.tunnelName),
    leadgentoolId: str(h.leadgentoolId),
    leadgentoolName: str(h.leadgentoolName),
    trafficSourceId: str(h.trafficSourceId),
    trafficSource: str(h.trafficSource),
    accountId: str(h.accountId),
    raw: rawJson(h),
  }));

const contactedRows = (d: PersonDetail) => [...new Set(array(d.links?.contactedUsers).map((u) => str(u.id)).filter((u): u is string => u !== null))].map((userId) => ({ userId }));

/** Statements of a run: the person's child tables and its channels' stubs. */
async function setup(ctx: SyncContext) {
  const { store } = ctx;
  await backfillHistory(store, 'people');
  return {
    history: new StoreHistory(store),
    tags: store.children(personTags, 'personId'),
    fields: store.children(customFields, 'personId'),
    subs: store.children(subscriptions, 'personId'),
    contacted: store.children(personContactedUsers, 'personId'),
    channelStubs: channelStubWriter(store),
  };
}

export default listWithDetails({
  name: 'people',
  description:
    'People by last_message windows (GET /people), with person_tags; details (GET /people/{id}) for new or changed people fill custom_fields, subscriptions and person_contacted_users.',
  table: people,
  noun: 'person',
  list: {
    kind: 'windows',
    page: (c, f, req) => c.peoplePage(f, req),
    exists: (c, id, signal) => c.getPerson(id, [], { signal }),
    afterWalk: (ctx, s, write) => (ctx.reconcile || ctx.full ? readUnreachable(ctx, s, write) : Promise.resolve()),
  },
  setup,
  toListRow: toPersonRow,
  // A listed person's tags here, not per row: their names serve both person_tags and the page's history.
  async afterListPage(w, items, syncedAt) {
    const tagged = items.map((p) => ({ personId: p.id, tags: tagNames(p.tags) }));
    for (const t of tagged) await w.tags.replace(t.personId, tagRows(t.tags));
    await w.history.recordPersonTagsOfPage(tagged, syncedAt);
    await w.channelStubs(
      items.flatMap((p) =>
        array(p.accounts).map((a) => ({ id: a.account_id, personId: p.id, source: str(a.from), connectionId: str(a.connection_id), connectionStatus: str(a.connection_status), syncedAt })),
      ),
    );
  },
  detail: async (c, id, signal) => (await c.getPerson(id, undefined, { signal })).person,
  toDetailRow: toPersonDetailRow,
  async afterDetail(w, id, d) {
    if (Array.isArray(d.tags)) {
      const names = tagNames(d.tags);
      await w.tags.replace(id, tagRows(names));
      await w.history.recordPersonTags(id, names, new Date().toISOString());
    }
    await w.fields.replace(id, customFieldRows(d.custom_fields));
    await w.subs.replace(id, subscriptionRows(d));
    await w.contacted.replace(id, contactedRows(d));
  },
  afterDelete: (w, id, at) => w.history.closePerson(id, at),
  onMissing: 'confirm',
  async beforeList(ctx, s) {
    if (!ctx.reconcile) return;
    const n = await markOldestDetailsDue(ctx);
    s.log.info({ refresh: n, share: ctx.env.SYNC_RECONCILE_DETAIL_SHARE }, 'reconcile: re-reading the oldest person details');
  },
});
