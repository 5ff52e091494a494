import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { openPgMirror, PG_MIGRATIONS_DIR, type PgMirror } from '../../src/db/pg.js';
import { META_TABLE } from '../../src/db/pg-migrate.js';
import * as schemaPg from '../../src/db/schema-pg.js';
import { chatMessages, jsonbText, people, syncState, tunnelStats } from '../../src/db/schema-pg.js';
import { ConfigError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const ALL = readMigrations(PG_MIGRATIONS_DIR).migrations.length;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  return db;
}
async function open(url: string, opts: Parameters<typeof openPgMirror>[1] = {}): Promise<PgMirror> {
  const m = await openPgMirror(url, opts);
  cleanup.push(() => m.close());
  return m;
}
async function relations(db: TestDatabase): Promise<string[]> {
  const r = await db.query<{ name: string }>("SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'v') ORDER BY 1");
  return r.rows.map((x) => x.name);
}
async function appliedCount(db: TestDatabase): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM __drizzle_migrations')).rows[0]!.n);
}

/** The bundled migrations-pg/ plus extra migrations (tag → SQL), as drizzle-kit would write them. */
function migrationsWith(extra: [tag: string, sql: string][]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ls-pgmig-')), 'migrations-pg');
  dirs.push(dir);
  cpSync(PG_MIGRATIONS_DIR, dir, { recursive: true });
  const path = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(path, 'utf8')) as { entries: { idx: number; tag: string; when: number; version: string; breakpoints: boolean }[] };
  const last = journal.entries.at(-1)!;
  extra.forEach(([tag, sql], i) => {
    journal.entries.push({ ...last, idx: last.idx + 1 + i, tag, when: last.when + 1000 * (i + 1) });
    writeFileSync(join(dir, `${tag}.sql`), sql);
  });
  writeFileSync(path, JSON.stringify(journal));
  return dir;
}

