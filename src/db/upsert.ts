import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { getTableConfig } from 'drizzle-orm/sqlite-core';
import type { Db } from './connection.js';

/** A named parameter usable anywhere drizzle takes SQL (prepared statements fill it at run time). */
export const ph = (name: string): SQL => sql`${sql.placeholder(name)}`;

/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32. */
export const SQLITE_MAX_VARIABLES = 32_766;
const MAX_ROWS_PER_STATEMENT = 500;

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export type RowOf = Record<string, unknown>;

export interface EntityUpserterOptions {
  /** Table property names this upserter writes; every row must carry all of them. */
  columns: string[];
  /** Extra assignments applied only when an existing row's `raw` changed (e.g. mark details due). */
  onChange?: Record<string, SQL | null>;
}

/**
 * Upserts entity rows keyed by `id` whose change is detected by `raw`: new rows are inserted in
 * multi-row statements (chunked under SQLite's bound-variable limit); existing rows are updated
 * only when their payload differs, so an unchanged re-fetch writes nothing and counts as
 * unchanged. Statements are prepared once per chunk size. Synchronous: call inside a transaction.
 */
export class EntityUpserter {
  private readonly inserts = new Map<number, { all(p: Record<string, unknown>): { id: string }[] }>();
  private readonly update: { run(p: Record<string, unknown>): { changes: number } };
  private readonly columns: string[];
  private readonly chunk: number;
  private readonly table: SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };

  constructor(
    private readonly db: Db,
    table: SQLiteTable,
    opts: EntityUpserterOptions,
  ) {
    const t = table as SQLiteTable & Record<string, SQLiteColumn>;
    if (!t.id || !t.raw) throw new Error(`${getTableConfig(table).name}: an entity table needs id and raw columns`);
    this.table = t as unknown as SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };
    for (const c of opts.columns) {
      if (!(c in t)) throw new Error(`${getTableConfig(table).name} has no column ${c}`);
    }
    if (!opts.columns.includes('id') || !opts.columns.includes('raw')) throw new Error('columns must include id and raw');
    this.columns = opts.columns;
    this.chunk = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(SQLITE_MAX_VARIABLES / this.columns.length)));
    const set: Record<string, unknown> = {};
    for (const c of this.columns) if (c !== 'id') set[c] = sql.placeholder(c);
    Object.assign(set, opts.onChange ?? {});
    this.update = this.db
      .update(this.table)
      .set(set)
      .where(and(eq(this.table.id, sql.placeholder('id')), sql`${this.table.raw} IS NOT ${sql.placeholder('raw')}`))
      .prepare() as unknown as { run(p: Record<string, unknown>): { changes: number } };
  }

  private insertFor(n: number) {
    let stmt = this.inserts.get(n);
    if (!stmt) {
      const values = Array.from({ length: n }, (_, i) => {
        const v: Record<string, unknown> = {};
        for (const c of this.columns) v[c] = sql.placeholder(`${c}${i}`);
        return v;
      });
      stmt = this.db
        .insert(this.table)
        .values(values as never)
        .onConflictDoNothing()
        .returning({ id: this.table.id })
        .prepare() as unknown as { all(p: Record<string, unknown>): { id: string }[] };
      this.inserts.set(n, stmt);
    }
    return stmt;
  }

  upsert(rows: RowOf[]): UpsertResult {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    // Rows repeated within one batch (offset paging over live data can return a row twice):
    // the last occurrence wins, as it would with one statement per row.
    const unique = dedupeById(rows);
    for (let start = 0; start < unique.length; start += this.chunk) {
      const part = unique.slice(start, start + this.chunk);
      const params: Record<string, unknown> = {};
      part.forEach((row, i) => {
        for (const c of this.columns) params[`${c}${i}`] = row[c] ?? null;
      });
      const insertedIds = new Set(this.insertFor(part.length).all(params).map((r) => r.id));
      result.inserted += insertedIds.size;
      for (const row of part) {
        if (insertedIds.has(row.id as string)) continue;
        const p: Record<string, unknown> = {};
        for (const c of this.columns) p[c] = row[c] ?? null;
        if (this.update.run(p).changes > 0) result.updated++;
        else result.unchanged++;
      }
    }
    return result;
  }
}

function dedupeById(rows: RowOf[]): RowOf[] {
  const seen = new Map<unknown, RowOf>();
  for (const r of rows) seen.set(r.id, r);
  return seen.size === rows.length ? rows : [...seen.values()];
}

/**
 * Replaces the child rows of a set of parents (a person's tags, custom fields, …): the API always
 * returns the whole list, so delete-then-insert is exact. Synchronous: call inside a transaction.
 */
export class ChildReplacer {
  private readonly del: { run(p: Record<string, unknown>): unknown };
  private readonly inserts = new Map<number, { run(p: Record<string, unknown>): unknown }>();
  private readonly chunk: number;

  constructor(
    private readonly db: Db,
    private readonly table: SQLiteTable,
    private readonly parentColumn: string,
    private readonly columns: string[],
  ) {
    const t = table as SQLiteTable & Record<string, SQLiteColumn>;
    const parent = t[parentColumn];
    if (!parent) throw new Error(`${getTableConfig(table).name} has no column ${parentColumn}`);
    this.del = db.delete(table).where(eq(parent, sql.placeholder('parent'))).prepare() as never;
    this.chunk = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(SQLITE_MAX_VARIABLES / columns.length)));
  }

  private insertFor(n: number) {
    let stmt = this.inserts.get(n);
    if (!stmt) {
      const values = Array.from({ length: n }, (_, i) => {
        const v: Record<string, unknown> = {};
        for (const c of this.columns) v[c] = sql.placeholder(`${c}${i}`);
        return v;
      });
      stmt = this.db.insert(this.table).values(values as never).onConflictDoNothing().prepare() as never;
      this.inserts.set(n, stmt!);
    }
    return stmt!;
  }

  replace(parentId: string, rows: RowOf[]): void {
    this.del.run({ parent: parentId });
    for (let start = 0; start < rows.length; start += this.chunk) {
      const part = rows.slice(start, start + this.chunk);
      const params: Record<string, unknown> = {};
      part.forEach((row, i) => {
        for (const c of this.columns) params[`${c}${i}`] = c === this.parentColumn ? parentId : (row[c] ?? null);
      });
      this.insertFor(part.length).run(params);
    }
  }
}
