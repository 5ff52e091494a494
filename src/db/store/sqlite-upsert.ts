/**
 * The SQLite side of the Store's entity, guarded and child writers (types.ts), synchronous:
 * SqliteStore runs them on its connection, inside whatever transaction the caller holds.
 */
import type Database from 'better-sqlite3';
import { and, eq, getTableColumns, Param, Placeholder, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { getTableConfig } from 'drizzle-orm/sqlite-core';
import type { Db } from '../connection.js';
import { dedupeById, rowsPerStatement, type AnyRow } from './rows.js';
import type { InsertRow, UpsertResult } from './types.js';

/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32. */
export const SQLITE_MAX_VARIABLES = 32_766;

export interface EntityUpserterOptions {
  /** Extra assignments applied only when an existing row's `raw` changed (e.g. mark details due). */
  onChange?: Record<string, SQL | null>;
  /**
   * Rows another stream created as stubs (raw NULL, e.g. channels known from a person's
   * `accounts`) count as inserted, not updated, when this stream first writes them.
   */
  adoptStubs?: boolean;
  /** Called, inside upsert(), with the id of every row inserted or changed (not the unchanged ones). */
  onWritten?: (id: string) => void;
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
  const q = planOf(query);
  return { stmt: sqlite.prepare(q.sql), plan: q.plan };
}

function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): { sql: string; plan: Compiled['plan'] } {
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
  return { sql: q.sql, plan };
}

function args(c: Compiled, rows: readonly AnyRow[]): unknown[] {
  const out = new Array<unknown>(c.plan.length);
  for (let k = 0; k < c.plan.length; k++) {
    const p = c.plan[k]!;
    out[k] = Array.isArray(p) ? (rows[p[0]]![p[1]] ?? null) : p.value;
  }
  return out;
}

const slot = (row: number, col: string) => sql.placeholder(`${row}:${col}`);

type Step = Compiled['plan'][number];

/**
 * The n-row forms of one multi-row statement, from drizzle's 1- and 2-row compilations: the
 * 2-row text must be the 1-row text with its row tuple repeated (checked, else drizzle builds each
 * size). drizzle's compile per row count was 3 % of a full sync's CPU (pages end at any size).
 */
export class MultiRow {
  private readonly byCount = new Map<number, Compiled>();
  /** Undefined when drizzle's texts did not fit the pattern (each size is then compiled by drizzle). */
  readonly template: { head: string; tuple: string; tail: string; before: Step[]; row: Step[]; after: Step[] } | undefined;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly build: (n: number) => { toSQL(): { sql: string; params: unknown[] } },
    /** Statements returning one column, read as plain values. */
    private readonly pluck = false,
  ) {
    const one = planOf(build(1)), two = planOf(build(2));
    const k = two.plan.length - one.plan.length;
    let cut = 0;
    while (cut < one.sql.length && one.sql[cut] === two.sql[cut]) cut++;
    const tupleLength = two.sql.length - one.sql.length - 2;
    const tuple = two.sql.slice(cut + 2, cut + 2 + tupleLength);
    const head = one.sql.slice(0, cut - tupleLength), tail = one.sql.slice(cut);
    const a = head.split('?').length - 1;
    const t = { head, tuple, tail, before: one.plan.slice(0, a), row: one.plan.slice(a, a + k), after: one.plan.slice(a + k) };
    const same = (x: Step[], y: Step[]) => x.length === y.length && x.every((p, i) => JSON.stringify(p) === JSON.stringify(y[i]));
    const ok = k > 0 && tupleLength > 0 && one.sql.slice(cut - tupleLength, cut) === tuple && two.sql === `${head}${tuple}, ${tuple}${tail}` && same(expand(t, 2), two.plan);
    this.template = ok ? t : undefined;
  }

  for(n: number): Compiled {
    let c = this.byCount.get(n);
    if (!c) {
      const t = this.template;
      if (t) c = { stmt: this.sqlite.prepare(`${t.head}${Array.from({ length: n }, () => t.tuple).join(', ')}${t.tail}`), plan: expand(t, n) };
      else c = compile(this.sqlite, this.build(n));
      if (this.pluck) c.stmt.pluck();
      this.byCount.set(n, c);
    }
    return c;
  }
}

