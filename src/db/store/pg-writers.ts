/**
 * The PostgreSQL store's writers (the semantics of src/db/store/sqlite-upsert.ts). They are given the SQLite
 * tables of schema.ts and write the schema-pg.ts table of the same name, by the same column keys;
 * values go through schema-pg's column encoders (jsonb text without `\u0000`, ISO times, 0/1 as
 * booleans). Statements are built once per row count and run as named prepared statements.
 */
import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { PgTable, type PgColumn } from 'drizzle-orm/pg-core';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type pg from 'pg';
import { jsonbText, nulFree } from '../pg-types.js';
import * as pgSchema from '../schema-pg.js';
import { dedupeById, rowsPerStatement, type AnyRow } from './rows.js';
import type { ChildWriter, EntityWriter, EntityWriterOptions, GuardedWriter, InsertRow, UpsertResult } from './types.js';

/** What the writers need of the store: a statement on the current transaction (or the pool). */
export interface PgExec {
  query<R extends pg.QueryResultRow>(text: string, values: unknown[], name?: string): Promise<pg.QueryResult<R>>;
  /** Runs `fn` in the current transaction, or in one of its own when there is none. */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
  /** A fresh name for a prepared statement. */
  statementName(): string;
}

/** A Bind message carries at most 65535 parameters. */
const PG_MAX_PARAMETERS = 65_535;

const PG_TABLES = new Map<string, PgTable>();
for (const v of Object.values(pgSchema)) if (is(v, PgTable)) PG_TABLES.set(getTableName(v), v);

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface Col {
  key: string;
  /** The quoted PostgreSQL column name. */
  name: string;
  sqlType: string;
  encode(v: unknown): unknown;
}

/** The schema-pg table and columns standing for a schema.ts table. */
class PgTarget {
  readonly name: string;
  readonly quoted: string;
  private readonly cols: Record<string, PgColumn>;

  constructor(sqlite: SQLiteTable) {
    this.name = getTableName(sqlite);
    const t = PG_TABLES.get(this.name);
    if (!t) throw new Error(`schema-pg.ts has no table ${this.name}`);
    this.quoted = quoteIdent(this.name);
    this.cols = getTableColumns(t);
  }

  col(key: string): Col {
    const c = this.cols[key];
    if (!c) throw new Error(`${this.name} has no column ${key}`);
    return { key, name: quoteIdent(c.name), sqlType: c.getSQLType(), encode: (v) => (v === undefined || v === null ? null : c.mapToDriverValue(v)) };
  }
}

/**
 * The columns a writer writes: the keys of the first row it is given (the stream's mapper writes
 * the column list once); a later row with other keys is a bug and fails loudly.
 */
class Columns {
  private cols: Col[] | undefined;

  constructor(private readonly target: PgTarget) {}

  of(row: AnyRow, required: readonly string[] = []): Col[] {
    if (this.cols) {
      if (Object.keys(row).length !== this.cols.length) throw new Error(`${this.target.name}: rows of one writer must carry the same columns`);
      return this.cols;
    }
    const keys = Object.keys(row);
    for (const c of required) if (!keys.includes(c)) throw new Error(`rows of ${this.target.name} must carry ${required.join(' and ')}`);
    this.cols = keys.map((k) => this.target.col(k));
    return this.cols;
  }
}

/**
 * `($1, $2), ($3, $4), …` for `n` rows of `cols`; `typed` casts each parameter to its column's
 * type, for VALUES outside an INSERT, which has no target to take types from.
 */
function valuesList(n: number, cols: readonly Col[], typed = false): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) rows.push(`(${cols.map((c, k) => `$${i * cols.length + k + 1}${typed ? `::${c.sqlType}` : ''}`).join(', ')})`);
  return rows.join(', ');
}

function flatten(rows: readonly AnyRow[], cols: readonly Col[]): unknown[] {
  const out = new Array<unknown>(rows.length * cols.length);
  let k = 0;
  for (const row of rows) for (const c of cols) out[k++] = c.encode(row[c.key]);
  return out;
}


