import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Store } from '../../src/db/store/types.js';
import type { Simulator } from '../../src/sim/index.js';
import type { RunResult } from '../../src/sync/engine.js';
import type { ReadRows } from './backends.js';
import { failures, syncStore, type StoreRun } from './mirror.js';

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

/**
 * One assertion on the rows of one query. The queries are portable SQL (both backends), so the
 * same list runs synchronously on a better-sqlite3 handle or awaited on a `ReadRows`.
 */
interface Check {
  query: string;
  verify(rows: Obj[]): void;
}

const equals = (query: string, expected: unknown, message?: string): Check => ({ query, verify: (rows) => expect(rows, message).toEqual(expected) });

/** Every string in `v`, deep, with U+0000 as U+FFFD: how PostgreSQL holds what the API sent (src/db/pg-types.ts pgParameters). */
export function nulReplaced<T>(v: T): T {
  if (typeof v === 'string') return v.replaceAll('\u0000', '\ufffd') as T;
  if (Array.isArray(v)) return v.map(nulReplaced) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nulReplaced(x)])) as T;
  return v;
}

/** Rows of a soft-deleted table marked deleted: none may be live in the simulator, and deleted_at is an ISO time. */
function deletedAreGone(table: string, live: Obj[], where = 'TRUE'): Check {
  const liveIds = new Set(live.map((r) => String(r.id)));
  return {
    query: `SELECT id, deleted_at FROM ${table} WHERE deleted_at IS NOT NULL AND (${where})`,
    verify: (deleted) => {
      expect(deleted.filter((r) => liveIds.has(String(r.id))).map((r) => r.id), `${table}: live rows marked deleted`).toEqual([]);
      for (const r of deleted) expect(iso(r.deleted_at)).toBe(r.deleted_at);
    },
  };
}

/** A better-sqlite3 handle (SQLite-only callers), a `ReadRows` (test/helpers/backends.ts) or a Store. */
export type MirrorReader = Database.Database | ReadRows | Store;

const isSqlite = (r: MirrorReader): r is Database.Database => typeof r === 'object' && 'prepare' in r && 'pragma' in r;

function readerOf(r: Exclude<MirrorReader, Database.Database>): ReadRows {
  if (typeof r === 'function') return r;
  return <R>(q: string) => r.all<R>(sql.raw(q));
}

function runChecks(reader: MirrorReader, checks: Check[]): void | Promise<void> {
  if (isSqlite(reader)) {
    for (const c of checks) c.verify(reader.prepare(c.query).all() as Obj[]);
    return;
  }
  const rows = readerOf(reader);
  return (async () => {
    for (const c of checks) c.verify(await rows<Obj>(c.query));
  })();
}

/**
 * Asserts the mirror equals the simulator's data: every table's ids and the fields BI users rely
 * on, computed from the simulator's own store (not from the sync's mappers). Live rows
 * (deleted_at NULL) must equal what the simulator lists; rows marked deleted stay in the mirror
 * (with their children) and must be ones the simulator no longer has.
 *
 * On a better-sqlite3 handle it asserts synchronously; on a `ReadRows` or a Store it returns a
 * promise the caller must await.
 */
export function expectMirrorMatches(sqlite: Database.Database, sim: Simulator, opts?: MatchOptions): void;
export function expectMirrorMatches(reader: ReadRows | Store, sim: Simulator, opts?: MatchOptions): Promise<void>;
export function expectMirrorMatches(reader: MirrorReader, sim: Simulator, opts: MatchOptions = {}): void | Promise<void> {
  const pg = opts.backend === 'postgres' || (typeof reader === 'object' && 'dialect' in reader && reader.dialect === 'postgres');
  return runChecks(reader, mirrorChecks(sim, opts, pg ? nulReplaced : (v) => v));
}

interface MatchOptions {
  details?: boolean;
  messages?: boolean;
  /** Of a `ReadRows` reader (a Store or a SQLite handle says it itself): on PostgreSQL the API's U+0000 is expected as U+FFFD. */
  backend?: 'sqlite' | 'postgres';
}