function expand(t: { before: Step[]; row: Step[]; after: Step[] }, n: number): Step[] {
  const plan = [...t.before];
  for (let i = 0; i < n; i++) for (const p of t.row) plan.push(Array.isArray(p) ? [p[0] + i, p[1]] : p);
  return plan.concat(t.after);
}

/** `n` rows of placeholders for `columns`, as drizzle's insert().values() takes them. */
function valueSlots(n: number, columns: readonly string[]): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const v: Record<string, unknown> = {};
    for (const col of columns) v[col] = slot(i, col);
    return v;
  });
}

const chunkFor = (columns: readonly string[]) => rowsPerStatement(columns.length, SQLITE_MAX_VARIABLES);

const clientOf = (db: Db) => (db as unknown as { $client: Database.Database }).$client;

/**
 * The columns a batch writes: the keys of its first row, as the stream's mapper returned them
 * (so the column list is written once, in the mapper). Every row a mapper returns has the same
 * keys; a batch whose first row differs from the first batch's is a bug and fails loudly.
 */
class Columns {
  private cols: readonly string[] | undefined;

  constructor(private readonly table: SQLiteTable) {}

  of(row: AnyRow | undefined, required: readonly string[] = []): readonly string[] | undefined {
    if (!row) return this.cols;
    if (this.cols) {
      if (Object.keys(row).length !== this.cols.length) throw new Error(`${getTableConfig(this.table).name}: rows of one upserter must carry the same columns`);
      return this.cols;
    }
    const cols = Object.keys(row);
    const t = getTableColumns(this.table);
    for (const c of cols) if (!(c in t)) throw new Error(`${getTableConfig(this.table).name} has no column ${c}`);
    for (const c of required) if (!cols.includes(c)) throw new Error(`rows of ${getTableConfig(this.table).name} must carry ${required.join(' and ')}`);
    this.cols = cols;
    return cols;
  }
}

/**
 * Upserts entity rows keyed by `id` whose change is detected by `raw`: new rows are inserted in
 * multi-row statements (chunked under SQLite's bound-variable limit); existing rows are updated
 * only when their payload differs, so an unchanged re-fetch writes nothing and counts as
 * unchanged. Statements are prepared once (per chunk size), on the first batch, from the
 * columns of its first row. Synchronous: call inside a transaction.
 */
