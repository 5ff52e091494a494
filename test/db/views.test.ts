import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshDerivedViews, ROLLUPS, sanitizeColumnName, WIDE_VIEW, wideColumns, wideViewSql, MAX_COLUMN_LENGTH } from '../../src/db/views.js';
import { readReportData, rollupsRefreshedAt } from '../../src/reports/data.js';
import type { Mirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { failures, syncWith, tempDbPath } from '../helpers/mirror.js';

/*
 * Every view equals a reference computed here in TypeScript from the raw base rows (written
 * independently of the view SQL), on a simulated company with soft-deleted people, channels,
 * messages and orders present.
 */

interface P { id: string; name: string | null; email: string | null; phone: string | null; created_at: string | null; deleted_at: string | null }
interface Ch { id: string; person_id: string | null; name: string | null; source: string | null; created_at: string | null; deleted_at: string | null }
interface M { id: string; channel_id: string; type: string | null; created_at: string | null; deleted_at: string | null }
interface O { id: string; person_id: string | null; price: number | null; currency: string | null; status: string | null; detail_raw: string | null; created_at: string | null; deleted_at: string | null }
interface CF { person_id: string; ordinal: number; name: string; value: string | null }
interface PT { person_id: string; tag: string }

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

function base(sqlite: Database.Database) {
  const all = <T>(q: string) => sqlite.prepare(q).all() as T[];
  return {
    people: all<P>('SELECT id, name, email, phone, created_at, deleted_at FROM people'),
    channels: all<Ch>('SELECT id, person_id, name, source, created_at, deleted_at FROM communication_channels'),
    messages: all<M>('SELECT id, channel_id, type, created_at, deleted_at FROM chat_messages'),
    orders: all<O>('SELECT id, person_id, price, currency, status, detail_raw, created_at, deleted_at FROM orders'),
    fields: all<CF>('SELECT person_id, ordinal, name, value FROM custom_fields'),
    tags: all<PT>('SELECT person_id, tag FROM person_tags'),
  };
}

describe('analyst views', () => {
  let sim: Simulator;
  let mirror: Mirror;
  const db = tempDbPath('ls-views-');
  let b: ReturnType<typeof base>;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, people: 200 });
    const first = await syncWith(sim, db.path);
    expect(failures(first.result)).toEqual([]);
    first.mirror.close();
    sim.silentEdits({ share: 0.2, kinds: ['customField', 'tag'] });
    const gone = sim.deletePeople({ share: 0.05 });
    expect(gone.personIds.length).toBeGreaterThan(5);
    const rec = await syncWith(sim, db.path, { reconcile: true, env: { SYNC_MAX_DELETE_SHARE: '0.3' } });
    expect(failures(rec.result)).toEqual([]);
    mirror = rec.mirror;
    const s = mirror.sqlite;
    expect(s.prepare('SELECT count(*) FROM people WHERE deleted_at IS NOT NULL').pluck().get()).toBe(gone.personIds.length);
    // Soft-deleted rows of every kind, live children of deleted parents, and a duplicate custom-field name.
    s.prepare("UPDATE orders SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 9 = 0").run();
    s.prepare("UPDATE chat_messages SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 13 = 0").run();
    s.prepare("UPDATE communication_channels SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE rowid % 17 = 0 AND deleted_at IS NULL").run();
    s.prepare("UPDATE orders SET status = NULL WHERE rowid % 11 = 0 AND detail_raw IS NOT NULL").run();
    const withField = s.prepare('SELECT cf.person_id, cf.name FROM custom_fields cf JOIN people p ON p.id = cf.person_id WHERE p.deleted_at IS NULL LIMIT 1').get() as { person_id: string; name: string };
    s.prepare("INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, 99, ?, 'KEYWORD', 'last wins')").run(withField.person_id, withField.name);
    s.prepare("INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, 98, ?, 'KEYWORD', 'not me')").run(withField.person_id, withField.name);
    refreshDerivedViews(mirror);
    b = base(s);
    expect(b.orders.some((o) => o.deleted_at) && b.messages.some((m) => m.deleted_at) && b.channels.some((c) => c.deleted_at)).toBe(true);
  }, 180_000);

  afterAll(async () => {
    mirror?.close();
    await sim?.close();
    db.cleanup();
  });

  const view = <T>(q: string) => mirror.sqlite.prepare(q).all() as T[];
  const live = <T extends { deleted_at: string | null }>(rows: T[]) => rows.filter((r) => r.deleted_at === null);

  it('orders_current: live orders, one normalised status, the live person\'s email and phone', () => {
    const people = new Map(live(b.people).map((p) => [p.id, p]));
    const expected = live(b.orders).map((o) => ({
      id: o.id,
      status: normalise(o),
      day: o.created_at ? dayOf(o.created_at) : null,
      person_email: (o.person_id && people.get(o.person_id)?.email) ?? null,
      person_phone: (o.person_id && people.get(o.person_id)?.phone) ?? null,
    }));
    const got = view<(typeof expected)[number]>('SELECT id, status, day, person_email, person_phone FROM orders_current');
    expect(byKey(got, (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
    expect(new Set(got.map((r) => r.status)).size).toBeGreaterThan(3);
  });

  it('people_current: tags, custom fields (last ordinal wins), first channel, orders and revenue', () => {
    const expected = live(b.people).map((p) => {
      const fields: Record<string, { ordinal: number; value: string | null }> = {};
      for (const f of b.fields.filter((f) => f.person_id === p.id)) if (!fields[f.name] || fields[f.name]!.ordinal < f.ordinal) fields[f.name] = f;
      const chans = live(b.channels)
        .filter((c) => c.person_id === p.id)
        .sort((x, y) => (x.created_at === null ? 1 : 0) - (y.created_at === null ? 1 : 0) || (x.created_at ?? '').localeCompare(y.created_at ?? '') || (x.id < y.id ? -1 : 1));
      const orders = live(b.orders).filter((o) => o.person_id === p.id);
      const paid = orders.filter((o) => normalise(o) === 'paid');
      const byCurrency: Record<string, number> = {};
      for (const o of paid) byCurrency[o.currency ?? ''] = round((byCurrency[o.currency ?? ''] ?? 0) + (o.price ?? 0));
      return {
        id: p.id,
        tags: b.tags.filter((t) => t.person_id === p.id).map((t) => t.tag).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
        custom_fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.value])),
        first_channel_source: chans[0]?.source ?? null,
        channels: chans.length,
        orders: orders.length,
        revenue: round(paid.reduce((a, o) => a + (o.price ?? 0), 0)),
        revenue_by_currency: byCurrency,
      };
    });
    const got = view<{ id: string; tags: string; custom_fields: string; first_channel_source: string | null; channels: number; orders: number; revenue: number; revenue_by_currency: string }>(
      'SELECT id, tags, custom_fields, first_channel_source, channels, orders, revenue, revenue_by_currency FROM people_current',
    ).map((r) => ({
      ...r,
      tags: JSON.parse(r.tags) as string[],
      custom_fields: JSON.parse(r.custom_fields) as Record<string, string>,
      revenue: round(r.revenue),
      revenue_by_currency: Object.fromEntries(Object.entries(JSON.parse(r.revenue_by_currency) as Record<string, number>).map(([k, v]) => [k, round(v)])),
    }));
    expect(byKey(got, (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
    expect(got.some((r) => r.tags.length > 0) && got.some((r) => Object.keys(r.custom_fields).length > 0) && got.some((r) => r.revenue > 0)).toBe(true);
    expect(got.map((r) => r.custom_fields)).toContainEqual(expect.objectContaining(Object.fromEntries([[b.fields.find((f) => f.ordinal === 99)!.name, 'last wins']])));
  });

  it('channels_current: live channels with the live person\'s name and email', () => {
    const people = new Map(live(b.people).map((p) => [p.id, p]));
    const expected = live(b.channels).map((c) => ({ id: c.id, source: c.source, person_name: (c.person_id && people.get(c.person_id)?.name) ?? null, person_email: (c.person_id && people.get(c.person_id)?.email) ?? null }));
    expect(byKey(view<(typeof expected)[number]>('SELECT id, source, person_name, person_email FROM channels_current'), (r) => r.id)).toEqual(byKey(expected, (r) => r.id));
  });

  it('messages_daily: live messages of live channels per UTC day, source and type', () => {
    const chans = new Map(live(b.channels).map((c) => [c.id, c]));
    const msgs = new Map<string, number>();
    const distinct = new Map<string, Set<string>>();
    for (const m of live(b.messages)) {
      const c = chans.get(m.channel_id);
      if (!c || !m.created_at) continue;
      const k = JSON.stringify([dayOf(m.created_at), c.source, m.type]);
      count(msgs, k);
      distinct.set(k, (distinct.get(k) ?? new Set()).add(m.channel_id));
    }
    const expected = [...msgs].map(([k, n]) => ({ k, messages: n, channels: distinct.get(k)!.size }));
    const got = view<{ day: string; source: string; type: string; messages: number; channels: number }>('SELECT * FROM messages_daily').map((r) => ({ k: JSON.stringify([r.day, r.source, r.type]), messages: r.messages, channels: r.channels }));
    expect(byKey(got, (r) => r.k)).toEqual(byKey(expected, (r) => r.k));
    expect(got.reduce((a, r) => a + r.messages, 0)).toBeGreaterThan(500);
  });

  it('orders_daily: live orders per day, currency and normalised status; revenue counts paid ones only', () => {
    const agg = new Map<string, { orders: number; amount: number; revenue: number }>();
    for (const o of live(b.orders)) {
      if (!o.created_at) continue;
      const k = JSON.stringify([dayOf(o.created_at), o.currency, normalise(o)]);
      const a = agg.get(k) ?? { orders: 0, amount: 0, revenue: 0 };
      a.orders++;
      a.amount = round(a.amount + (o.price ?? 0));
      if (normalise(o) === 'paid') a.revenue = round(a.revenue + (o.price ?? 0));
      agg.set(k, a);
    }
    const expected = [...agg].map(([k, a]) => ({ k, ...a }));
    const got = view<{ day: string; currency: string; status: string; orders: number; amount: number; revenue: number }>('SELECT * FROM orders_daily').map((r) => ({
      k: JSON.stringify([r.day, r.currency, r.status]),
      orders: r.orders,
      amount: round(r.amount),
      revenue: round(r.revenue),
    }));
    expect(byKey(got, (r) => r.k)).toEqual(byKey(expected, (r) => r.k));
  });

  it('tag_membership: live people per tag', () => {
    const liveIds = new Set(live(b.people).map((p) => p.id));
    const m = new Map<string, number>();
    for (const t of b.tags) if (liveIds.has(t.person_id)) count(m, t.tag);
    const got = view<{ tag: string; people: number }>('SELECT tag, people FROM tag_membership');
    expect(byKey(got, (r) => r.tag)).toEqual(byKey([...m].map(([tag, people]) => ({ tag, people })), (r) => r.tag));
  });

  it('funnel_daily: new live people, live people who wrote (their own messages), live people who ordered, per UTC day', () => {
    const livePeople = new Map(live(b.people).map((p) => [p.id, p]));
    const chans = new Map(live(b.channels).map((c) => [c.id, c]));
    const rows = new Map<string, { new_people: number; wrote: Set<string>; ordered: Set<string> }>();
    const at = (d: string) => rows.get(d) ?? rows.set(d, { new_people: 0, wrote: new Set(), ordered: new Set() }).get(d)!;
    for (const p of livePeople.values()) if (p.created_at) at(dayOf(p.created_at)).new_people++;
    for (const m of live(b.messages)) {
      const c = chans.get(m.channel_id);
      if (m.type !== 'FRIEND_MESSAGE' || !m.created_at || !c?.person_id || !livePeople.has(c.person_id)) continue;
      at(dayOf(m.created_at)).wrote.add(c.person_id);
    }
    for (const o of live(b.orders)) if (o.created_at && o.person_id && livePeople.has(o.person_id)) at(dayOf(o.created_at)).ordered.add(o.person_id);
    const expected = [...rows].map(([day, r]) => ({ day, new_people: r.new_people, people_wrote: r.wrote.size, people_ordered: r.ordered.size }));
    const got = view<(typeof expected)[number]>('SELECT day, new_people, people_wrote, people_ordered FROM funnel_daily');
    expect(byKey(got, (r) => r.day)).toEqual(byKey(expected, (r) => r.day));
    expect(got.reduce((a, r) => a + r.new_people, 0)).toBe(livePeople.size);
  });

  it('people_custom_fields_wide: one column per name, each the last value of that name, live people only', () => {
    const names = [...new Set(b.fields.map((f) => f.name))];
    const cols = mirror.sqlite.prepare(`PRAGMA table_info(${WIDE_VIEW})`).all() as { name: string }[];
    expect(cols.length).toBe(names.length + 1);
    const columnOf = new Map(wideColumns([...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).map((c) => [c.name, c.column]));
    const got = view<Record<string, string | null>>(`SELECT * FROM ${WIDE_VIEW}`);
    expect(got.length).toBe(live(b.people).length);
    const rowsById = new Map(got.map((r) => [r.person_id, r]));
    for (const p of live(b.people)) {
      const row = rowsById.get(p.id)!;
      for (const n of names) {
        const fs = b.fields.filter((f) => f.person_id === p.id && f.name === n).sort((x, y) => y.ordinal - x.ordinal);
        expect(row[columnOf.get(n)!], `${p.id} ${n}`).toBe(fs[0]?.value ?? null);
      }
    }
  });

  it('refreshDerivedViews rebuilds the wide view only when the set of names changes', () => {
    expect(refreshDerivedViews(mirror).wideView).toBe(false);
    const someone = live(b.people)[0]!.id;
    mirror.sqlite.prepare("INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, 500, 'Brand new field', 'KEYWORD', 'x')").run(someone);
    expect(refreshDerivedViews(mirror).wideView).toBe(true);
    expect(mirror.sqlite.prepare(`SELECT brand_new_field FROM ${WIDE_VIEW} WHERE person_id = ?`).pluck().get(someone)).toBe('x');
    mirror.sqlite.prepare("UPDATE custom_fields SET value = 'y' WHERE ordinal = 500").run();
    expect(refreshDerivedViews(mirror).wideView).toBe(false);
    mirror.sqlite.prepare('DELETE FROM custom_fields WHERE ordinal = 500').run();
    expect(refreshDerivedViews(mirror).wideView).toBe(true);
    expect((mirror.sqlite.prepare(`PRAGMA table_info(${WIDE_VIEW})`).all() as { name: string }[]).map((c) => c.name)).not.toContain('brand_new_field');
  });

  it('the rollups equal their views after a refresh, and the report reads them', () => {
    const s = mirror.sqlite;
    const rows = (from: string, cols: readonly string[]) => s.prepare(`SELECT ${cols.join(', ')} FROM ${from} ORDER BY ${cols.join(', ')}`).raw().all();
    refreshDerivedViews(mirror);
    for (const r of ROLLUPS) {
      const v = rows(r.view, r.columns);
      expect(v.length, r.view).toBeGreaterThan(0);
      expect(rows(r.table, r.columns), r.table).toEqual(v);
    }
    // Until the next refresh the report shows the rollups (as of their time), not the newest rows.
    const before = readReportData(s);
    expect(before.dataAsOf).toBe(rollupsRefreshedAt(s));
    s.prepare("INSERT OR IGNORE INTO person_tags (person_id, tag) SELECT id, 'fresh tag' FROM people WHERE deleted_at IS NULL").run();
    expect(readReportData(s).topTags.map((t) => t.tag)).not.toContain('fresh tag');
    refreshDerivedViews(mirror);
    expect(readReportData(s).topTags[0]).toEqual({ tag: 'fresh tag', people: live(b.people).length });
    expect(rows('rollup_tag_membership', ['tag', 'people'])).toEqual(rows('tag_membership', ['tag', 'people']));
    s.prepare("DELETE FROM person_tags WHERE tag = 'fresh tag'").run();
    refreshDerivedViews(mirror);
  });
});

describe('wide view column names', () => {
  it('sanitises: lowercase, non-alphanumerics to _, a prefix before a digit, a maximum length', () => {
    expect(sanitizeColumnName('City')).toBe('city');
    expect(sanitizeColumnName('a b')).toBe('a_b');
    expect(sanitizeColumnName('1st name')).toBe('f_1st_name');
    expect(sanitizeColumnName('  E-mail (work)!  ')).toBe('e_mail_work');
    expect(sanitizeColumnName('Café')).toBe('cafe');
    expect(sanitizeColumnName('x'.repeat(200)).length).toBe(MAX_COLUMN_LENGTH);
    expect(sanitizeColumnName('Город')).toBe('gorod');
    expect(sanitizeColumnName('Ціна')).toBe('tsina');
    expect(sanitizeColumnName('🎉')).toBe('field');
  });

  it('is collision-safe: _2, _3 …, never person_id, never over the maximum length', () => {
    const long = 'y'.repeat(100);
    const cols = wideColumns(['City', 'city', 'CITY', 'person_id', 'Person ID', 'a b', 'a_b', '1st name', long, `${long}!`, '🎉', '✨', 'Город']);
    expect(cols.map((c) => c.column)).toEqual([
      'city', 'city_2', 'city_3', 'person_id_2', 'person_id_3', 'a_b', 'a_b_2', 'f_1st_name',
      'y'.repeat(MAX_COLUMN_LENGTH), `${'y'.repeat(MAX_COLUMN_LENGTH - 2)}_2`, 'field', 'field_2', 'gorod',
    ]);
    const lower = cols.map((c) => c.column.toLowerCase());
    expect(new Set(lower).size).toBe(lower.length);
    for (const c of lower) expect(c.length).toBeLessThanOrEqual(MAX_COLUMN_LENGTH);
  });

  it('quotes names with quotes safely and gives the same SQL for the same set', () => {
    const sql = wideViewSql(["it's", 'b', 'a', 'b']);
    expect(sql).toBe(wideViewSql(['a', "it's", 'b']));
    expect(sql).toContain("cf.name = 'it''s'");
  });
});
