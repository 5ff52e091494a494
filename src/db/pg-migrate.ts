/**
 * Which PostgreSQL schemas are ours, and migrating them once however many workers start at once.
 *
 * PostgreSQL has no application_id, so a schema of ours carries a marker table,
 * `leeloo_sync_meta`, created in the same transaction as the first migration. The mirror lives
 * in the connection's current schema (`public` unless search_path says otherwise), the journal
 * (`__drizzle_migrations`, as drizzle-kit writes it) beside it. The rules are SQLite's
 * (migrate.ts): empty → initialise; ours and older → migrate; ours and newer, or not ours (any
 * table without our marker) → refuse, touching nothing.
 *
 * Every pending migration commits in one transaction (PostgreSQL's DDL is transactional) under
 * `pg_advisory_xact_lock`, taken before the schema is judged: a second worker waits, then finds
 * nothing pending. The lock is keyed on the schema, so mirrors in different schemas do not wait
 * for each other, and it goes with the transaction, so a killed worker never leaves it held.
 */
import type { ClientBase, Pool } from 'pg';
import { APPLICATION_ID, MIGRATIONS_TABLE, refusal, type MigrationSet, type Verdict } from './migrate.js';

export const META_TABLE = 'leeloo_sync_meta';
/** The marker row: `leeloo_sync_meta` holds `application = leeloo-sync`. */
const MARKER = { key: 'application', value: 'leeloo-sync' };
/** Advisory lock key (with the schema's hash as the second key): "LEEL" as an int4. */
export const LOCK_KEY = APPLICATION_ID;

export class MigrationFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationFailed';
  }
}

function list(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')}, … ${names.length - 5} more` : names.join(', ');
}

/** The schema the mirror lives in; undefined when search_path names no existing schema. */
export async function currentSchema(client: ClientBase): Promise<string | undefined> {
  const r = await client.query<{ s: string | null }>('SELECT current_schema() AS s');
  return r.rows[0]?.s ?? undefined;
}

/** What the current schema is, judged by reading only. */
export async function classifyPg(client: ClientBase, set: MigrationSet): Promise<Verdict> {
  const rel = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1`,
  );
  const tables = rel.rows.map((r) => r.name);
  if (tables.length === 0) return { kind: 'empty' };
  if (!tables.includes(META_TABLE)) return { kind: 'foreign', reason: `its schema has tables (${list(tables)}) and no ${META_TABLE} table` };
  const marker = await client.query<{ value: string }>(`SELECT value FROM ${META_TABLE} WHERE key = $1`, [MARKER.key]);
  if (marker.rows[0]?.value !== MARKER.value) return { kind: 'foreign', reason: `its ${META_TABLE} table does not name leeloo-sync` };
  if (!tables.includes(MIGRATIONS_TABLE)) return { kind: 'foreign', reason: `it has leeloo-sync's marker but no ${MIGRATIONS_TABLE} table` };
  const applied = await client.query<{ hash: string; at: string | number | null }>(`SELECT hash, created_at AS at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at`);
  const known = new Set(set.migrations.map((m) => m.when));
  const last = set.migrations.at(-1)?.when ?? 0;
  for (const row of applied.rows) {
    const at = Number(row.at);
    if (!known.has(at) || at > last) {
      return { kind: 'newer', migration: `${Number.isFinite(at) ? new Date(at).toISOString() : String(row.at)} ${String(row.hash).slice(0, 12)}` };
    }
  }
  const lastApplied = applied.rows.length === 0 ? -Infinity : Math.max(...applied.rows.map((r) => Number(r.at)));
  return { kind: 'ours', stamped: true, pending: set.migrations.filter((m) => m.when > lastApplied) };
}

/**
 * Applies every pending migration in one transaction under the advisory lock, judging the schema
 * again once the lock is held. Returns the refusal when the schema is not ours to migrate; throws
 * (after ROLLBACK: nothing changed) when a statement fails, with the driver's error as `cause`.
 */
export async function migratePg(pool: Pool, set: MigrationSet, where: string): Promise<string | undefined> {
  const client = await pool.connect();
  let broken = false;
  try {
    // READ COMMITTED whatever the server's default: each statement after the lock must see what
    // the worker that held it committed (REPEATABLE READ would keep the snapshot of the lock's
    // own statement, taken before the wait, and migrate a second time).
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [LOCK_KEY]);
      const v = await classifyPg(client, set);
      const refused = refusal(where, v);
      if (refused !== undefined) {
        await client.query('ROLLBACK');
        return refused;
      }
      if (v.kind === 'empty') {
        await client.query(`CREATE TABLE ${META_TABLE} (key text PRIMARY KEY, value text NOT NULL)`);
        await client.query(`INSERT INTO ${META_TABLE} (key, value) VALUES ($1, $2)`, [MARKER.key, MARKER.value]);
        await client.query(`COMMENT ON TABLE ${META_TABLE} IS 'Marks this schema as a leeloo-sync mirror; leeloo-sync refuses schemas without it.'`);
      }
      await client.query(`CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const pending = v.kind === 'ours' ? v.pending : set.migrations;
      for (const m of pending) {
        for (const stmt of m.statements) {
          try {
            await client.query(stmt);
          } catch (err) {
            throw new MigrationFailed(`migration ${m.tag} failed, nothing was changed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          }
        }
        await client.query(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES ($1, $2)`, [m.hash, m.when]);
      }
      await client.query('COMMIT');
      return undefined;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A client whose transaction failed mid-way is not handed to anyone else.
    client.release(broken);
  }
}
