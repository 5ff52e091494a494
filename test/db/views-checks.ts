import { sql, type SQL } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Mirror } from '../../src/db/connection.js';
import { refreshDerivedViews } from '../../src/db/views.js';
import { ROLLUPS, WIDE_VIEW, wideColumns } from '../../src/db/wide-view.js';
import type { Simulator } from '../../src/sim/index.js';
import { sqliteReader } from '../helpers/copy-to-pg.js';
import { failures, syncWith } from '../helpers/mirror.js';
import { readReportData, rollupsRefreshedAt, type ReportReader } from '../../src/reports/data.js';

/*
 * The analyst views' checks, shared by both backends (views.test.ts on SQLite, views-pg.test.ts on
 * PostgreSQL): every view equals a reference computed here in TypeScript from the raw base rows
 * (written independently of the view SQL), on a simulated company with soft-deleted people,
 * channels, messages and orders present.
 */

export interface P { id: string; name: string | null; email: string | null; phone: string | null; created_at: string | null; deleted_at: string | null }
export interface Ch { id: string; person_id: string | null; name: string | null; source: string | null; created_at: string | null; deleted_at: string | null }
export interface M { id: string; channel_id: string; type: string | null; created_at: string | null; deleted_at: string | null }
export interface O { id: string; person_id: string | null; price: number | null; currency: string | null; status: string | null; detail_raw: string | null; created_at: string | null; deleted_at: string | null }
export interface CF { person_id: string; ordinal: number; name: string; value: string | null }
export interface PT { person_id: string; tag: string }

// The documented mapping (docs/schema.md, orders_current), written out as a table.
const NORMALISED: Record<string, string> = {
  OPENED: 'open', ORDER: 'open', PENDING: 'open',
  RESOLVED: 'paid', SUCCESS: 'paid',
  FAILED: 'failed', REFUNDED: 'refunded', REJECTED: 'cancelled',
};
function normalise(o: O): string {
  const s = o.status ?? (o.detail_raw ? (JSON.parse(o.detail_raw) as { status?: string }).status ?? null : null);
  return (s && NORMALISED[s.toUpperCase()]) ?? 'other';
}
const dayOf = (ts: string) => new Date(ts).toISOString().slice(0, 10);
const round = (n: number) => Math.round(n * 1e6) / 1e6;
const byKey = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
function count<K>(map: Map<K, number>, k: K, n = 1) {
  map.set(k, (map.get(k) ?? 0) + n);
}


/** The base rows the references are computed from; the queries are portable SQL. */
export interface Base { people: P[]; channels: Ch[]; messages: M[]; orders: O[]; fields: CF[]; tags: PT[] }
export async function readBase(read: <T>(q: string) => Promise<T[]>): Promise<Base> {
  return {
    people: await read<P>('SELECT id, name, email, phone, created_at, deleted_at FROM people'),
    channels: await read<Ch>('SELECT id, person_id, name, source, created_at, deleted_at FROM communication_channels'),
    messages: await read<M>('SELECT id, channel_id, type, created_at, deleted_at FROM chat_messages'),
    orders: await read<O>('SELECT id, person_id, price, currency, status, detail_raw, created_at, deleted_at FROM orders'),
    fields: await read<CF>('SELECT person_id, ordinal, name, value FROM custom_fields'),
    tags: await read<PT>('SELECT person_id, tag FROM person_tags'),
  };
}

/** What a backend's test gives the shared checks; set in its beforeAll. */
export interface ViewsFixture {
  base: Base;
  store: ReportReader;
  /** Runs portable SQL text and returns its rows. */
  read<T>(q: string): Promise<T[]>;
  /** Runs a statement that returns no rows. */
  exec(q: SQL): Promise<void>;
  /** The backend's refreshDerivedViews; whether the wide view was rebuilt. */
  refresh(): Promise<{ wideView: boolean }>;
  /** The wide view's column names, in order. */
  wideViewColumns(): Promise<string[]>;
}

const live = <T extends { deleted_at: string | null }>(rows: T[]) => rows.filter((r) => r.deleted_at === null);

/**
 * A SQLite mirror of a simulated company, synced, reconciled after deletions, and given
 * soft-deleted rows of every kind, live children of deleted parents, and a duplicate custom-field
 * name. views-pg.test.ts copies the same mirror into PostgreSQL.
 */
