/**
 * Which databases are ours, and applying migrations to them in one transaction.
 *
 * drizzle's own migrator is not used: it creates `__drizzle_migrations` outside its transaction
 * (so a foreign database is left with one), reads the last applied migration before `BEGIN`
 * (two processes can both apply the same migration), and never looks at what the database is.
 * This applies drizzle-kit's migrations folder the same way (statements split on
 * `--> statement-breakpoint`, rows of hash + created_at in `__drizzle_migrations`), so databases
 * created by either keep working with the other.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

/** `PRAGMA application_id` of a leeloo-sync database: "LEEL". */
export const APPLICATION_ID = 0x4c45454c;

export const MIGRATIONS_TABLE = '__drizzle_migrations';

export interface Migration {
  tag: string;
  /** The journal's `when`: drizzle stores it as created_at and applies what is newer than the last. */
  when: number;
  hash: string;
  statements: string[];
}

export interface MigrationSet {
  migrations: Migration[];
  /** Every table some migration creates (rebuild temporaries included), plus the migrations table. */
  tables: Set<string>;
  /** The tables the first migration creates: every database of ours has them. */
  core: string[];
}

const sets = new Map<string, MigrationSet>();

/** Reads drizzle-kit's folder: meta/_journal.json and one TAG.sql per entry. */
export function readMigrations(folder: string): MigrationSet {
  const cached = sets.get(folder);
  if (cached) return cached;
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
  const tables = new Set<string>([MIGRATIONS_TABLE]);
  const core: string[] = [];
  const migrations = journal.entries.map((e, i): Migration => {
    const sql = readFileSync(join(folder, `${e.tag}.sql`), 'utf8');
    for (const m of sql.matchAll(/CREATE TABLE\s+(?:IF NOT EXISTS\s+)?[`"]?([A-Za-z0-9_]+)/gi)) {
      tables.add(m[1] as string);
      if (i === 0 && !(m[1] as string).startsWith('__new_')) core.push(m[1] as string);
    }
    return {
      tag: e.tag,
      when: e.when,
      hash: createHash('sha256').update(sql).digest('hex'),
      statements: sql.split('--> statement-breakpoint').filter((s) => s.trim() !== ''),
    };
  });
  const set = { migrations, tables, core };
  sets.set(folder, set);
  return set;
}

export type Verdict =
  | { kind: 'empty' }
  | { kind: 'ours'; stamped: boolean; pending: Migration[] }
  | { kind: 'newer'; migration: string }
  | { kind: 'foreign'; reason: string };

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** What the database behind `sqlite` is, judged by reading only. */
export function classify(sqlite: Database.Database, set: MigrationSet): Verdict {
  const appId = Number(sqlite.pragma('application_id', { simple: true }));
  if (appId !== 0 && appId !== APPLICATION_ID) return { kind: 'foreign', reason: `its application_id is ${hex(appId)}, not leeloo-sync's ${hex(APPLICATION_ID)}` };
  const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().all() as string[]).sort();
  const stamped = appId === APPLICATION_ID;
  if (tables.length === 0) return stamped ? { kind: 'ours', stamped, pending: set.migrations } : { kind: 'empty' };
  if (!tables.includes(MIGRATIONS_TABLE)) {
    if (stamped) return { kind: 'foreign', reason: `it has leeloo-sync's application_id but no ${MIGRATIONS_TABLE} table` };
    return { kind: 'foreign', reason: `it has tables (${list(tables)}) and no ${MIGRATIONS_TABLE} table` };
  }
  // Before application_id was set, a database was ours when every table and every applied
  // migration is one this version knows.
  if (!stamped) {
    const strange = tables.filter((t) => !set.tables.has(t));
    if (strange.length > 0) return { kind: 'foreign', reason: `it has tables leeloo-sync does not create: ${list(strange)}` };
  }
  const applied = sqlite.prepare(`SELECT hash, created_at AS at FROM ${MIGRATIONS_TABLE} ORDER BY created_at`).all() as { hash: string; at: number | string | null }[];
  if (!stamped) {
    if (applied.length === 0) return { kind: 'foreign', reason: `its ${MIGRATIONS_TABLE} table is empty` };
    const missing = set.core.filter((t) => !tables.includes(t));
    if (missing.length > 0) return { kind: 'foreign', reason: `it lacks leeloo-sync's tables: ${list(missing)}` };
  }
  const known = new Set(set.migrations.map((m) => m.when));
  const last = set.migrations.at(-1)?.when ?? 0;
  for (const row of applied) {
    const at = Number(row.at);
    if (!known.has(at) || at > last) {
      const name = `${Number.isFinite(at) ? new Date(at).toISOString() : String(row.at)} ${String(row.hash).slice(0, 12)}`;
      if (!stamped && at <= last) return { kind: 'foreign', reason: `${MIGRATIONS_TABLE} holds a migration this version does not know (${name})` };
      return { kind: 'newer', migration: name };
    }
  }
  const lastApplied = applied.length === 0 ? -Infinity : Math.max(...applied.map((r) => Number(r.at)));
  return { kind: 'ours', stamped, pending: set.migrations.filter((m) => m.when > lastApplied) };
}

function list(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')}, … ${names.length - 5} more` : names.join(', ');
}

/** The one-line refusal for a verdict that is not ours or empty. */
export function refusal(path: string, v: Verdict): string | undefined {
  if (v.kind === 'newer') return `DATABASE_URL: ${path}: database was written by a newer leeloo-sync (migration ${v.migration}); upgrade leeloo-sync`;
  if (v.kind === 'foreign') return `DATABASE_URL: ${path} is not a leeloo-sync database (${v.reason})`;
  return undefined;
}

/**
 * Brings the database to this version in one `BEGIN IMMEDIATE` transaction: it is judged again
 * under the write lock (another process may have migrated, or the file changed since a caller
 * looked), then every pending migration and the application_id stamp commit together, or none
 * does. Returns the refusal when the database turned out not to be ours to migrate.
 *
 * drizzle-kit rebuilds a table (create new, copy, drop old) for some ALTERs; with foreign keys
 * on, dropping the old table would cascade-delete child rows. Foreign keys go off around the
 * transaction (the PRAGMA is a no-op inside one) and a foreign_key_check before COMMIT proves
 * nothing dangles.
 */
export function migrateDatabase(sqlite: Database.Database, set: MigrationSet, path: string): string | undefined {
  const fk = Number(sqlite.pragma('foreign_keys', { simple: true }));
  sqlite.pragma('foreign_keys = OFF');
  try {
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      const v = classify(sqlite, set);
      const refused = refusal(path, v);
      if (refused !== undefined) {
        sqlite.exec('ROLLBACK');
        return refused;
      }
      const pending = v.kind === 'ours' ? v.pending : set.migrations;
      sqlite.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
      const record = sqlite.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`);
      for (const m of pending) {
        try {
          for (const stmt of m.statements) sqlite.exec(stmt);
        } catch (err) {
          throw new Error(`migration ${m.tag} failed, nothing was changed: ${err instanceof Error ? err.message : String(err)}`);
        }
        record.run(m.hash, m.when);
      }
      if (v.kind !== 'ours' || !v.stamped) sqlite.pragma(`application_id = ${APPLICATION_ID}`);
      const violations = sqlite.pragma('foreign_key_check') as unknown[];
      if (violations.length > 0) throw new Error(`migration left ${violations.length} foreign key violation(s)`);
      sqlite.exec('COMMIT');
      return undefined;
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw err;
    }
  } finally {
    if (fk) sqlite.pragma('foreign_keys = ON');
  }
}
