import { afterEach, describe, expect, it } from 'vitest';
import { openPgMirror } from '../../src/db/pg.js';
import { ConfigError } from '../../src/errors.js';
import { createTestDatabase, createTestRole, pgUrl } from '../helpers/pg.js';
import { fakePgServer } from '../helpers/pg-fake-server.js';
import { freePort } from '../helpers/redis.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const PASSWORD = 'Sup3r-secret.pw';

/** What openPgMirror(url) throws: it must be one ConfigError line naming DATABASE_URL, without the password. */
async function refusalOf(url: string, password = PASSWORD): Promise<string> {
  const err = await openPgMirror(url, { connectTimeoutMs: 5000 }).then(
    async (m) => {
      await m.close();
      throw new Error('opened');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const msg = (err as Error).message;
  expect(msg).toMatch(/^DATABASE_URL/);
  expect(msg).not.toContain('\n');
  expect(msg).not.toContain(password);
  expect(msg).not.toContain(encodeURIComponent(password));
  expect(msg).not.toMatch(/:[^/@\s]+@/); // no user:password@ at all
  return msg;
}

/** The helper's fake server, closed after the test. */
async function fakeServer(refuse: { code: string; message: string }) {
  const fake = await fakePgServer(refuse);
  cleanup.push(() => fake.close());
  return fake;
}

describe('openPgMirror refuses an unusable DATABASE_URL in one line, without the password', () => {
  it('an unreachable server (a closed port)', async () => {
    const port = await freePort();
    const msg = await refusalOf(`postgres://ada:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/mirror`);
    expect(msg).toBe(`DATABASE_URL (postgres://ada@127.0.0.1:${port}/mirror): cannot reach PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('a wrong password (a server refusing it with SQLSTATE 28P01)', async () => {
    const fake = await fakeServer({ code: '28P01', message: 'password authentication failed for user "ada"' });
    const msg = await refusalOf(`postgresql://ada:${encodeURIComponent(PASSWORD)}@127.0.0.1:${fake.port}/mirror?sslmode=disable`);
    expect(fake.passwordsSeen).toEqual([PASSWORD]);
    expect(msg).toBe(`DATABASE_URL (postgresql://ada@127.0.0.1:${fake.port}/mirror?sslmode=disable): PostgreSQL refused the password of user "ada" (wrong password)`);
  });

  it('a refused login whose server message echoes the password', async () => {
    const fake = await fakeServer({ code: '28000', message: `no pg_hba.conf entry for user "ada" with password "${PASSWORD}"` });
    const msg = await refusalOf(`postgres://127.0.0.1:${fake.port}/mirror?user=ada&password=${encodeURIComponent(PASSWORD)}&sslmode=disable`);
    expect(msg).toMatch(/^DATABASE_URL \(postgres:\/\/127\.0\.0\.1:\d+\/mirror\?user=ada&sslmode=disable\): PostgreSQL refused the login of user "ada" \(no pg_hba\.conf entry for user "ada" with password "\[REDACTED\]"\)$/);
  });

  it('a database that does not exist', async () => {
    const name = `leeloo_test_missing_${Date.now()}`;
    const url = new URL(pgUrl(name));
    // Trust auth ignores a password; a server that checks it gets PGURL's own.
    if (url.password === '') url.password = PASSWORD;
    const msg = await refusalOf(url.toString(), decodeURIComponent(url.password));
    expect(msg).toMatch(new RegExp(`^DATABASE_URL \\(postgres://postgres@[^)]+/${name}\\): database "${name}" does not exist on [^;]+; create it first \\(createdb ${name}\\)$`));
  });

  it('a read-only user on a fresh database: refused, nothing created', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const ro = await createTestRole({ password: PASSWORD });
    cleanup.push(() => ro.drop());
    // PostgreSQL 15 lets only the database owner create in `public`; 13 and 14 let everyone.
    await db.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    const msg = await refusalOf(pgUrl(db.name, { name: ro.name, password: PASSWORD }));
    expect(msg).toMatch(new RegExp(`^DATABASE_URL \\(postgres://${ro.name}@[^)]+\\): user "${ro.name}" may not create or write leeloo-sync's tables \\(permission denied for schema public\\); nothing was changed$`));
    expect((await db.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]).toEqual({ n: 0 });
  });

  it('a read-only user on a mirror: refused for writing, allowed to read', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    await (await openPgMirror(db.url)).close();
    const ro = await createTestRole({ password: PASSWORD });
    cleanup.push(() => ro.drop());
    cleanup.push(() => db.query(`DROP OWNED BY ${ro.name}`).then(() => undefined));
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ro.name}`);
    const url = pgUrl(db.name, { name: ro.name, password: PASSWORD });
    const msg = await refusalOf(url);
    expect(msg).toMatch(/: the user may not write [a-z_]+, [a-z_]+, [a-z_]+, …; leeloo-sync needs a user that can write its tables$/);
    const reader = await openPgMirror(url, { readonly: true });
    expect(Number((await reader.pool.query('SELECT count(*) AS n FROM people')).rows[0].n)).toBe(0);
    await reader.close();
  });

  it('a read-only server (default_transaction_read_only): refused, nothing created', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    const msg = await refusalOf(db.url);
    expect(msg).toMatch(/: the server is read-only \(cannot execute CREATE TABLE in a read-only transaction\); nothing was changed$/);
    expect((await db.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]).toEqual({ n: 0 });
  });

  it('a server-side timeout (lock or statement) on a reachable server is its own error, not "cannot reach PostgreSQL"', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const mirror = await openPgMirror(db.url);
    cleanup.push(() => mirror.close());
    const failure = (sql: string) => mirror.pool.query(sql).then(() => undefined, (e: unknown) => e as { code?: string; message: string });
    const statement = await failure('SET statement_timeout = 20; SELECT pg_sleep(2)');
    expect(statement).toMatchObject({ code: '57014', message: expect.stringMatching(/statement timeout/) });
    expect(mirror.configError(statement)).toBeUndefined();
    // A lock held by another session, waited for with a lock timeout.
    const holder = await mirror.pool.connect();
    cleanup.push(() => holder.release());
    await holder.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const lock = await failure('SET lock_timeout = 20; SELECT count(*) FROM users');
    expect(lock).toMatchObject({ code: '55P03', message: expect.stringMatching(/lock timeout/) });
    expect(mirror.configError(lock)).toBeUndefined();
    await holder.query('ROLLBACK');
    // The driver's own connection timeout still reads as unreachable.
    expect(mirror.configError(new Error('Connection terminated due to connection timeout'))?.message).toMatch(/cannot reach PostgreSQL/);
  });
});
