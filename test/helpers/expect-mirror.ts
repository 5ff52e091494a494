import type Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { Simulator } from '../../src/sim/index.js';
import type { RunResult } from '../../src/sync/engine.js';
import { failures, syncWith } from './mirror.js';

type Obj = Record<string, unknown>;
const SENTINELS = new Set(['NOT_DEFINED', 'NO_DATA']);
const clean = (v: unknown) => (typeof v === 'string' && SENTINELS.has(v) ? null : (v ?? null));
const iso = (v: unknown) => (typeof v === 'string' && v ? new Date(v).toISOString() : null);
const sortBy = <T extends Obj>(rows: T[], ...keys: string[]) =>
  [...rows].sort((a, b) => {
    for (const k of keys) {
      const x = String(a[k]);
      const y = String(b[k]);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });

/*
 * The checks are a generator that yields each query and is given its rows back, so that one set
 * of checks runs synchronously over a better-sqlite3 handle and asynchronously over any other
 * read handle (a PostgreSQL store). The queries are portable SQL.
 */
type Checks = Generator<string, void, Obj[]>;

/** A read handle: the rows of one query, in the SQLite shapes (the PostgreSQL store parses its types into them). */
export type MirrorRows = (query: string) => Promise<Obj[]>;

/** Rows of a soft-deleted table marked deleted: none may be live in the simulator, and deleted_at is an ISO time. */
function* expectDeletedAreGone(table: string, live: Obj[], where = 'true'): Checks {
  const liveIds = new Set(live.map((r) => String(r.id)));
  const deleted = yield `SELECT id, deleted_at FROM ${table} WHERE deleted_at IS NOT NULL AND (${where})`;
  expect(deleted.filter((r) => liveIds.has(String(r.id))).map((r) => r.id), `${table}: live rows marked deleted`).toEqual([]);
  for (const r of deleted) expect(iso(r.deleted_at)).toBe(r.deleted_at);
}

/**
 * Asserts the mirror equals the simulator's data: every table's ids and the fields BI users rely
 * on, computed from the simulator's own store (not from the sync's mappers). Live rows
 * (deleted_at NULL) must equal what the simulator lists; rows marked deleted stay in the mirror
 * (with their children) and must be ones the simulator no longer has.
 */
export function expectMirrorMatches(sqlite: Database.Database, sim: Simulator, opts: MirrorCheckOptions = {}): void {
  const checks = mirrorChecks(sim, opts);
  for (let step = checks.next(); !step.done; ) step = checks.next(sqlite.prepare(step.value).all() as Obj[]);
}

/** expectMirrorMatches over any read handle, e.g. `(q) => store.all(sql.raw(q))` on a PostgreSQL store. */
export async function expectMirrorMatchesOn(rows: MirrorRows, sim: Simulator, opts: MirrorCheckOptions = {}): Promise<void> {
  const checks = mirrorChecks(sim, opts);
  for (let step = checks.next(); !step.done; ) step = checks.next(await rows(step.value));
}

export interface MirrorCheckOptions {
  details?: boolean;
  messages?: boolean;
}

function* mirrorChecks(sim: Simulator, opts: MirrorCheckOptions): Checks {
  const store = sim.store;
  const people = [...store.peopleList()] as Obj[];
  yield* expectDeletedAreGone('people', people);
  const LIVE_PERSON = 'person_id IN (SELECT id FROM people WHERE deleted_at IS NULL)';
  expect(yield 'SELECT id, name, email, phone, last_message_time FROM people WHERE deleted_at IS NULL ORDER BY id').toEqual(
    sortBy(
      people.map((p) => ({ id: p.id, name: p.name ?? null, email: clean(p.email), phone: clean(p.phone), last_message_time: iso(p.lastMessageTime) })),
      'id',
    ),
  );
  expect(yield `SELECT person_id, tag FROM person_tags WHERE ${LIVE_PERSON} ORDER BY person_id, tag`).toEqual(
    sortBy(
      people.flatMap((p) => [...new Set(p.tags as string[])].map((tag) => ({ person_id: p.id, tag }))),
      'person_id',
      'tag',
    ),
  );

  if (opts.details !== false) {
    const details = people.map((p) => (store.personDetail(String(p.id)) as { data: Obj }).data);
    expect(yield 'SELECT id, gender, locale, profile_image, created_at, updated_at FROM people WHERE deleted_at IS NULL ORDER BY id').toEqual(
      sortBy(
        details.map((d) => ({
          id: d.id,
          gender: clean(d.gender),
          locale: d.locale ?? null,
          profile_image: clean(d.profileImage),
          created_at: iso(d.created_at),
          updated_at: iso(d.updated_at),
        })),
        'id',
      ),
    );
    expect(yield `SELECT person_id, name, type, value FROM custom_fields WHERE ${LIVE_PERSON} ORDER BY person_id, ordinal`).toEqual(
      sortBy(details, 'id').flatMap((d) =>
        ((d.custom_fields as Obj[]) ?? []).map((f) => ({
          person_id: d.id,
          name: f.name,
          type: f.type ?? null,
          value: typeof f.value === 'string' ? f.value : JSON.stringify(f.value),
        })),
      ),
    );
    expect(yield `SELECT person_id, tunnel_id, account_id FROM subscriptions WHERE ${LIVE_PERSON} ORDER BY person_id, ordinal`).toEqual(
      sortBy(details, 'id').flatMap((d) =>
        ((d.subscribeHistory as Obj[]) ?? []).map((h) => ({ person_id: d.id, tunnel_id: h.tunnelId ?? null, account_id: h.accountId ?? null })),
      ),
    );
  }

  const channels = [...store.channelsList()] as Obj[];
  yield* expectDeletedAreGone('communication_channels', channels);
  expect(
    yield 'SELECT id, person_id, name, source, bot_status, last_message_time, created_at FROM communication_channels WHERE raw IS NOT NULL AND deleted_at IS NULL ORDER BY id',
  ).toEqual(
    sortBy(
      channels.map((c) => ({
        id: c.id,
        person_id: c.person_id,
        name: c.name ?? null,
        source: c.from ?? null,
        bot_status: c.botStatus ?? null,
        last_message_time: iso(c.lastMessageTime),
        created_at: iso(c.createdAt),
      })),
      'id',
    ),
  );
  expect(yield 'SELECT count(*) AS n FROM communication_channels WHERE raw IS NULL').toEqual([{ n: 0 }]);

  if (opts.messages !== false) {
    const expected: Obj[] = [];
    for (const c of channels) {
      for (const m of store.chatMessages(String(c.id)) as Obj[]) {
        expected.push({ id: m.id, channel_id: c.id, text: m.text ?? null, type: m.type ?? null, created_at: iso(m.createdAt) });
      }
    }
    const actual = yield `SELECT id, channel_id, text, type, created_at FROM chat_messages
       WHERE deleted_at IS NULL AND channel_id IN (SELECT id FROM communication_channels WHERE deleted_at IS NULL) ORDER BY id`;
    yield* expectDeletedAreGone('chat_messages', expected, 'channel_id IN (SELECT id FROM communication_channels WHERE deleted_at IS NULL)');
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(sortBy(expected, 'id'));
  }

  const orders = [...store.ordersList()] as Obj[];
  yield* expectDeletedAreGone('orders', orders);
  expect(yield 'SELECT id, person_id, title, price, currency, status, created_at, updated_at FROM orders WHERE deleted_at IS NULL ORDER BY id').toEqual(
    sortBy(
      orders.map((o) => ({
        id: o.id,
        person_id: o.person_id ?? null,
        title: o.title ?? null,
        price: o.price === undefined || o.price === null ? null : Number(o.price),
        currency: o.currency ?? null,
        status: o.status ?? null,
        created_at: iso(o.createdAt),
        updated_at: iso(o.updatedAt),
      })),
      'id',
    ),
  );
  if (opts.details !== false) {
    expect(yield 'SELECT id, description, payment_method FROM orders WHERE deleted_at IS NULL ORDER BY id').toEqual(
      sortBy(
        orders.map((o) => {
          const d = store.orderDetail(String(o.id)) as Obj;
          return { id: o.id, description: clean(d.description), payment_method: clean(d.paymentMethod) };
        }),
        'id',
      ),
    );
  }

  expect(yield 'SELECT id, name FROM tags ORDER BY id').toEqual(sortBy((store.tags() as Obj[]).map((t) => ({ id: t.id, name: t.name })), 'id'));
  expect(yield 'SELECT id, name, created_at FROM users ORDER BY id').toEqual(
    sortBy([...store.users()].map((u) => ({ id: (u as Obj).id, name: (u as Obj).name, created_at: iso((u as Obj).createdAt) })), 'id'),
  );
  const tunnels = [...store.tunnelsList()] as Obj[];
  expect(yield 'SELECT id, name FROM tunnels ORDER BY id').toEqual(sortBy(tunnels.map((t) => ({ id: t.id, name: t.name })), 'id'));
  expect(yield 'SELECT id, tunnel_id, name, type FROM leadgentools ORDER BY id').toEqual(
    sortBy(
      tunnels.flatMap((t) =>
        ((store.tunnelDetail(String(t.id)) as { linked: { leadgentools: Obj[] } }).linked.leadgentools ?? []).map((l) => ({
          id: l.id,
          tunnel_id: t.id,
          name: l.name,
          type: l.type ?? null,
        })),
      ),
      'id',
    ),
  );
  expect(yield 'SELECT tunnel_id, subscribers FROM tunnel_stats ORDER BY tunnel_id').toEqual(
    sortBy(
      tunnels.map((t) => ({ tunnel_id: t.id, subscribers: ((store.tunnelStats(String(t.id)) as Obj[])[0] as Obj).subscribers })),
      'tunnel_id',
    ),
  );
  expect(yield 'SELECT id, type, name FROM connections ORDER BY id').toEqual(
    sortBy((store.connections() as Obj[]).map((c) => ({ id: c.id, type: c.type, name: c.name })), 'id'),
  );
  const cats = store.templateCategories() as Obj[];
  expect(yield 'SELECT id, name FROM template_categories ORDER BY id').toEqual(sortBy(cats.map((c) => ({ id: c.id, name: c.name })), 'id'));
  expect(yield 'SELECT id, category_id, message_name FROM message_templates ORDER BY id').toEqual(
    sortBy(
      cats.flatMap((c) => (store.templates(String(c.id)) as Obj[]).map((t) => ({ id: t.id, category_id: c.id, message_name: t.message_name }))),
      'id',
    ),
  );
}

type SyncRun = Awaited<ReturnType<typeof syncWith>>;

/**
 * One in-process sync that no stream may fail; `check` sees the run with the mirror open, and
 * the mirror is closed after it.
 */
export async function syncPassing(sim: Simulator, dbPath: string, opts: Parameters<typeof syncWith>[2] = {}, check?: (run: SyncRun) => void | Promise<void>): Promise<RunResult> {
  const run = await syncWith(sim, dbPath, opts);
  try {
    expect(failures(run.result)).toEqual([]);
    await check?.(run);
  } finally {
    run.mirror.close();
  }
  return run.result;
}

/** The same, and then the mirror must equal the simulator's data. */
export function syncMatching(sim: Simulator, dbPath: string, opts: Parameters<typeof syncWith>[2] = {}, check?: (run: SyncRun) => void | Promise<void>): Promise<RunResult> {
  return syncPassing(sim, dbPath, opts, async (run) => {
    await check?.(run);
    expectMirrorMatches(run.mirror.sqlite, sim);
  });
}