export async function prepareViewsMirror(sim: Simulator, path: string): Promise<Mirror> {
  const first = await syncWith(sim, path);
  expect(failures(first.result)).toEqual([]);
  first.mirror.close();
  sim.silentEdits({ share: 0.2, kinds: ['customField', 'tag'] });
  const gone = sim.deletePeople({ share: 0.05 });
  expect(gone.personIds.length).toBeGreaterThan(5);
  const rec = await syncWith(sim, path, { reconcile: true, env: { SYNC_MAX_DELETE_SHARE: '0.3' } });
  expect(failures(rec.result)).toEqual([]);
  const s = rec.mirror.sqlite;
  expect(s.prepare('SELECT count(*) FROM people WHERE deleted_at IS NOT NULL').pluck().get()).toBe(gone.personIds.length);
  s.prepare("UPDATE orders SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 9 = 0").run();
  s.prepare("UPDATE chat_messages SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 13 = 0").run();
  s.prepare("UPDATE communication_channels SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 17 = 0 AND deleted_at IS NULL").run();
  s.prepare("UPDATE orders SET status = NULL WHERE rowid % 11 = 0 AND detail_raw IS NOT NULL").run();
  const withField = s.prepare('SELECT cf.person_id, cf.name FROM custom_fields cf JOIN people p ON p.id = cf.person_id WHERE p.deleted_at IS NULL LIMIT 1').get() as { person_id: string; name: string };
  s.prepare("INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, 99, ?, 'KEYWORD', 'last wins')").run(withField.person_id, withField.name);
  s.prepare("INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, 98, ?, 'KEYWORD', 'not me')").run(withField.person_id, withField.name);
  refreshDerivedViews(rec.mirror);
  return rec.mirror;
}

/** The shared checks' access to a SQLite mirror. */
export function sqliteFixture(mirror: Pick<Mirror, 'sqlite'>): Omit<ViewsFixture, 'base'> {
  const { sqlite } = mirror;
  const store = sqliteReader(sqlite);
  return {
    store,
    read: async <T>(q: string) => sqlite.prepare(q).all() as T[],
    exec: async (q) => void (await store.run(q)),
    refresh: async () => ({ wideView: refreshDerivedViews(mirror).wideView }),
    wideViewColumns: async () => (sqlite.prepare(`PRAGMA table_info(${WIDE_VIEW})`).all() as { name: string }[]).map((c) => c.name),
  };
}