const byId = (a: AnyRow, b: AnyRow) => {
  const x = String(a.id);
  const y = String(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** A statement text per row count, each with its prepared-statement name. */
class StatementCache {
  private readonly byCount = new Map<number, { text: string; name: string }>();

  constructor(
    private readonly exec: PgExec,
    private readonly build: (n: number) => string,
  ) {}

  for(n: number): { text: string; name: string } {
    let s = this.byCount.get(n);
    if (!s) {
      s = { text: this.build(n), name: this.exec.statementName() };
      this.byCount.set(n, s);
    }
    return s;
  }
}

/**
 * One statement per chunk: `INSERT … SELECT` of the rows that are new or whose raw differs, `ON
 * CONFLICT (id) DO UPDATE … WHERE raw IS DISTINCT FROM excluded.raw`, so an unchanged row is
 * neither written, locked nor returned, and `xmax = 0` tells an
 * inserted row from an updated one. Stubs to adopt are found in the same statement: its CTEs
 * share one snapshot, so `old` sees the rows as they were before the insert.
 */
export class PgEntityWriter<T extends SQLiteTable> implements EntityWriter<T> {
  private readonly target: PgTarget;
  private readonly columns: Columns;
  private readonly nullOnChange: Col[];
  private statements: StatementCache | undefined;

  constructor(
    private readonly exec: PgExec,
    table: T,
    private readonly opts: EntityWriterOptions,
  ) {
    this.target = new PgTarget(table);
    this.target.col('id');
    this.target.col('raw');
    this.columns = new Columns(this.target);
    this.nullOnChange = (opts.nullOnChange ?? []).map((k) => this.target.col(k));
  }

  private build(cols: Col[], n: number): string {
    const t = this.target.quoted;
    const nulled = new Set(this.nullOnChange.map((c) => c.key));
    const set = [
      ...cols.filter((c) => c.key !== 'id' && !nulled.has(c.key)).map((c) => `${c.name} = excluded.${c.name}`),
      ...this.nullOnChange.map((c) => `${c.name} = NULL`),
    ];
    const names = cols.map((c) => c.name).join(', ');
    // Only new rows and rows whose raw differs reach the INSERT: ON CONFLICT DO UPDATE locks every
    // row it conflicts with, even when its WHERE is false, and an unchanged row's lock (a heap
    // write and its WAL) was most of an incremental page's work and the side of the deadlocks
    // against group-commit batches (docs/benchmarks.md, "Deadlocks during a full sync"). The read
    // takes no lock. A row it found unchanged that another transaction changes meanwhile keeps
    // that change, as if this statement had run first; a row it found changed is checked again
    // by the WHERE on the row as it is when locked. In id order, so that written rows are locked
    // in one order. LATERAL … LIMIT 1 keeps the read one index probe a row: as a plain LEFT JOIN,
    // the named statement's cached plan (made while the table was small) hash-joined a scan of
    // the whole table for every page, and fresh inserts fell to a third (bench/upsert-pg.ts).
    const changed =
      `SELECT v.* FROM (VALUES ${valuesList(n, cols, true)}) AS v(${names})` +
      ` LEFT JOIN LATERAL (SELECT c."id", c."raw" FROM ${t} AS c WHERE c."id" = v."id" LIMIT 1) AS cur ON true` +
      ` WHERE cur."id" IS NULL OR cur."raw" IS DISTINCT FROM v."raw" ORDER BY v."id"`;
    const insert =
      `INSERT INTO ${t} AS t (${names}) ${changed}` +
      ` ON CONFLICT ("id") DO UPDATE SET ${set.join(', ')} WHERE t."raw" IS DISTINCT FROM excluded."raw"` +
      ` RETURNING t."id", (t.xmax = 0) AS inserted`;
    if (!this.opts.adoptStubs) return insert;
    const idAt = cols.findIndex((c) => c.key === 'id');
    const ids = Array.from({ length: n }, (_, i) => `$${i * cols.length + idAt + 1}`).join(', ');
    return (
      `WITH old AS (SELECT "id" FROM ${t} WHERE "raw" IS NULL AND "id" IN (${ids})), w AS (${insert})` +
      ` SELECT w."id", (w.inserted OR old."id" IS NOT NULL) AS inserted FROM w LEFT JOIN old ON old."id" = w."id"`
    );
  }

  async upsert(rows: readonly InsertRow<T>[]): Promise<UpsertResult> {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    const first = rows[0] as AnyRow | undefined;
    if (!first) return result;
    const cols = this.columns.of(first, ['id', 'raw']);
    this.statements ??= new StatementCache(this.exec, (n) => this.build(cols, n));
    const statements = this.statements;
    // Rows repeated within one call (offset paging over live data): the last wins, and one
    // statement may not touch a row twice.
    // Sorted by id: concurrent upserts then lock shared rows in one order, and cannot deadlock on them.
    const unique = [...dedupeById(rows as readonly AnyRow[])].sort(byId);
    const chunk = rowsPerStatement(cols.length, PG_MAX_PARAMETERS);
    const write = async () => {
      for (let start = 0; start < unique.length; start += chunk) {
        const part = unique.length <= chunk ? unique : unique.slice(start, start + chunk);
        const s = statements.for(part.length);
        const r = await this.exec.query<{ id: string; inserted: number }>(s.text, flatten(part, cols), s.name);
        for (const row of r.rows) {
          if (row.inserted) result.inserted++;
          else result.updated++;
          this.opts.onWritten?.(row.id);
        }
        result.unchanged += part.length - r.rows.length;
      }
    };
    if (unique.length <= chunk) await write();
    else await this.exec.atomically(write);
    return result;
  }
}

/** `UPDATE … WHERE id = $ AND raw = $`: jsonb equality, so the stored form of the same JSON still matches. */
export class PgGuardedWriter<T extends SQLiteTable> implements GuardedWriter<T> {
  private readonly target: PgTarget;
  private readonly columns: Columns;
  private readonly raw: Col;
  private statement: { text: string; name: string } | undefined;

  constructor(
    private readonly exec: PgExec,
    table: T,
  ) {
    this.target = new PgTarget(table);
    this.target.col('id');
    this.raw = this.target.col('raw');
    this.columns = new Columns(this.target);
  }

  async update(id: string, raw: string, row: Partial<InsertRow<T>>): Promise<boolean> {
    const values = row as AnyRow;
    const cols = this.columns.of(values);
    if (cols.length === 0) throw new Error(`${this.target.name}: a guarded update needs at least one column to write`);
    this.statement ??= {
      text: `UPDATE ${this.target.quoted} SET ${cols.map((c, i) => `${c.name} = $${i + 1}`).join(', ')} WHERE "id" = $${cols.length + 1} AND "raw" = $${cols.length + 2}`,
      name: this.exec.statementName(),
    };
    const r = await this.exec.query(this.statement.text, [...flatten([values], cols), id, this.raw.encode(raw)], this.statement.name);
    return (r.rowCount ?? 0) > 0;
  }
}

/** Any JSON value with its object keys sorted, as text: jsonb gives keys back in its own order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A column's value as comparable text, whether it came from a mapper or back from the pool. */
function comparable(c: Col, v: unknown): string {
  if (v === undefined || v === null) return 'null';
  switch (c.sqlType) {
    case 'timestamp with time zone': {
      const t = new Date(String(v));
      return Number.isNaN(t.getTime()) ? JSON.stringify(v) : JSON.stringify(t.toISOString());
    }
    case 'jsonb':
      try {
        return canonicalJson(JSON.parse(jsonbText(String(v))));
      } catch {
        return JSON.stringify(v);
      }
    case 'boolean':
      return v ? '1' : '0';
    case 'integer':
    case 'double precision':
      return String(Number(v));
    default:
      // As bound (pgParameters): a NUL the API sent is stored as U+FFFD, and that is no change.
      return JSON.stringify(typeof v === 'string' ? nulFree(v) : v);
  }
}

/**
 * Replaces a parent's children. The stored list is read first: an equal one (as a set of rows;
 * the API's lists rarely change) writes nothing, which is most re-syncs' case.
 */
export class PgChildWriter<T extends SQLiteTable, P extends keyof InsertRow<T> & string> implements ChildWriter<T, P> {
  private readonly target: PgTarget;
  private readonly parent: Col;
  private readonly columns: Columns;
  private readonly del: string;
  private readonly delName: string;
  private readonly anyName: string;
  private select: { text: string; name: string } | undefined;
  private inserts: StatementCache | undefined;

  constructor(
    private readonly exec: PgExec,
    table: T,
    parentColumn: P,
  ) {
    this.target = new PgTarget(table);
    this.parent = this.target.col(parentColumn);
    this.columns = new Columns(this.target);
    this.del = `DELETE FROM ${this.target.quoted} WHERE ${this.parent.name} = $1`;
    this.delName = exec.statementName();
    this.anyName = exec.statementName();
  }

  async replace(parentId: string, rows: readonly Omit<InsertRow<T>, P>[]): Promise<boolean> {
    const parentValue = this.parent.encode(parentId);
    if (rows.length === 0) {
      const any = await this.exec.query(`SELECT 1 FROM ${this.target.quoted} WHERE ${this.parent.name} = $1 LIMIT 1`, [parentValue], this.anyName);
      if (any.rows.length === 0) return false;
      await this.exec.query(this.del, [parentValue], this.delName);
      return true;
    }
    const full = rows.map((r): AnyRow => ({ [this.parent.key]: parentId, ...(r as AnyRow) }));
    const cols = this.columns.of(full[0]!);
    const own = cols.filter((c) => c.key !== this.parent.key);
    this.select ??= {
      text: `SELECT ${own.map((c, i) => `${c.name} AS c${i}`).join(', ') || '1'} FROM ${this.target.quoted} WHERE ${this.parent.name} = $1`,
      name: this.exec.statementName(),
    };
    const select = this.select;
    this.inserts ??= new StatementCache(this.exec, (n) => `INSERT INTO ${this.target.quoted} (${cols.map((c) => c.name).join(', ')}) VALUES ${valuesList(n, cols)} ON CONFLICT DO NOTHING`);
    const inserts = this.inserts;
    return this.exec.atomically(async () => {
      const stored = (await this.exec.query<Record<string, unknown>>(select.text, [parentValue], select.name)).rows;
      const key = (values: unknown[]) => values.map((v, i) => comparable(own[i]!, v)).join('\u0001');
      const wanted = new Set(full.map((r) => key(own.map((c) => r[c.key]))));
      if (stored.length === wanted.size && stored.every((s) => wanted.has(key(own.map((_, i) => s[`c${i}`]))))) return false;
      // Nothing stored (every parent of a first full sync): no DELETE round trip for nothing.
      if (stored.length > 0) await this.exec.query(this.del, [parentValue], this.delName);
      const chunk = rowsPerStatement(cols.length, PG_MAX_PARAMETERS);
      for (let start = 0; start < full.length; start += chunk) {
        const part = full.slice(start, start + chunk);
        const s = inserts.for(part.length);
        await this.exec.query(s.text, flatten(part, cols), s.name);
      }
      return true;
    });
  }
}
