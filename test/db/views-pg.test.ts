import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mirror } from '../../src/db/connection.js';
import { openPgMirror, type PgMirror } from '../../src/db/pg.js';
import { refreshPgDerivedViews, refreshPgRollups, refreshPgWideView } from '../../src/db/views-pg.js';
import { ROLLUPS, WIDE_VIEW, wideColumns } from '../../src/db/wide-view.js';
import { readStatusFrom } from '../../src/cli/status-read.js';
import { rowCounts } from '../../src/dashboard/mirror.js';
import { readReportData } from '../../src/reports/data.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { copyToPg, pgReader, sqliteReader } from '../helpers/copy-to-pg.js';
import { tempDbPath } from '../helpers/mirror.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { prepareViewsMirror, readBase, viewChecks, type ViewsFixture } from './views-checks.js';

/*
 * The views on PostgreSQL (migrations-pg/0003_views.sql), over a copy of the SQLite mirror of
 * views.test.ts (the PostgreSQL sync lands separately): the same checks against the same
 * references, and the report read from the copy equal to the one read from the original.
 */
describe('analyst views (PostgreSQL)', () => {
  let sim: Simulator;
  let mirror: Mirror;
  let pgdb: TestDatabase;
  let pgm: PgMirror;
  let copied: Record<string, number>;
  const db = tempDbPath('ls-views-pg-');
  const fx = {} as ViewsFixture;

  const columnsOf = async (view: string) =>
    (
      await pgm.pool.query<{ column_name: string; data_type: string }>(
        'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
        [view],
      )
    ).rows;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, people: 200 });
    mirror = await prepareViewsMirror(sim, db.path);
    pgdb = await createTestDatabase();
    pgm = await openPgMirror(pgdb.url);
    copied = await copyToPg(mirror.sqlite, pgm.db, pgm.pool);
    await refreshPgDerivedViews(pgm.pool);
    const store = pgReader(pgm.pool);
    const read = async <T>(q: string) => (await pgm.pool.query(q)).rows as T[];
    Object.assign(fx, {
      store,
      read,
      exec: async (q) => void (await store.run(q)),
      refresh: async () => {
        const wideView = await refreshPgWideView(pgm.pool);
        await refreshPgRollups(pgm.pool);
        return { wideView };
      },
      wideViewColumns: async () => (await columnsOf(WIDE_VIEW)).map((c) => c.column_name),
      base: await readBase(read),
    } satisfies ViewsFixture);
  }, 240_000);

  afterAll(async () => {
    await pgm?.close();
    await pgdb?.drop();
    mirror?.close();
    await sim?.close();
    db.cleanup();
  });

  it('the copy holds every base row of the SQLite mirror', async () => {
    expect(copied.people).toBeGreaterThan(150);
    expect(copied.chat_messages).toBeGreaterThan(500);
    for (const [table, n] of Object.entries(copied)) {
      expect((await pgm.pool.query<{ n: number }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0]!.n, table).toBe(n);
    }
  });

  it('readReportData on the PostgreSQL copy equals readReportData on the SQLite original', async () => {
    const now = new Date();
    const lite = await readReportData(sqliteReader(mirror.sqlite), now);
    const post = await readReportData(pgReader(pgm.pool), now);
    expect(post.funnel.length).toBeGreaterThan(10);
    expect(post.messages.length).toBeGreaterThan(10);
    expect(post.topTags.length).toBeGreaterThan(0);
    expect(post.streams.length).toBeGreaterThan(5);
    // dataAsOf is when each backend's rollups were written; everything charted must be equal.
    const charts = ({ dataAsOf: _, ...rest }: typeof lite) => ({ ...rest, revenue: rest.revenue.map((r) => ({ ...r, revenue: Math.round(r.revenue * 1e6) / 1e6 })) });
    expect(charts(post)).toEqual(charts(lite));
  });

  it('status and the dashboard\'s row counts read the same from the PostgreSQL copy as from the SQLite original', async () => {
    const lite = await readStatusFrom(sqliteReader(mirror.sqlite), 2);
    const post = await readStatusFrom(pgReader(pgm.pool), 2);
    expect(post.cursors.length).toBeGreaterThan(2);
    expect(post.lastRuns.length).toBeGreaterThan(5);
    expect(post).toEqual(lite);
    const counts = await rowCounts(pgReader(pgm.pool));
    expect(counts).toEqual(await rowCounts(sqliteReader(mirror.sqlite)));
    expect(counts.people).toBe(copied.people);
  });

  it('gives PostgreSQL types: jsonb, timestamptz, date, integer counts', async () => {
    const types = async (view: string) => Object.fromEntries((await columnsOf(view)).map((c) => [c.column_name, c.data_type]));
    expect(await types('people_current')).toMatchObject({ tags: 'jsonb', custom_fields: 'jsonb', revenue_by_currency: 'jsonb', created_at: 'timestamp with time zone', orders: 'integer' });
    expect(await types('orders_current')).toMatchObject({ day: 'date', created_at: 'timestamp with time zone', price: 'double precision' });
    expect(await types('messages_daily')).toEqual({ day: 'date', source: 'text', type: 'text', messages: 'integer', channels: 'integer' });
    expect(await types('funnel_daily')).toEqual({ day: 'date', new_people: 'integer', people_wrote: 'integer', people_ordered: 'integer' });
  });

  it('counts UTC days whatever the session time zone', async () => {
    const q = 'SELECT day, messages FROM messages_daily ORDER BY day, source, type';
    const utc = (await pgm.pool.query(q)).rows;
    const client = await pgm.pool.connect();
    try {
      await client.query("SET TIME ZONE 'Pacific/Kiritimati'"); // UTC+14: most days would shift
      expect((await client.query(q)).rows).toEqual(utc);
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
  });

  viewChecks(fx);

  /** docs/schema.md's example queries of the views, each with the backends it is given for. */
  function examples(): { sql: string; on: ('sqlite' | 'postgres')[] }[] {
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    const views = doc.slice(doc.indexOf('\n# Views for analysts'));
    const out: { sql: string; on: ('sqlite' | 'postgres')[] }[] = [];
    for (const [, block] of views.matchAll(/```sql\n([\s\S]*?)```/g)) {
      let on: ('sqlite' | 'postgres')[] = ['sqlite', 'postgres'];
      let text = '';
      for (const line of block!.split('\n')) {
        if (/^--.*\bSQLite:\s*$/.test(line)) on = ['sqlite'];
        else if (/^--.*\bPostgreSQL:\s*$/.test(line)) on = ['postgres'];
        else if (/^--.*\bBoth:\s*$/.test(line)) on = ['sqlite', 'postgres'];
        text += `${line.replace(/--.*$/, '')}\n`;
        if (line.trim().endsWith(';')) {
          if (text.trim()) out.push({ sql: text.trim(), on });
          text = '';
        }
      }
    }
    return out;
  }

  it('docs/schema.md documents every PostgreSQL view column, and its example queries run on the backends they are given for', async () => {
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    const views = (await pgm.pool.query<{ name: string }>("SELECT table_name AS name FROM information_schema.views WHERE table_schema = current_schema()")).rows.map((r) => r.name);
    expect(views.length).toBeGreaterThanOrEqual(8);
    for (const v of views) {
      const start = doc.indexOf(`\n## ${v}\n`);
      expect(start, v).toBeGreaterThan(-1);
      const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
      for (const c of await columnsOf(v)) {
        if (v === WIDE_VIEW && c.column_name !== 'person_id') continue; // the data's own names
        const row = section.split('\n').find((l) => l.startsWith(`| \`${c.column_name}\` |`));
        expect(row, `${v}.${c.column_name}`).toBeDefined();
        const plain = ['text', 'integer', 'double precision'].includes(c.data_type);
        if (!plain) expect(row, `${v}.${c.column_name} is ${c.data_type}`).toContain(`(PG: ${c.data_type === 'timestamp with time zone' ? 'timestamptz' : c.data_type})`);
      }
    }
    const ex = examples();
    expect(ex.filter((e) => e.on.length === 1).length).toBeGreaterThan(8);
    // The wide view's `budget` column is an example name that the simulated company may not have.
    const runnable = ex.filter((e) => !/\bbudget\b/.test(e.sql));
    for (const e of runnable) {
      if (e.on.includes('postgres')) await expect(pgm.pool.query(e.sql).then(() => 'ok'), e.sql).resolves.toBe('ok');
      if (e.on.includes('sqlite')) expect(() => mirror.sqlite.prepare(e.sql).all(), e.sql).not.toThrow();
    }
  });

  it('wide view columns are sanitised and collision-safe, and the view is rebuilt when the names change', async () => {
    const person = fx.base.people.find((p) => p.deleted_at === null)!.id;
    const odd = ['City', 'city', 'CITY', 'Город', "it's", '1st name', 'person_id', '🎉', 'x'.repeat(80), `${'x'.repeat(80)}!`];
    for (const [i, name] of odd.entries()) {
      await fx.exec(sql`INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (${person}, ${700 + i}, ${name}, 'KEYWORD', ${`v${i}`})`);
    }
    try {
      expect(await refreshPgWideView(pgm.pool)).toBe(true);
      const names = (await pgm.pool.query<{ name: string }>('SELECT DISTINCT name FROM custom_fields')).rows.map((r) => r.name).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const expected = wideColumns(names);
      expect(await fx.wideViewColumns()).toEqual(['person_id', ...expected.map((c) => c.column)]);
      const row = (await pgm.pool.query<Record<string, string | null>>(`SELECT * FROM ${WIDE_VIEW} WHERE person_id = $1`, [person])).rows[0]!;
      for (const [i, name] of odd.entries()) expect(row[expected.find((c) => c.name === name)!.column], name).toBe(`v${i}`);
      expect(await refreshPgWideView(pgm.pool)).toBe(false);
    } finally {
      await fx.exec(sql`DELETE FROM custom_fields WHERE ordinal >= 700`);
    }
    expect(await refreshPgWideView(pgm.pool)).toBe(true);
    expect(await fx.wideViewColumns()).not.toContain('gorod');
  });

  it('concurrent refreshes neither double the rollups nor fail on the wide view', async () => {
    const person = fx.base.people.find((p) => p.deleted_at === null)!.id;
    await fx.exec(sql`INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (${person}, 800, 'Concurrent field', 'KEYWORD', 'c')`);
    try {
      const rebuilt = await Promise.all([refreshPgWideView(pgm.pool), refreshPgWideView(pgm.pool), refreshPgWideView(pgm.pool)]);
      expect(rebuilt.filter(Boolean)).toEqual([true]);
      expect(await fx.wideViewColumns()).toContain('concurrent_field');
      await Promise.all([refreshPgRollups(pgm.pool), refreshPgRollups(pgm.pool), refreshPgRollups(pgm.pool)]);
      const n = async (from: string) => (await pgm.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${from}`)).rows[0]!.n;
      for (const r of ROLLUPS) expect(await n(r.table), r.table).toBe(await n(r.view));
    } finally {
      await fx.exec(sql`DELETE FROM custom_fields WHERE ordinal = 800`);
      await refreshPgWideView(pgm.pool);
    }
  });

  it('history tables: the copy equals the original, and both backends take and refuse the same intervals', async () => {
    const q = 'SELECT order_id, status, valid_from, valid_to FROM order_status_history ORDER BY order_id, valid_from';
    const lite = mirror.sqlite.prepare(q).all() as { order_id: string }[];
    expect(lite.length).toBeGreaterThan(0);
    const post = (await pgm.pool.query(q)).rows as typeof lite;
    const byId = (rows: typeof lite) => [...rows].sort((a, b) => (a.order_id < b.order_id ? -1 : a.order_id > b.order_id ? 1 : 0));
    expect(byId(post)).toEqual(byId(lite));
    const stores = [sqliteReader(mirror.sqlite), pgReader(pgm.pool)];
    for (const s of stores) {
      const interval = sql`INSERT INTO person_tag_history (person_id, tag, valid_from, valid_to) VALUES ('h-test', 'vip', '2026-03-01T10:00:00.000Z', '2026-03-02T10:00:00.000Z')`;
      expect(await s.run(interval), s.dialect).toBe(1);
      expect(await s.all(sql`SELECT valid_from AS "from", valid_to AS "to" FROM person_tag_history WHERE person_id = 'h-test'`), s.dialect).toEqual([
        { from: '2026-03-01T10:00:00.000Z', to: '2026-03-02T10:00:00.000Z' },
      ]);
      await expect(s.run(sql`INSERT INTO person_tag_history (person_id, tag, valid_from) VALUES ('h-test', 'vip', NULL)`), s.dialect).rejects.toThrow(/NOT NULL|null value/i);
      await expect(s.run(sql`INSERT INTO order_status_history (order_id, status, valid_from) VALUES (NULL, 'paid', '2026-03-01T10:00:00.000Z')`), s.dialect).rejects.toThrow(/NOT NULL|null value/i);
      await s.run(sql`DELETE FROM person_tag_history WHERE person_id = 'h-test'`);
    }
  });
});