describe('PostgreSQL migrations', () => {
  it('initialise a fresh database, mark it ours, and re-opening is a no-op', async () => {
    const db = await freshDb();
    const m = await open(db.url);
    expect(m.schema).toBe('public');
    const tables = await relations(db);
    for (const t of ['people', 'chat_messages', 'outbound_writes', 'sync_state', META_TABLE, '__drizzle_migrations']) expect(tables).toContain(t);
    expect(await appliedCount(db)).toBe(ALL);
    expect((await db.query(`SELECT key, value FROM ${META_TABLE}`)).rows).toEqual([{ key: 'application', value: 'leeloo-sync' }]);
    const types = await db.query<{ c: string; t: string }>(
      "SELECT table_name || '.' || column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('people', 'chat_messages', 'tunnel_stats', 'orders')",
    );
    const typeOf = Object.fromEntries(types.rows.map((r) => [r.c, r.t]));
    expect(typeOf['people.created_at']).toBe('timestamp with time zone');
    expect(typeOf['people.raw']).toBe('jsonb');
    expect(typeOf['chat_messages.read']).toBe('boolean');
    expect(typeOf['tunnel_stats.snapshot_date']).toBe('date');
    expect(typeOf['orders.price']).toBe('double precision');
    await m.close();
    cleanup.pop();

    const again = await open(db.url);
    expect(await appliedCount(db)).toBe(ALL);
    expect(await relations(db)).toEqual(tables);
    await again.close();
    cleanup.pop();
  });

  it('leave the database exactly as schema-pg.ts describes it (migrations-pg/ is up to date)', async () => {
    const db = await freshDb();
    await open(db.url);
    const cols = await db.query<{ t: string; c: string; type: string; nullable: string }>(
      `SELECT table_name AS t, column_name AS c, format_type(a.atttypid, a.atttypmod) AS type, is_nullable AS nullable
         FROM information_schema.columns i JOIN pg_attribute a ON a.attrelid = ('public.' || quote_ident(i.table_name))::regclass AND a.attname = i.column_name
        WHERE table_schema = 'public' AND table_name NOT IN ('${META_TABLE}', '__drizzle_migrations')
          AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')`,
    );
    const actual = Object.fromEntries(cols.rows.map((r) => [`${r.t}.${r.c}`, `${r.type}${r.nullable === 'NO' ? ' not null' : ''}`]));
    const idx = await db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%\_pkey' AND indexname NOT LIKE '%\_pk' AND tablename NOT IN ('${META_TABLE}', '__drizzle_migrations')`,
    );
    const expected: Record<string, string> = {};
    const indexes: string[] = [];
    for (const t of Object.values(schemaPg)) {
      if (!is(t, PgTable)) continue;
      const c = getTableConfig(t);
      for (const col of c.columns) expected[`${c.name}.${col.name}`] = `${col.getSQLType()}${col.notNull ? ' not null' : ''}`;
      for (const i of c.indexes) {
        indexes.push(i.config.name!);
        const def = idx.rows.find((r) => r.name === i.config.name)?.def ?? '';
        expect(def, i.config.name).toContain(`${i.config.unique ? 'UNIQUE ' : ''}INDEX ${i.config.name} ON public.${c.name}`);
        expect(def, i.config.name).toContain(`(${i.config.columns.map((x) => (x as { name: string }).name).join(', ')})`);
      }
    }
    expect(actual).toEqual(expected);
    expect(idx.rows.map((r) => r.name).sort()).toEqual(indexes.sort());
  });

  it('three pools opening a fresh database at once migrate it once', async () => {
    const db = await freshDb();
    const folder = migrationsWith([['0001_extra', 'ALTER TABLE "people" ADD COLUMN "extra" text;']]);
    const mirrors = await Promise.all([0, 1, 2].map(() => open(db.url, { migrationsFolder: folder })));
    expect(mirrors).toHaveLength(3);
    expect(await appliedCount(db)).toBe(ALL + 1);
    expect((await db.query('SELECT count(*)::int AS n FROM ' + META_TABLE)).rows[0]).toEqual({ n: 1 });
  });

  it('three processes starting at once migrate it once', async () => {
    const db = await freshDb();
    const folder = migrationsWith([['0001_extra', 'ALTER TABLE "people" ADD COLUMN "extra" text;']]);
    const child = fileURLToPath(new URL('./pg-open-child.ts', import.meta.url));
    const runs = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<{ code: number | null; out: string }>((done) => {
            const p = spawn(process.execPath, ['--import', 'tsx', child, db.url, folder], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            p.stdout.on('data', (d) => (out += d));
            p.on('close', (code) => done({ code, out }));
          }),
      ),
    );
    expect(runs).toEqual([0, 1, 2].map(() => ({ code: 0, out: 'opened\n' })));
    expect(await appliedCount(db)).toBe(ALL + 1);
  }, 120_000);

  it('migrate once even where transactions default to REPEATABLE READ', async () => {
    // The lock is taken by the transaction's first statement; a snapshot taken there would hide
    // the other worker's committed migration.
    const db = await freshDb();
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_isolation = 'repeatable read'`);
    const folder = migrationsWith([['0001_extra', 'ALTER TABLE "people" ADD COLUMN "extra" text;']]);
    await Promise.all([0, 1, 2].map(() => open(db.url, { migrationsFolder: folder })));
    expect(await appliedCount(db)).toBe(ALL + 1);
  });

  it('migrate an older database of ours, all pending migrations in one transaction', async () => {
    const db = await freshDb();
    await (await open(db.url)).close();
    cleanup.pop();
    const folder = migrationsWith([
      ['0001_a', 'ALTER TABLE "people" ADD COLUMN "a" text;'],
      ['0002_b', 'ALTER TABLE "people" ADD COLUMN "b" text;'],
    ]);
    await open(db.url, { migrationsFolder: folder });
    expect(await appliedCount(db)).toBe(ALL + 2);
    const cols = await db.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'people' AND column_name IN ('a', 'b') ORDER BY 1");
    expect(cols.rows.map((r) => r.c)).toEqual(['a', 'b']);
  });

  it('leave nothing half-migrated when a migration fails', async () => {
    const bad = migrationsWith([['0001_bad', 'ALTER TABLE "people" ADD COLUMN "half" text;\n--> statement-breakpoint\nALTER TABLE "no_such_table" ADD COLUMN "x" text;']]);
    // A fresh database: the first migration and the marker roll back with the failing one.
    const fresh = await freshDb();
    await expect(openPgMirror(fresh.url, { migrationsFolder: bad })).rejects.toThrow(/migration 0001_bad failed, nothing was changed: relation "no_such_table" does not exist/);
    expect(await relations(fresh)).toEqual([]);
    // A database at the bundled version stays exactly there.
    const older = await freshDb();
    await (await open(older.url)).close();
    cleanup.pop();
    const before = await relations(older);
    await expect(openPgMirror(older.url, { migrationsFolder: bad })).rejects.toThrow(/migration 0001_bad failed/);
    expect(await relations(older)).toEqual(before);
    expect(await appliedCount(older)).toBe(ALL);
    expect((await older.query("SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'half'")).rows[0]).toEqual({ n: 0 });
  });

  it('refuse a database of another program, touching nothing', async () => {
    const db = await freshDb();
    await db.query('CREATE TABLE customers (id int PRIMARY KEY, name text)');
    await db.query("INSERT INTO customers VALUES (1, 'Ada')");
    const err = await openPgMirror(db.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`DATABASE_URL: ${db.url} is not a leeloo-sync database (its schema has tables (customers) and no ${META_TABLE} table)`);
    expect(await relations(db)).toEqual(['customers']);
    expect((await db.query('SELECT * FROM customers')).rows).toEqual([{ id: 1, name: 'Ada' }]);

    // Our tables' names without our marker are not enough either.
    const lookalike = await freshDb();
    await lookalike.query('CREATE TABLE people (id text PRIMARY KEY)');
    await lookalike.query('CREATE TABLE __drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)');
    await expect(openPgMirror(lookalike.url)).rejects.toThrow(/is not a leeloo-sync database \(its schema has tables \(__drizzle_migrations, people\) and no leeloo_sync_meta table\)/);
    expect(await relations(lookalike)).toEqual(['__drizzle_migrations', 'people']);
  });

  it('refuse a database written by a newer leeloo-sync, touching nothing', async () => {
    const db = await freshDb();
    await (await open(db.url)).close();
    cleanup.pop();
    const last = readMigrations(PG_MIGRATIONS_DIR).migrations.at(-1)!.when;
    await db.query("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('abcdef0123456789', $1)", [last + 60_000]);
    const before = await relations(db);
    const err = await openPgMirror(db.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `DATABASE_URL: ${db.url}: database was written by a newer leeloo-sync (migration ${new Date(last + 60_000).toISOString()} abcdef012345); upgrade leeloo-sync`,
    );
    expect(await relations(db)).toEqual(before);
    expect(await appliedCount(db)).toBe(ALL + 1);
  });

  it('round-trips the SQLite rows\' JS values through drizzle: ISO text, JSON text, 0/1', async () => {
    const db = await freshDb();
    const m = await open(db.url);
    const raw = JSON.stringify({ id: 'p1', name: 'Ada', note: 'nul \0 inside', nested: { z: 1, a: [1, 2] } });
    await m.db.insert(people).values({ id: 'p1', name: 'Ada', createdAt: '2015-04-02T14:20:00.000Z', lastMessageTime: '2020-02-06T11:30:30.035Z', tags: '["vip","new"]', raw, syncedAt: '2026-01-01T00:00:00.000Z' });
    await m.db.insert(chatMessages).values([
      { id: 'm1', channelId: 'c1', read: 1, raw: '{}', syncedAt: '2026-01-01T00:00:00.000Z' },
      { id: 'm2', channelId: 'c1', read: 0, raw: '{}', syncedAt: '2026-01-01T00:00:00.000Z' },
      { id: 'm3', channelId: 'c1', read: null, raw: '{}', syncedAt: '2026-01-01T00:00:00.000Z' },
    ]);
    await m.db.insert(tunnelStats).values({ tunnelId: 't1', snapshotDate: '2026-03-01', raw: '{}', syncedAt: '2026-03-01T10:00:00.000Z' });
    await m.db.insert(syncState).values({ stream: 'people', cursor: '2026-01-01', state: '{"offset":100}', updatedAt: '2026-01-01T00:00:00.000Z' });
    // A session in another time zone changes nothing: the values are instants.
    await m.pool.query("ALTER DATABASE " + db.name + " SET timezone TO 'Asia/Kathmandu'");
    await m.close();
    cleanup.pop();
    const again = await open(db.url);
    const [p] = await again.db.select().from(people).where(eq(people.id, 'p1'));
    expect(p!.createdAt).toBe('2015-04-02T14:20:00.000Z');
    expect(p!.lastMessageTime).toBe('2020-02-06T11:30:30.035Z');
    expect(p!.syncedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(JSON.parse(p!.tags!)).toEqual(['vip', 'new']);
    expect(JSON.parse(p!.raw)).toEqual({ ...JSON.parse(raw), note: 'nul \ufffd inside' });
    const reads = await again.db.select({ id: chatMessages.id, read: chatMessages.read }).from(chatMessages).orderBy(chatMessages.id);
    expect(reads).toEqual([{ id: 'm1', read: 1 }, { id: 'm2', read: 0 }, { id: 'm3', read: null }]);
    expect((await again.db.select().from(tunnelStats))[0]!.snapshotDate).toBe('2026-03-01');
    expect((await again.db.select().from(syncState))[0]).toMatchObject({ cursor: '2026-01-01', state: '{"offset":100}', updatedAt: '2026-01-01T00:00:00.000Z' });
    // Raw SQL on the pool takes the SQLite rows' values as parameters…
    await again.pool.query('INSERT INTO chat_messages (id, channel_id, read, raw, synced_at) VALUES ($1, $2, $3, $4, $5)', ['m4', 'c1', 1, jsonbText('{"t":"a\\u0000b"}'), '2026-01-02T03:04:05.678Z']);
    expect((await again.db.select().from(chatMessages).where(eq(chatMessages.id, 'm4')))[0]).toMatchObject({ read: 1, raw: '{"t":"a\ufffdb"}', syncedAt: '2026-01-02T03:04:05.678Z' });
    await again.pool.query("DELETE FROM chat_messages WHERE id = 'm4'");
    // …and reads the same shapes as drizzle (and as SQLite rows).
    const rawRow = (await again.pool.query('SELECT created_at, last_message_time, tags, raw FROM people')).rows[0];
    expect(rawRow).toEqual({ created_at: p!.createdAt, last_message_time: p!.lastMessageTime, tags: p!.tags, raw: p!.raw });
    expect((await again.pool.query('SELECT id, read FROM chat_messages ORDER BY id')).rows).toEqual([{ id: 'm1', read: 1 }, { id: 'm2', read: 0 }, { id: 'm3', read: null }]);
    expect((await again.pool.query('SELECT snapshot_date, count(*) OVER () AS n FROM tunnel_stats')).rows).toEqual([{ snapshot_date: '2026-03-01', n: 1 }]);
    // Analysts see real types.
    const r = await db.query<{ y: number; vip: boolean; unread: string }>(
      "SELECT extract(year FROM created_at AT TIME ZONE 'UTC')::int AS y, tags ? 'vip' AS vip, (SELECT count(*) FROM chat_messages WHERE NOT read) AS unread FROM people",
    );
    expect(r.rows[0]).toEqual({ y: 2015, vip: true, unread: '1' });
  });
});