export class EntityUpserter<T extends SQLiteTable> {
  private inserts: MultiRow | undefined;
  private updates: MultiRow | undefined;
  private readonly stubs = new Map<number, Database.Statement>();
  private set: Record<string, unknown> | undefined;
  private chunk = 1;
  private readonly columns: Columns;
  private readonly table: SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };
  private readonly sqlite: Database.Database;

  constructor(
    private readonly db: Db,
    table: T,
    private readonly opts: EntityUpserterOptions = {},
  ) {
    const t = table as SQLiteTable & Partial<Record<'id' | 'raw', SQLiteColumn>>;
    if (!t.id || !t.raw) throw new Error(`${getTableConfig(table).name}: an entity table needs id and raw columns`);
    this.table = t as SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };
    this.sqlite = clientOf(db);
    this.columns = new Columns(table);
  }

  /** The assignments of a changed row, from the first row's columns (once). */
  private prepare(columns: readonly string[]): void {
    if (this.set) return;
    this.chunk = chunkFor(columns);
    const cols = getTableColumns(this.table);
    const set: Record<string, unknown> = {};
    for (const c of columns) if (c !== 'id') set[c] = sql.raw(`excluded."${cols[c]!.name}"`);
    Object.assign(set, this.opts.onChange ?? {});
    this.set = set;
  }

  private insertFor(n: number, columns: readonly string[]): Compiled {
    this.inserts ??= new MultiRow(this.sqlite, (k) => this.db.insert(this.table).values(valueSlots(k, columns)).onConflictDoNothing().returning({ id: this.table.id }), true);
    return this.inserts.for(n);
  }

  /**
   * The existing rows of a batch in one statement, not one UPDATE each: an upsert whose conflict
   * branch writes only the rows whose `raw` differs, returning their ids.
   */
  private updateFor(n: number, columns: readonly string[]): Compiled {
    const where = sql`${this.table.raw} IS DISTINCT FROM ${sql.raw(`excluded."${this.table.raw.name}"`)}`;
    this.updates ??= new MultiRow(
      this.sqlite,
      (k) => this.db.insert(this.table).values(valueSlots(k, columns)).onConflictDoUpdate({ target: this.table.id, set: this.set!, where }).returning({ id: this.table.id }),
      true,
    );
    return this.updates.for(n);
  }

  /** Which of `ids` are another stream's stubs (raw NULL): SQLite's RETURNING cannot tell. */
  private stubsAmong(ids: readonly string[]): Set<string> {
    let s = this.stubs.get(ids.length);
    if (!s) {
      const t = getTableConfig(this.table).name;
      s = this.sqlite.prepare(`SELECT "id" FROM "${t}" WHERE "raw" IS NULL AND "id" IN (${ids.map(() => '?').join(', ')})`).pluck();
      this.stubs.set(ids.length, s);
    }
    return new Set(s.all(...ids) as string[]);
  }

  upsert(rows: readonly InsertRow<T>[]): UpsertResult {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    const columns = this.columns.of(rows[0], ['id', 'raw']);
    if (!columns) return result;
    this.prepare(columns);
    const unique = dedupeById(rows);
    for (let start = 0; start < unique.length; start += this.chunk) {
      const part = unique.length <= this.chunk ? unique : unique.slice(start, start + this.chunk);
      const ins = this.insertFor(part.length, columns);
      const insertedIds = ins.stmt.all(args(ins, part)) as string[];
      result.inserted += insertedIds.length;
      const written = this.opts.onWritten;
      if (written) for (const id of insertedIds) written(id);
      if (insertedIds.length === part.length) continue;
      const inserted = new Set(insertedIds);
      const rest = part.filter((row) => !inserted.has(row.id as string));
      const stubs = this.opts.adoptStubs ? this.stubsAmong(rest.map((row) => row.id as string)) : undefined;
      const up = this.updateFor(rest.length, columns);
      const changed = up.stmt.all(args(up, rest)) as string[];
      for (const id of changed) {
        if (stubs?.has(id)) result.inserted++;
        else result.updated++;
        written?.(id);
      }
      result.unchanged += rest.length - changed.length;
    }
    return result;
  }
}

/** The placeholder of the raw a guarded update expects (not a column name). */
const GUARD = '$guard';

/**
 * Writes a record's detail columns only while its list row is still the one the detail was
 * fetched for (`raw` unchanged); otherwise the record changed meanwhile and stays due. Built on
 * the first row, from its keys. Synchronous: call inside a transaction.
 */
export class GuardedUpdate<T extends SQLiteTable> {
  private stmt: Compiled | undefined;
  private readonly columns: Columns;
  private readonly table: SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };

  constructor(
    private readonly db: Db,
    table: T,
  ) {
    const t = table as SQLiteTable & Partial<Record<'id' | 'raw', SQLiteColumn>>;
    if (!t.id || !t.raw) throw new Error(`${getTableConfig(table).name}: a guarded update needs id and raw columns`);
    this.table = t as SQLiteTable & { id: SQLiteColumn; raw: SQLiteColumn };
    this.columns = new Columns(table);
  }

  /** False when the row's `raw` is no longer `raw` (nothing written). */
  run(id: string, raw: string, row: Partial<InsertRow<T>>): boolean {
    const columns = this.columns.of(row)!;
    if (!this.stmt) {
      const set: Record<string, unknown> = {};
      for (const c of columns) set[c] = slot(0, c);
      const where = and(eq(this.table.id, slot(0, 'id')), eq(this.table.raw, slot(0, GUARD)));
      this.stmt = compile(clientOf(this.db), this.db.update(this.table).set(set).where(where));
    }
    return this.stmt.stmt.run(args(this.stmt, [{ ...row, id, [GUARD]: raw }])).changes > 0;
  }
}