function mirrorChecks(sim: Simulator, opts: MatchOptions, stored: <T>(v: T) => T): Check[] {
  const checks: Check[] = [];
  const eq = (query: string, expected: unknown, message?: string) => equals(query, stored(expected), message);
  const store = sim.store;
  const people = [...store.peopleList()] as Obj[];
  checks.push(deletedAreGone('people', people));
  const LIVE_PERSON = 'person_id IN (SELECT id FROM people WHERE deleted_at IS NULL)';
  checks.push(eq('SELECT id, name, email, phone, last_message_time FROM people WHERE deleted_at IS NULL ORDER BY id', 
    sortBy(
      people.map((p) => ({ id: p.id, name: p.name ?? null, email: clean(p.email), phone: clean(p.phone), last_message_time: iso(p.lastMessageTime) })),
      'id',
    ),
  ));
  // Tag names are free text: ORDER BY follows the database's collation (a PostgreSQL database's
  // locale may not be code-point order), so the rows are sorted here as the expected ones are.
  const tags = sortBy(
    stored(people.flatMap((p) => [...new Set(p.tags as string[])].map((tag) => ({ person_id: p.id, tag })))),
    'person_id',
    'tag',
  );
  checks.push({
    query: `SELECT person_id, tag FROM person_tags WHERE ${LIVE_PERSON}`,
    verify: (rows) => expect(sortBy(rows, 'person_id', 'tag')).toEqual(tags),
  });

  if (opts.details !== false) {
    const details = people.map((p) => (store.personDetail(String(p.id)) as { data: Obj }).data);
    checks.push(eq('SELECT id, gender, locale, profile_image, created_at, updated_at FROM people WHERE deleted_at IS NULL ORDER BY id', 
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
    ));
    checks.push(eq(`SELECT person_id, name, type, value FROM custom_fields WHERE ${LIVE_PERSON} ORDER BY person_id, ordinal`, 
      sortBy(details, 'id').flatMap((d) =>
        ((d.custom_fields as Obj[]) ?? []).map((f) => ({
          person_id: d.id,
          name: f.name,
          type: f.type ?? null,
          value: typeof f.value === 'string' ? f.value : JSON.stringify(f.value),
        })),
      ),
    ));
    checks.push(eq(`SELECT person_id, tunnel_id, account_id FROM subscriptions WHERE ${LIVE_PERSON} ORDER BY person_id, ordinal`, 
      sortBy(details, 'id').flatMap((d) =>
        ((d.subscribeHistory as Obj[]) ?? []).map((h) => ({ person_id: d.id, tunnel_id: h.tunnelId ?? null, account_id: h.accountId ?? null })),
      ),
    ));
  }

  const channels = [...store.channelsList()] as Obj[];
  checks.push(deletedAreGone('communication_channels', channels));
  checks.push(
    eq(
      'SELECT id, person_id, name, source, bot_status, last_message_time, created_at FROM communication_channels WHERE raw IS NOT NULL AND deleted_at IS NULL ORDER BY id',
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
    ),
  );
  checks.push(eq('SELECT count(*) AS n FROM communication_channels WHERE raw IS NULL', [{ n: 0 }]));

  if (opts.messages !== false) {
    const expected: Obj[] = [];
    for (const c of channels) {
      for (const m of store.chatMessages(String(c.id)) as Obj[]) {
        expected.push({ id: m.id, channel_id: c.id, text: m.text ?? null, type: m.type ?? null, created_at: iso(m.createdAt) });
      }
    }
    checks.push({
      query: `SELECT id, channel_id, text, type, created_at FROM chat_messages
       WHERE deleted_at IS NULL AND channel_id IN (SELECT id FROM communication_channels WHERE deleted_at IS NULL) ORDER BY id`,
      verify: (actual) => {
        expect(actual.length).toBe(expected.length);
        expect(actual).toEqual(stored(sortBy(expected, 'id')));
      },
    });
    checks.push(deletedAreGone('chat_messages', expected, 'channel_id IN (SELECT id FROM communication_channels WHERE deleted_at IS NULL)'));
  }

  const orders = [...store.ordersList()] as Obj[];
  checks.push(deletedAreGone('orders', orders));
  checks.push(eq('SELECT id, person_id, title, price, currency, status, created_at, updated_at FROM orders WHERE deleted_at IS NULL ORDER BY id', 
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
  ));
  if (opts.details !== false) {
    checks.push(eq('SELECT id, description, payment_method FROM orders WHERE deleted_at IS NULL ORDER BY id', 
      sortBy(
        orders.map((o) => {
          const d = store.orderDetail(String(o.id)) as Obj;
          return { id: o.id, description: clean(d.description), payment_method: clean(d.paymentMethod) };
        }),
        'id',
      ),
    ));
  }

  checks.push(eq('SELECT id, name FROM tags ORDER BY id', sortBy((store.tags() as Obj[]).map((t) => ({ id: t.id, name: t.name })), 'id')));
  checks.push(eq('SELECT id, name, created_at FROM users ORDER BY id', 
    sortBy([...store.users()].map((u) => ({ id: (u as Obj).id, name: (u as Obj).name, created_at: iso((u as Obj).createdAt) })), 'id'),
  ));
  const tunnels = [...store.tunnelsList()] as Obj[];
  checks.push(eq('SELECT id, name FROM tunnels ORDER BY id', sortBy(tunnels.map((t) => ({ id: t.id, name: t.name })), 'id')));
  checks.push(eq('SELECT id, tunnel_id, name, type FROM leadgentools ORDER BY id', 
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
  ));
  checks.push(eq('SELECT tunnel_id, subscribers FROM tunnel_stats ORDER BY tunnel_id', 
    sortBy(
      tunnels.map((t) => ({ tunnel_id: t.id, subscribers: ((store.tunnelStats(String(t.id)) as Obj[])[0] as Obj).subscribers })),
      'tunnel_id',
    ),
  ));
  checks.push(eq('SELECT id, type, name FROM connections ORDER BY id', 
    sortBy((store.connections() as Obj[]).map((c) => ({ id: c.id, type: c.type, name: c.name })), 'id'),
  ));
  const cats = store.templateCategories() as Obj[];
  checks.push(eq('SELECT id, name FROM template_categories ORDER BY id', sortBy(cats.map((c) => ({ id: c.id, name: c.name })), 'id')));
  checks.push(eq('SELECT id, category_id, message_name FROM message_templates ORDER BY id', 
    sortBy(
      cats.flatMap((c) => (store.templates(String(c.id)) as Obj[]).map((t) => ({ id: t.id, category_id: c.id, message_name: t.message_name }))),
      'id',
    ),
  ));
  return checks;
}

