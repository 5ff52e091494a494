import type Database from 'better-sqlite3';
import { and, eq, Param, Placeholder, sql, type SQL } from 'drizzle-orm';
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
  /**
   * Rows another stream created as stubs (raw NULL, e.g. channels known from a person's
   * `accounts`) count as inserted, not updated, when this stream first writes them.
   */
  adoptStubs?: boolean;
}

/**
 * A statement built once by drizzle and run by better-sqlite3 with positional arguments: drizzle
 * writes the SQL (names, quoting, conflict clauses) and a plan maps each `?` to a row's column,
 * so the hot path is one array fill per batch instead of a named-parameter object.
 */
interface Compiled {
  stmt: Database.Statement;
  /** Per `?`: [row index, column] of the batch, or a constant drizzle inlined. */
  plan: ([number, string] | { value: unknown })[];
}

function compile(sqlite: Database.Database, query: { toSQL(): { sql: string; params: unknown[] } }): Compiled {
  const q = query.toSQL();
  const plan = q.params.map((p): [number, string] | { value: unknown } => {
    // drizzle wraps a value bound to a column in a Param (value + the column's encoder).
    const v = p instanceof Param ? p.value : p;
    if (v instanceof Placeholder) {
      const [row, col] = (v as Placeholder<string>).name.split(':') as [string, string];
      return [Number(row), col];
    }
    return { value: p instanceof Param ? p.encoder.mapToDriverValue(v) : v };
  });
  return { stmt: sqlite.prepare(q.sql), plan };
}

function args(c: Compiled, rows: RowOf[]): unknown[] {
  const out = new Array<unknown>(c.plan.length);
  for (let k = 0; k < c.plan.length; k++) {
    const p = c.plan[k]!;
    out[k] = Array.isArray(p) ? (rows[p[0]]![p[1]] ?? null) : p.value;
  }
  return out;
}

const slot = (row: number, col: string) => sql.placeholder(`${row}:${col}`);

/** `n` rows of placeholders for `columns`, as drizzle's insert().values() takes them. */
function valueSlots(n: number, columns: string[]): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const v: Record<string, unknown> = {};
    for (const col of columns) v[col] = slot(i, col);
    return v;
  });
}

const rowsPerStatement = (columns: string[]) => Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(SQLITE_MAX_VARIABLES / columns.length)));

const clientOf = (db: Db) => (db as unknown as { $client: Database.Database }).$client;

/**
 * Upserts entity rows keyed by `id` whose change is detected by `raw`: new rows are inserted in
 * multi-row statements (chunked under SQLite's bound-variable limit); existing rows are updated
 * only when their payload differs, so an unchanged re-fetch writes nothing and counts as
 * unchanged. Statements are prepared once per chunk size. Synchronous: call inside a transaction.
 */
export class EntityUpserter {
  private readonly inserts = new Map<number, Compiled>();
  private readonly update: Compiled;
  private readonly adopt: Compiled | undefined;
  private readonly columns: string[];
  private readonly chunk: number;
  private readonly table: SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };
  private readonly sqlite: Database.Database;

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
    this.sqlite = clientOf(db);
    this.columns = opts.columns;
    this.chunk = rowsPerStatement(this.columns);
    const set: Record<string, unknown> = {};
    for (const c of this.columns) if (c !== 'id') set[c] = slot(0, c);
    Object.assign(set, opts.onChange ?? {});
    this.update = compile(
      this.sqlite,
      this.db
        .update(this.table)
        .set(set)
        .where(and(eq(this.table.id, slot(0, 'id')), sql`${this.table.raw} IS NOT ${slot(0, 'raw')}`)),
    );
    if (opts.adoptStubs) {
      this.adopt = compile(
        this.sqlite,
        this.db
          .update(this.table)
          .set(set)
          .where(and(eq(this.table.id, slot(0, 'id')), sql`${this.table.raw} IS NULL`)),
      );
    }
  }

  private insertFor(n: number): Compiled {
    let c = this.inserts.get(n);
    if (!c) {
      const values = valueSlots(n, this.columns);
      c = compile(this.sqlite, this.db.insert(this.table).values(values as never).onConflictDoNothing().returning({ id: this.table.id }));
      c.stmt.pluck();
      this.inserts.set(n, c);
    }
    return c;
  }

  upsert(rows: RowOf[]): UpsertResult {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    // Rows repeated within one batch (offset paging over live data can return a row twice):
    // the last occurrence wins, as it would with one statement per row.
    const unique = dedupeById(rows);
    for (let start = 0; start < unique.length; start += this.chunk) {
      const part = unique.length <= this.chunk ? unique : unique.slice(start, start + this.chunk);
      const ins = this.insertFor(part.length);
      const insertedIds = ins.stmt.all(args(ins, part)) as string[];
      result.inserted += insertedIds.length;
      if (insertedIds.length === part.length) continue;
      const inserted = new Set(insertedIds);
      for (const row of part) {
        if (inserted.has(row.id as string)) continue;
        if (this.adopt && this.adopt.stmt.run(args(this.adopt, [row])).changes > 0) result.inserted++;
        else if (this.update.stmt.run(args(this.update, [row])).changes > 0) result.updated++;
        else result.unchanged++;
      }
    }
    return result;
  }
}

function dedupeById(rows: RowOf[]): RowOf[] {
  const ids = new Set<unknown>();
  for (const r of rows) ids.add(r.id);
  if (ids.size === rows.length) return rows;
  const last = new Map<unknown, RowOf>();
  for (const r of rows) last.set(r.id, r);
  return [...last.values()];
}

/**
 * Replaces the child rows of a set of parents (a person's tags, custom fields, …): the API always
 * returns the whole list, so delete-then-insert is exact. Synchronous: call inside a transaction.
 */
export class ChildReplacer {
  private readonly del: Compiled;
  private readonly inserts = new Map<number, Compiled>();
  private readonly chunk: number;
  private readonly sqlite: Database.Database;

  constructor(
    private readonly db: Db,
    private readonly table: SQLiteTable,
    private readonly parentColumn: string,
    private readonly columns: string[],
  ) {
    const t = table as SQLiteTable & Record<string, SQLiteColumn>;
    const parent = t[parentColumn];
    if (!parent) throw new Error(`${getTableConfig(table).name} has no column ${parentColumn}`);
    this.sqlite = clientOf(db);
    this.del = compile(this.sqlite, db.delete(table).where(eq(parent, slot(0, parentColumn))));
    this.chunk = rowsPerStatement(columns);
  }

  private insertFor(n: number): Compiled {
    let c = this.inserts.get(n);
    if (!c) {
      c = compile(this.sqlite, this.db.insert(this.table).values(valueSlots(n, this.columns) as never).onConflictDoNothing());
      this.inserts.set(n, c);
    }
    return c;
  }

  replace(parentId: string, rows: RowOf[]): void {
    this.del.stmt.run(args(this.del, [{ [this.parentColumn]: parentId }]));
    for (let start = 0; start < rows.length; start += this.chunk) {
      const part = rows.slice(start, start + this.chunk).map((r) => ({ ...r, [this.parentColumn]: parentId }));
      const ins = this.insertFor(part.length);
      ins.stmt.run(args(ins, part));
    }
  }
}