/**
 * Replaces the child rows of a set of parents (a person's tags, custom fields, …): the API always
 * returns the whole list, so delete-then-insert is exact. A list equal to the stored one (as a
 * multiset of rows) writes nothing: most re-fetched details did not change their children, and
 * one indexed SELECT is far cheaper than a delete, inserts and their index updates. Rows come
 * without the parent column, which is filled in; their columns are those of the first row.
 */
export class ChildReplacer<T extends SQLiteTable, P extends keyof InsertRow<T> & string> {
  private readonly del: Compiled;
  private inserts: MultiRow | undefined;
  private current: { stmt: Database.Statement; columns: readonly string[] } | undefined;
  private any: Database.Statement | undefined;
  private readonly columns: Columns;
  private readonly sqlite: Database.Database;

  constructor(
    private readonly db: Db,
    private readonly table: T,
    private readonly parentColumn: P,
  ) {
    const parent = getTableColumns(table)[parentColumn];
    if (!parent) throw new Error(`${getTableConfig(table).name} has no column ${parentColumn}`);
    this.sqlite = clientOf(db);
    this.del = compile(this.sqlite, db.delete(table).where(eq(parent, slot(0, parentColumn))));
    this.columns = new Columns(table);
  }

  private insertFor(n: number, columns: readonly string[]): Compiled {
    const table: SQLiteTable = this.table;
    this.inserts ??= new MultiRow(this.sqlite, (k) => this.db.insert(table).values(valueSlots(k, columns)).onConflictDoNothing());
    return this.inserts.for(n);
  }

  /** The stored child rows of `parentId` as comparable keys, in the writer's column order. */
  private stored(parentId: string, columns: readonly string[] | undefined): string[] {
    if (!columns) {
      // No row seen yet (an empty list first): only whether any child exists matters.
      this.any ??= this.sqlite.prepare(`SELECT 1 FROM "${getTableConfig(this.table).name}" WHERE "${getTableColumns(this.table)[this.parentColumn]!.name}" = ? LIMIT 1`).pluck();
      return this.any.all(parentId).map(() => '');
    }
    if (!this.current || this.current.columns !== columns) {
      const t = getTableColumns(this.table);
      const list = columns.map((c) => `"${t[c]!.name}"`).join(', ');
      const stmt = this.sqlite.prepare(`SELECT ${list} FROM "${getTableConfig(this.table).name}" WHERE "${t[this.parentColumn]!.name}" = ?`).raw();
      this.current = { stmt, columns };
    }
    return (this.current.stmt.all(parentId) as unknown[][]).map(rowKey);
  }

  /** False when the stored list already equals `rows` (nothing written). */
  replace(parentId: string, rows: readonly Omit<InsertRow<T>, P>[]): boolean {
    const full = rows.map((r): AnyRow => ({ [this.parentColumn]: parentId, ...r }));
    const columns = this.columns.of(full[0]);
    const have = this.stored(parentId, columns);
    if (have.length === full.length) {
      if (full.length === 0) return false;
      const want = full.map((r) => rowKey(columns!.map((c) => r[c])));
      have.sort();
      want.sort();
      if (have.every((k, i) => k === want[i])) return false;
    }
    // Nothing stored (every parent of a first full sync): no DELETE for nothing (as pg-writers.ts).
    if (have.length > 0) this.del.stmt.run(args(this.del, [{ [this.parentColumn]: parentId }]));
    if (full.length === 0) return true;
    this.write(full, columns!);
    return true;
  }

  private write(full: readonly AnyRow[], columns: readonly string[]): void {
    const chunk = chunkFor(columns);
    for (let start = 0; start < full.length; start += chunk) {
      const part = full.slice(start, start + chunk);
      const ins = this.insertFor(part.length, columns);
      ins.stmt.run(args(ins, part));
    }
  }
}

/** A row's values as one comparable string (undefined is stored as NULL). */
function rowKey(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => (v === undefined ? null : typeof v === 'bigint' ? Number(v) : v)));
}
