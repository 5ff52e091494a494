/**
 * The PostgreSQL mirror: a pool, drizzle over it, and the schema migrated under an advisory lock
 * (pg-migrate.ts). Selected by a `postgres://` or `postgresql://` DATABASE_URL; the URL's
 * `?sslmode=` and the PG* environment variables (PGHOST, PGUSER, PGPASSWORD, PGSSLMODE, …) are
 * honoured by node-postgres, as with psql.
 *
 * Every way the server can be unusable (unreachable, login refused, no such database, a user or
 * server that cannot write) is one ConfigError line naming DATABASE_URL without its password.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { pgPasswords, redactDatabaseUrl } from './location.js';
import { readMigrations, refusal } from './migrate.js';
import { classifyPg, currentSchema, MigrationFailed, migratePg } from './pg-migrate.js';
import * as schema from './schema-pg.js';
import { toIsoTimestamp } from './schema-pg.js';

export type PgDb = NodePgDatabase<typeof schema>;

export interface PgMirror {
  pool: pg.Pool;
  db: PgDb;
  /** DATABASE_URL without its password, for messages. */
  url: string;
  /** The schema the mirror lives in (the connection's current_schema()). */
  schema: string;
  /** The one-line ConfigError for a driver error meaning the server is unusable (pgConfigError), or undefined. */
  configError(err: unknown): ConfigError | undefined;
  close(): Promise<void>;
}

export interface PgOpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Only read: no migration, no write-permission check; a schema that is not a mirror yet is refused. */
  readonly?: boolean;
  /** drizzle-kit's migrations folder (default: the bundled migrations-pg/). */
  migrationsFolder?: string;
  /** Pool size (default 10). */
  max?: number;
  /** How long connecting may take (default 10 s). */
  connectTimeoutMs?: number;
}

export const PG_MIGRATIONS_DIR = [['..', '..'], ['..', '..', '..']]
  .map((up) => resolve(dirname(fileURLToPath(import.meta.url)), ...up, 'migrations-pg'))
  .find((dir) => existsSync(resolve(dir, 'meta', '_journal.json'))) ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations-pg');

/**
 * The pool's parsers, so raw SQL on `pool` reads rows in the SQLite mirror's shapes, as drizzle
 * does through schema-pg.ts's column types: timestamptz as ISO-8601 UTC text, jsonb as compact JSON text,
 * boolean as 0/1, date as YYYY-MM-DD, and int8 (count(*), sums) as a number when it is a safe
 * integer (text beyond 2^53, as node-postgres gives it), numeric as a number.
 */