/** What a `check` sees: the run, its open store, and rows read through that store. */
export type SyncRun = StoreRun & { rows: ReadRows };
type SyncOpts = Parameters<typeof syncStore>[2];

/**
 * One in-process sync (SQLite path or postgres:// URL) that no stream may fail; `check` sees the
 * run with the store open, and the store is closed after it.
 */
export async function syncPassing(sim: Simulator, databaseUrl: string, opts: SyncOpts = {}, check?: (run: SyncRun) => void | Promise<void>): Promise<RunResult> {
  const run = await syncStore(sim, databaseUrl, opts);
  try {
    expect(failures(run.result)).toEqual([]);
    await check?.(Object.assign(run, { rows: readerOf(run.store) }));
  } finally {
    await run.store.close();
  }
  return run.result;
}

/** The same, and then the mirror must equal the simulator's data. */
export function syncMatching(sim: Simulator, databaseUrl: string, opts: SyncOpts = {}, check?: (run: SyncRun) => void | Promise<void>): Promise<RunResult> {
  return syncPassing(sim, databaseUrl, opts, async (run) => {
    await check?.(run);
    await expectMirrorMatches(run.store, sim);
  });
}

/** expectMirrorMatches over an async read handle (the worker tests' name for it). */
export const expectMirrorMatchesOn = (rows: ReadRows, sim: Simulator, opts: MatchOptions = {}): Promise<void> => expectMirrorMatches(rows, sim, opts);