/** The checks, as `it` blocks of the calling describe; `fx` is filled in before they run. */
export function viewChecks(fx: ViewsFixture): void {
  it('orders_current: live orders, one normalised status, the live person\'s email and phone', async () => {
    const people = new Map(live(fx.base.people).map((p) => [p.id, p]));
    const expected = live(fx.base.orders).map((o) => ({
      id: o.id,
      status: normalise(o),
      day: o.created_at ? dayOf(o.created_at) : null,
      person_email: (o.person_id && people.get(o.person_id)?.email) ?? null,
      person_phone: (o.person_id && people.get(o.person_id)?.phone) ?? null,
    }));
    const got = await fx.read<(typeof expected)[number]>('SELECT id, status, day, person_email, person_phone FROM orders_current');
    expect(byKey(got, (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
    expect(new Set(got.map((r) => r.status)).size).toBeGreaterThan(3);
  });

  it('people_current: tags, custom fields (last ordinal wins), first channel, orders and revenue', async () => {
    const expected = live(fx.base.people).map((p) => {
      const fields: Record<string, { ordinal: number; value: string | null }> = {};
      for (const f of fx.base.fields.filter((f) => f.person_id === p.id)) if (!fields[f.name] || fields[f.name]!.ordinal < f.ordinal) fields[f.name] = f;
      const chans = live(fx.base.channels)
        .filter((c) => c.person_id === p.id)
        .sort((x, y) => (x.created_at === null ? 1 : 0) - (y.created_at === null ? 1 : 0) || (x.created_at ?? '').localeCompare(y.created_at ?? '') || (x.id < y.id ? -1 : 1));
      const orders = live(fx.base.orders).filter((o) => o.person_id === p.id);
      const paid = orders.filter((o) => normalise(o) === 'paid');
      const byCurrency: Record<string, number> = {};
      for (const o of paid) byCurrency[o.currency ?? ''] = round((byCurrency[o.currency ?? ''] ?? 0) + (o.price ?? 0));
      return {
        id: p.id,
        tags: fx.base.tags.filter((t) => t.person_id === p.id).map((t) => t.tag).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
        custom_fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.value])),
        first_channel_source: chans[0]?.source ?? null,
        channels: chans.length,
        orders: orders.length,
        revenue: round(paid.reduce((a, o) => a + (o.price ?? 0), 0)),
        revenue_by_currency: byCurrency,
      };
    });
    const got = (await fx.read<{ id: string; tags: string; custom_fields: string; first_channel_source: string | null; channels: number; orders: number; revenue: number; revenue_by_currency: string }>(
      'SELECT id, tags, custom_fields, first_channel_source, channels, orders, revenue, revenue_by_currency FROM people_current',
    )).map((r) => ({
      ...r,
      tags: JSON.parse(r.tags) as string[],
      custom_fields: JSON.parse(r.custom_fields) as Record<string, string>,
      revenue: round(r.revenue),
      revenue_by_currency: Object.fromEntries(Object.entries(JSON.parse(r.revenue_by_currency) as Record<string, number>).map(([k, v]) => [k, round(v)])),
    }));
    expect(byKey(got, (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
    expect(got.some((r) => r.tags.length > 0) && got.some((r) => Object.keys(r.custom_fields).length > 0) && got.some((r) => r.revenue > 0)).toBe(true);
    expect(got.map((r) => r.custom_fields)).toContainEqual(expect.objectContaining(Object.fromEntries([[fx.base.fields.find((f) => f.ordinal === 99)!.name, 'last wins']])));
  });

  it('channels_current: live channels with the live person\'s name and email', async () => {
    const people = new Map(live(fx.base.people).map((p) => [p.id, p]));
    const expected = live(fx.base.channels).map((c) => ({ id: c.id, source: c.source, person_name: (c.person_id && people.get(c.person_id)?.name) ?? null, person_email: (c.person_id && people.get(c.person_id)?.email) ?? null }));
    expect(byKey(await fx.read<(typeof expected)[number]>('SELECT id, source, person_name, person_email FROM channels_current'), (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
  });

  it('messages_daily: live messages of live channels per UTC day, source and type', async () => {
    const chans = new Map(live(fx.base.channels).map((c) => [c.id, c]));
    const msgs = new Map<string, number>();
    const distinct = new Map<string, Set<string>>();
    for (const m of live(fx.base.messages)) {
      const c = chans.get(m.channel_id);
      if (!c || !m.created_at) continue;
      const k = JSON.stringify([dayOf(m.created_at), c.source, m.type]);
      count(msgs, k);
      distinct.set(k, (distinct.get(k) ?? new Set()).add(m.channel_id));
    }
    const expected = [...msgs].map(([k, n]) => ({ k, messages: n, channels: distinct.get(k)!.size }));
    const got = (await fx.read<{ day: string; source: string; type: string; messages: number; channels: number }>('SELECT * FROM messages_daily')).map((r) => ({ k: JSON.stringify([r.day, r.source, r.type]), messages: r.messages, channels: r.channels }));
    expect(byKey(got, (r) => r.k)).toEqual(byKey(expected, (r) => r.k));
    expect(got.reduce((a, r) => a + r.messages, 0)).toBeGreaterThan(500);
  });

  it('orders_daily: live orders per day, currency and normalised status; revenue counts paid ones only', async () => {
    const agg = new Map<string, { orders: number; amount: number; revenue: number }>();
    for (const o of live(fx.base.orders)) {
      if (!o.created_at) continue;
      const k = JSON.stringify([dayOf(o.created_at), o.currency, normalise(o)]);
      const a = agg.get(k) ?? { orders: 0, amount: 0, revenue: 0 };
      a.orders++;
      a.amount = round(a.amount + (o.price ?? 0));
      if (normalise(o) === 'paid') a.revenue = round(a.revenue + (o.price ?? 0));
      agg.set(k, a);
    }
    const expected = [...agg].map(([k, a]) => ({ k, ...a }));
    const got = (await fx.read<{ day: string; currency: string; status: string; orders: number; amount: number; revenue: number }>('SELECT * FROM orders_daily')).map((r) => ({
      k: JSON.stringify([r.day, r.currency, r.status]),
      orders: r.orders,
      amount: round(r.amount),
      revenue: round(r.revenue),
    }));
    expect(byKey(got, (r) => r.k)).toEqual(byKey(expected, (r) => r.k));
  });

  it('tag_membership: live people per tag', async () => {
    const liveIds = new Set(live(fx.base.people).map((p) => p.id));
    const m = new Map<string, number>();
    for (const t of fx.base.tags) if (liveIds.has(t.person_id)) count(m, t.tag);
    const got = await fx.read<{ tag: string; people: number }>('SELECT tag, people FROM tag_membership');
    expect(byKey(got, (r) => r.tag)).toEqual(byKey([...m].map(([tag, people]) => ({ tag, people })), (r) => r.tag));
  });

  it('funnel_daily: new live people, live people who wrote (their own messages), live people who ordered, per UTC day', async () => {
    const livePeople = new Map(live(fx.base.people).map((p) => [p.id, p]));
    const chans = new Map(live(fx.base.channels).map((c) => [c.id, c]));
    const rows = new Map<string, { new_people: number; wrote: Set<string>; ordered: Set<string> }>();
    const at = (d: string) => rows.get(d) ?? rows.set(d, { new_people: 0, wrote: new Set(), ordered: new Set() }).get(d)!;
    for (const p of livePeople.values()) if (p.created_at) at(dayOf(p.created_at)).new_people++;
    for (const m of live(fx.base.messages)) {
      const c = chans.get(m.channel_id);
      if (m.type !== 'FRIEND_MESSAGE' || !m.created_at || !c?.person_id || !livePeople.has(c.person_id)) continue;
      at(dayOf(m.created_at)).wrote.add(c.person_id);
    }
    for (const o of live(fx.base.orders)) if (o.created_at && o.person_id && livePeople.has(o.person_id)) at(dayOf(o.created_at)).ordered.add(o.person_id);
    const expected = [...rows].map(([day, r]) => ({ day, new_people: r.new_people, people_wrote: r.wrote.size, people_ordered: r.ordered.size }));
    const got = await fx.read<(typeof expected)[number]>('SELECT day, new_people, people_wrote, people_ordered FROM funnel_daily');
    expect(byKey(got, (r) => r.day)).toEqual(byKey(expected, (r) => r.day));
    expect(got.reduce((a, r) => a + r.new_people, 0)).toBe(livePeople.size);
  });

  it('people_custom_fields_wide: one column per name, each the last value of that name, live people only', async () => {
    const names = [...new Set(fx.base.fields.map((f) => f.name))];
    const cols = await fx.wideViewColumns();
    expect(cols.length).toBe(names.length + 1);
    const columnOf = new Map(wideColumns([...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).map((c) => [c.name, c.column]));
    expect(cols).toEqual(['person_id', ...columnOf.values()]);
    const got = await fx.read<Record<string, string | null>>(`SELECT * FROM ${WIDE_VIEW}`);
    expect(got.length).toBe(live(fx.base.people).length);
    const rowsById = new Map(got.map((r) => [r.person_id, r]));
    for (const p of live(fx.base.people)) {
      const row = rowsById.get(p.id)!;
      for (const n of names) {
        const fs = fx.base.fields.filter((f) => f.person_id === p.id && f.name === n).sort((x, y) => y.ordinal - x.ordinal);
        expect(row[columnOf.get(n)!], `${p.id} ${n}`).toBe(fs[0]?.value ?? null);
      }
    }
  });

  it('refreshDerivedViews rebuilds the wide view only when the set of names changes', async () => {
    expect((await fx.refresh()).wideView).toBe(false);
    const someone = live(fx.base.people)[0]!.id;
    await fx.exec(sql`INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (${someone}, 500, 'Brand new field', 'KEYWORD', 'x')`);
    expect((await fx.refresh()).wideView).toBe(true);
    expect(await fx.read<{ v: string }>(`SELECT brand_new_field AS v FROM ${WIDE_VIEW} WHERE person_id = '${someone}'`)).toEqual([{ v: 'x' }]);
    await fx.exec(sql`UPDATE custom_fields SET value = 'y' WHERE ordinal = 500`);
    expect((await fx.refresh()).wideView).toBe(false);
    await fx.exec(sql`DELETE FROM custom_fields WHERE ordinal = 500`);
    expect((await fx.refresh()).wideView).toBe(true);
    expect(await fx.wideViewColumns()).not.toContain('brand_new_field');
  });

  it('the rollups equal their views after a refresh, and the report reads them', async () => {
    const rows = (from: string, cols: readonly string[]) => fx.read<Record<string, unknown>>(`SELECT ${cols.join(', ')} FROM ${from} ORDER BY ${cols.join(', ')}`);
    await fx.refresh();
    for (const r of ROLLUPS) {
      const v = await rows(r.view, r.columns);
      expect(v.length, r.view).toBeGreaterThan(0);
      expect(await rows(r.table, r.columns), r.table).toEqual(v);
    }
    // Until the next refresh the report shows the rollups (as of their time), not the newest rows.
    const before = await readReportData(fx.store);
    expect(before.dataAsOf).toBe(await rollupsRefreshedAt(fx.store));
    await fx.exec(sql`INSERT INTO person_tags (person_id, tag) SELECT id, 'fresh tag' FROM people WHERE deleted_at IS NULL ON CONFLICT DO NOTHING`);
    expect((await readReportData(fx.store)).topTags.map((t) => t.tag)).not.toContain('fresh tag');
    await fx.refresh();
    expect((await readReportData(fx.store)).topTags[0]).toEqual({ tag: 'fresh tag', people: live(fx.base.people).length });
    expect(await rows('rollup_tag_membership', ['tag', 'people'])).toEqual(await rows('tag_membership', ['tag', 'people']));
    await fx.exec(sql`DELETE FROM person_tags WHERE tag = 'fresh tag'`);
    await fx.refresh();
  });
}