export const MIRROR_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    switch (oid) {
      case pg.types.builtins.TIMESTAMPTZ:
        return (v: string) => toIsoTimestamp(v);
      case pg.types.builtins.JSONB:
      case pg.types.builtins.JSON:
        // Compact, as drizzle's reads give it (jsonb's own text puts a space after , and :).
        return (v: string) => JSON.stringify(JSON.parse(v));
      case pg.types.builtins.DATE:
        return (v: string) => v;
      case pg.types.builtins.BOOL:
        return (v: string) => (v === 't' ? 1 : 0);
      case pg.types.builtins.INT8:
        return (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);
      case pg.types.builtins.NUMERIC:
        // avg(), round(x, n): SQLite gives a REAL, so a number here (text only if it would not survive).
        return (v: string) => (Number.isFinite(Number(v)) ? Number(v) : v);
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOENT']);

interface Target {
  url: string;
  user: string;
  host: string;
  port: number;
  database: string;
}

/** Where the pool will connect, with PG* defaults filled in as node-postgres does. */
function target(url: string): Target {
  let c: pg.Client;
  try {
    c = new pg.Client({ connectionString: url });
  } catch (err) {
    throw new ConfigError(`DATABASE_URL (${redactDatabaseUrl(url)}) is not a usable postgres:// URL (${oneLine(err instanceof Error ? err.message : String(err))})`);
  }
  return { url: redactDatabaseUrl(url), user: c.user ?? '', host: c.host, port: c.port, database: c.database ?? c.user ?? '' };
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * The one-line ConfigError for a driver error that means DATABASE_URL (or the server behind it)
 * is unusable, or undefined for anything else. SQLSTATEs: 28P01 wrong password, 28000 login not
 * allowed (pg_hba), 3D000 no such database, 42501 no privilege, 25006 read-only transaction.
 */
export function pgConfigError(err: unknown, t: Target): ConfigError | undefined {
  const e = (err instanceof MigrationFailed && err.cause !== undefined ? err.cause : err) as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code ?? '';
  const msg = oneLine(e.message ?? String(err));
  const at = `DATABASE_URL (${t.url})`;
  const server = `${t.host}:${t.port}`;
  // The driver's own timeouts carry no code; an error with a SQLSTATE came from a server that
  // answered (55P03 lock timeout, 57014 statement timeout: "canceling statement due to … timeout").
  const sqlstate = /^[0-9A-Z]{5}$/.test(code);
  if (UNREACHABLE.has(code) || (!sqlstate && /timeout|Connection terminated unexpectedly/i.test(msg))) return new ConfigError(`${at}: cannot reach PostgreSQL at ${server} (${code || msg})`);
  if (code === '28P01') return new ConfigError(`${at}: PostgreSQL refused the password of user "${t.user}" (wrong password)`);
  if (code === '28000') return new ConfigError(`${at}: PostgreSQL refused the login of user "${t.user}" (${msg})`);
  if (code === '3D000') return new ConfigError(`${at}: database "${t.database}" does not exist on ${server}; create it first (createdb ${t.database})`);
  if (code === '42501') return new ConfigError(`${at}: user "${t.user}" may not create or write leeloo-sync's tables (${msg}); nothing was changed`);
  if (code === '25006') return new ConfigError(`${at}: the server is read-only (${msg}); nothing was changed`);
  if (/SSL|TLS|certificate/i.test(msg) || /CERT|SSL/.test(code)) return new ConfigError(`${at}: TLS to ${server} failed (${msg})`);
  return undefined;
}

/**
 * Why this user cannot write the mirror, judged without writing; undefined when it can. Each
 * privilege is asked on its own: has_table_privilege with a list answers whether any is held.
 */
async function writeProblem(pool: pg.Pool): Promise<string | undefined> {
  const r = await pool.query<{ ro: string; denied: string[] }>(
    `SELECT current_setting('transaction_read_only') AS ro,
            coalesce(array_agg(c.relname::text ORDER BY c.relname) FILTER (WHERE NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
              AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'))), '{}') AS denied
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`,
  );
  const row = r.rows[0];
  if (row?.ro === 'on') return 'the session is read-only (a standby, or default_transaction_read_only)';
  if (row && row.denied.length > 0) return `the user may not write ${row.denied.slice(0, 3).join(', ')}${row.denied.length > 3 ? ', …' : ''}`;
  return undefined;
}

/**
 * Opens the PostgreSQL mirror, creating or migrating its tables in the current schema. A schema
 * of another program, or one written by a newer leeloo-sync, is refused with a ConfigError
 * (exit 2) and left as it was.
 */
export async function openPgMirror(url: string, opts: PgOpenOptions = {}): Promise<PgMirror> {
  for (const p of pgPasswords(url)) registerSecret(p);
  const t = target(url);
  const set = readMigrations(opts.migrationsFolder ?? PG_MIGRATIONS_DIR);
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, application_name: 'leeloo-sync', types: MIRROR_TYPES });
  // An idle client losing its server (a restart) must not crash the process: the pool drops it
  // and the next query connects afresh, or fails where it can be handled.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    let schemaName: string | undefined;
    let v;
    try {
      schemaName = await currentSchema(client);
      if (schemaName === undefined) throw new ConfigError(`DATABASE_URL (${t.url}): search_path names no existing schema; create one or set search_path`);
      v = await classifyPg(client, set);
    } finally {
      client.release();
    }
    const refused = refusal(t.url, v);
    if (refused !== undefined) throw new ConfigError(refused);
    if (opts.readonly) {
      if (v.kind === 'empty') throw new ConfigError(`no mirror at ${t.url} yet: run \`leeloo-sync sync\` first`);
    } else {
      const current = v.kind === 'ours' && v.pending.length === 0;
      if (opts.migrate !== false && !current) {
        const r = await migratePg(pool, set, t.url);
        if (r !== undefined) throw new ConfigError(r);
      }
      const problem = await writeProblem(pool);
      if (problem !== undefined) throw new ConfigError(`DATABASE_URL (${t.url}): ${problem}; leeloo-sync needs a user that can write its tables`);
    }
    const db = drizzle({ client: pool, schema });
    return { pool, db, url: t.url, schema: schemaName, configError: (err) => pgConfigError(err, t), close: () => pool.end() };
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof ConfigError) throw err;
    throw pgConfigError(err, t) ?? err;
  }
}
