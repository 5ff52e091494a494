import { randomBytes } from 'node:crypto';
import pg from 'pg';

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

/** A fresh, empty database `leeloo_test_<random>`; `drop()` removes it (and any session still in it). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `leeloo_test_${randomBytes(6).toString('hex')}`;
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
