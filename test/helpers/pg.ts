import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { liveProbe, staleDatabases, testDatabaseName, type DatabaseSeen, type SweepProbe } from './pg-sweep.js';

/**
 * The PostgreSQL server the suite uses: PGURL, or the local cluster (.ci/run starts it) as the
 * superuser. Each test gets its own database, created here and dropped after.
 */
export const PG_ADMIN_URL = process.env.PGURL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** `PG_ADMIN_URL` with another database (and optionally another user) in its path. */
export function pgUrl(database: string, user?: { name: string; password?: string }): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  if (user) {
    u.username = user.name;
    u.password = user.password ?? '';
  }
  return u.toString();
}

export async function adminQuery(sql: string, params: unknown[] = [], database?: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: database ? pgUrl(database) : PG_ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** One query on the test database as the superuser. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

/**
 * Drops the test databases killed runs left behind (test/helpers/pg-sweep.ts decides which), and
 * returns their names. Without FORCE: a database someone connected to after all stays. Dropping
 * is best effort; a database another sweeper dropped first is simply gone.
 */
export async function sweepStaleTestDatabases(probe: SweepProbe = liveProbe()): Promise<string[]> {
  const { rows } = await adminQuery(
    `SELECT d.datname AS name,
            (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid)::int AS connections,
            (pg_stat_file('base/' || d.oid || '/PG_VERSION', true)).modification AS created
       FROM pg_database d WHERE d.datname LIKE 'leeloo\\_test\\_%'`,
  );
  const seen: DatabaseSeen[] = rows.map((r: { name: string; connections: number; created: Date | null }) => ({
    name: r.name,
    connections: r.connections,
    ...(r.created ? { createdAt: r.created.getTime() } : {}),
  }));
  const dropped: string[] = [];
  for (const name of staleDatabases(seen, probe)) {
    try {
      await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
      dropped.push(name);
    } catch {
      // In use after all (someone connected since the look): it stays.
    }
  }
  return dropped;
}

/** One sweep per test process, before its first database: killed runs' leftovers do not pile up. */
let swept: Promise<unknown> | undefined;

/**
 * A fresh, empty database `leeloo_test_<host>_<pid>_<start>_<random>` (the name says who made
 * it, so a later run can tell it is stale: pg-sweep.ts); `drop()` removes it (and any session still in it).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  swept ??= sweepStaleTestDatabases().catch(() => []);
  await swept;
  const name = testDatabaseName();
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: pgUrl(name),
    query: <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => adminQuery(sql, params, name) as Promise<pg.QueryResult<R>>,
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A login role `leeloo_test_<random>` (optionally with a password); `drop()` removes it. */
export async function createTestRole(opts: { password?: string } = {}): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `leeloo_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE ROLE ${name} LOGIN${opts.password ? ` PASSWORD '${opts.password.replace(/'/g, "''")}'` : ''}`);
  return { name, drop: async () => void (await adminQuery(`DROP ROLE IF EXISTS ${name}`)) };
}
