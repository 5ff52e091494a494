import type Database from 'better-sqlite3';
import { getTableColumns, is, type SQL } from 'drizzle-orm';
import { getTableConfig as pgConfig, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type pg from 'pg';
import type { PgDb } from '../../src/db/pg.js';
import * as pgSchema from '../../src/db/schema-pg.js';
import * as liteSchema from '../../src/db/schema.js';
import type { Store } from '../../src/db/store/types.js';

/**
 * Copies every base table of a SQLite mirror into a migrated PostgreSQL mirror, table by table
 * as the lockstep schemas pair them (same table and column names): rows read by column name
 * from SQLite go through schema-pg.ts's column types (jsonb, timestamptz, boolean), as the sync's
 * own writes would. Identity sequences are moved past the copied ids. Returns rows per table.
 */
export async function copyToPg(sqlite: Database.Database, db: PgDb, pool: pg.Pool): Promise<Record<string, number>> {
  const pgTables = new Map<string, PgTable>();
  for (const t of Object.values(pgSchema)) if (is(t, PgTable)) pgTables.set(pgConfig(t).name, t);
  const copied: Record<string, number> = {};
  for (const lite of Object.values(liteSchema)) {
    if (!is(lite, SQLiteTable)) continue;
    const name = sqliteConfig(lite).name;
    const target = pgTables.get(name);
    if (!target) throw new Error(`${name}: no table of that name in schema-pg.ts`);
    // column name → the drizzle key of the PostgreSQL column, so values go through its type.
    const keyOf = new Map(Object.entries(getTableColumns(target)).map(([key, col]) => [col.name, key]));
    const rows = sqlite.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
    const mapped = rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([col, v]) => {
          const key = keyOf.get(col);
          if (key === undefined) throw new Error(`${name}.${col}: no such column in schema-pg.ts`);
          return [key, v];
        }),
      ),
    );
    const perChunk = Math.max(1, Math.floor(30_000 / Math.max(1, keyOf.size)));
    for (let i = 0; i < mapped.length; i += perChunk) await db.insert(target).values(mapped.slice(i, i + perChunk));
    for (const col of pgConfig(target).columns) {
      if (col.generatedIdentity === undefined || rows.length === 0) continue;
      await pool.query(`SELECT setval(pg_get_serial_sequence($1, $2), (SELECT max("${col.name}") FROM "${name}"))`, [name, col.name]);
    }
    copied[name] = rows.length;
  }
  return copied;
}

/**
 * The read half of a Store over a bare connection, for tests that compare the two backends before
 * the sync writes to PostgreSQL: drizzle `sql` compiled by each dialect, as the stores do.
 */
export type StoreReader = Pick<Store, 'dialect' | 'all' | 'get' | 'run'>;

export function pgReader(pool: pg.Pool): StoreReader {
  const dialect = new PgDialect();
  const all = async <R>(q: SQL): Promise<R[]> => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    return (await pool.query(text, params)).rows as R[];
  };
  const run = async (q: SQL): Promise<number> => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    return (await pool.query(text, params)).rowCount ?? 0;
  };
  return { dialect: 'postgres', all, get: async <R>(q: SQL) => (await all<R>(q))[0], run };
}

export function sqliteReader(sqlite: Database.Database): StoreReader {
  const dialect = new SQLiteSyncDialect();
  const all = async <R>(q: SQL): Promise<R[]> => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    return sqlite.prepare(text).all(...params) as R[];
  };
  const run = async (q: SQL): Promise<number> => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    return sqlite.prepare(text).run(...params).changes;
  };
  return { dialect: 'sqlite', all, get: async <R>(q: SQL) => (await all<R>(q))[0], run };
}
