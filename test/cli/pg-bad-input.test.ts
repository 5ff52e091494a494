/**
 * Issue #11, bad input: "An unreachable server, a wrong password, a database that does not exist,
 * or a read-only user each get one line naming DATABASE_URL (without the password) and exit 2, and
 * nothing is left half-migrated" — checked on the compiled CLI (`sync`, `status`), with a
 * password in every URL. The API URL is a closed port: a command that got past the database
 * would fail otherwise, not with DATABASE_URL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgMirror } from '../../src/db/pg.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, createTestRole, pgUrl, type TestDatabase } from '../helpers/pg.js';
import { fakePgServer } from '../helpers/pg-fake-server.js';
import { freePort } from '../helpers/redis.js';

const PASSWORD = 'Cli-s3cret.pw';
const TOKEN = 'tok-SECRET-pg-bad-input';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

let apiUrl: string;
beforeAll(async () => {
  apiUrl = `http://127.0.0.1:${await freePort()}`;
});

const run = (args: string[], databaseUrl: string) =>
  runCli(args, { DATABASE_URL: databaseUrl, LEELOO_API_URL: apiUrl, LEELOO_API_TOKEN: TOKEN, LEELOO_RATE_LIMIT: '100', LOG_LEVEL: 'info' }, { timeoutMs: 60_000 });

/** Exit 2 and exactly one stderr line naming DATABASE_URL, with neither the password nor the token. */
function expectOneLineRefusal(r: CliResult, password = PASSWORD): string {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  const line = lines[0]!;
  expect(line).toMatch(/^leeloo-sync: .*DATABASE_URL/);
  for (const secret of [password, encodeURIComponent(password), TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);
  expect(line).not.toMatch(/\/\/[^/@\s]*:[^/@\s]*@/); // no user:password@ at all
  return line;
}

async function tablesIn(db: TestDatabase): Promise<string[]> {
  const r = await db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return r.rows.map((x) => x.t);
}

describe('a PostgreSQL DATABASE_URL that cannot be used: one line, exit 2 (CLI)', () => {
  it('an unreachable server (a closed port)', async () => {
    const port = await freePort();
    const url = `postgres://ada:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/mirror`;
    const line = expectOneLineRefusal(await run(['sync'], url));
    expect(line).toBe(`leeloo-sync: DATABASE_URL (postgres://ada@127.0.0.1:${port}/mirror): cannot reach PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED)`);
    expectOneLineRefusal(await run(['status'], url));
  });

  it('a wrong password (a server refusing it with SQLSTATE 28P01)', async () => {
    const fake = await fakePgServer({ code: '28P01', message: 'password authentication failed for user "ada"' });
    cleanup.push(() => fake.close());
    const url = `postgresql://ada:${encodeURIComponent(PASSWORD)}@127.0.0.1:${fake.port}/mirror?sslmode=disable`;
    const line = expectOneLineRefusal(await run(['sync'], url));
    expect(fake.passwordsSeen).toContain(PASSWORD);
    expect(line).toBe(`leeloo-sync: DATABASE_URL (postgresql://ada@127.0.0.1:${fake.port}/mirror?sslmode=disable): PostgreSQL refused the password of user "ada" (wrong password)`);
    expectOneLineRefusal(await run(['status'], url));
  });

  it('a database that does not exist', async () => {
    const name = `leeloo_test_missing_${Date.now()}`;
    const u = new URL(pgUrl(name));
    // Trust auth ignores the password; a server that checks it gets PGURL's own.
    if (u.password === '') u.password = PASSWORD;
    const password = decodeURIComponent(u.password);
    const line = expectOneLineRefusal(await run(['sync'], u.toString()), password);
    expect(line).toMatch(new RegExp(`^leeloo-sync: DATABASE_URL \\(postgres://[^:@]+@[^)]+/${name}\\): database "${name}" does not exist on [^;]+; create it first \\(createdb ${name}\\)$`));
    expectOneLineRefusal(await run(['status'], u.toString()), password);
  });

  it('a read-only user on a fresh database: refused, nothing created', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const ro = await createTestRole({ password: PASSWORD });
    cleanup.push(() => ro.drop());
    // PostgreSQL 15 lets only the database owner create in `public`; 13 and 14 let everyone.
    await db.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    const line = expectOneLineRefusal(await run(['sync'], pgUrl(db.name, { name: ro.name, password: PASSWORD })));
    expect(line).toContain(`user "${ro.name}" may not create or write leeloo-sync's tables (permission denied for schema public); nothing was changed`);
    expect(await tablesIn(db)).toEqual([]);
  });

  it('a read-only user on an existing mirror: sync refused, the mirror as it was', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    await (await openPgMirror(db.url)).close();
    const before = await tablesIn(db);
    const ro = await createTestRole({ password: PASSWORD });
    cleanup.push(() => ro.drop());
    cleanup.push(() => db.query(`DROP OWNED BY ${ro.name}`).then(() => undefined));
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ro.name}`);
    const line = expectOneLineRefusal(await run(['sync'], pgUrl(db.name, { name: ro.name, password: PASSWORD })));
    expect(line).toMatch(/: the user may not write [a-z_]+, [a-z_]+, [a-z_]+, …; leeloo-sync needs a user that can write its tables$/);
    expect(await tablesIn(db)).toEqual(before);
    expect((await db.query('SELECT count(*)::int AS n FROM sync_runs')).rows[0]).toEqual({ n: 0 });
  });

  it('a read-only server (default_transaction_read_only): refused, nothing created', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    const u = new URL(db.url);
    u.password = PASSWORD; // ignored by trust auth: here to be kept out of the message
    const line = expectOneLineRefusal(await run(['sync'], u.toString()));
    expect(line).toMatch(/: the server is read-only \(cannot execute CREATE TABLE in a read-only transaction\); nothing was changed$/);
    expect(await tablesIn(db)).toEqual([]);
  });
});

describe('a migration that fails midway leaves nothing half-migrated (CLI)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A failing statement injected into the bundled migrations: an event trigger (in a schema of
    // its own, so `public` stays empty) refuses the third migration's first table, after the
    // first two migrations' tables were created in the same transaction.
    await db.query('CREATE SCHEMA test_hooks');
    await db.query(`CREATE FUNCTION test_hooks.fail_midway() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity IN ('public.order_status_history', 'public.person_tag_history')) THEN
          RAISE EXCEPTION 'injected failure after % tables', (SELECT count(*) FROM pg_tables WHERE schemaname = 'public');
        END IF;
      END $$`);
    await db.query('CREATE EVENT TRIGGER fail_midway ON ddl_command_end EXECUTE FUNCTION test_hooks.fail_midway()');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('sync fails in one line without the password, the schema left empty; once fixed, it migrates', async () => {
    const u = new URL(db.url);
    u.password = PASSWORD;
    const r = await run(['sync'], u.toString());
    expect(r.code, r.stderr).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    // The failure came midway: the earlier migrations' tables existed when it struck.
    const m = /injected failure after (\d+) tables/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(20);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(await tablesIn(db)).toEqual([]);

    await db.query('DROP EVENT TRIGGER fail_midway');
    await (await openPgMirror(db.url)).close();
    expect(await tablesIn(db)).toEqual(expect.arrayContaining(['people', 'rollup_state', 'person_tag_history', 'leeloo_sync_meta']));
  });
});
