import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the benches use: PGURL, or the local cluster as the superuser. */
export const ADMIN_URL = process.env.PGURL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database `leeloo_bench_<random>` on ADMIN_URL's server; `drop()` removes it (and any session in it). */
export async function scratchDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `leeloo_bench_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return { name, url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
