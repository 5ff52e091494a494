import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openMirror } from '../../src/db/connection.js';
import { APPLICATION_ID, readMigrations } from '../../src/db/migrate.js';

const ALL = readMigrations(MIGRATIONS_DIR).migrations.length;
import { ConfigError } from '../../src/errors.js';
import { foreignFiles, legacyDb, sha } from '../helpers/db-files.js';
import { refusal } from '../helpers/errors.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ls-own-'));
  dirs.push(d);
  return d;
}

/** A copy of the bundled migrations folder holding only the first `n` migrations, optionally with the last one edited. */
function migrationsUpTo(n: number, edit?: (sql: string) => string): string {
  const dir = join(tempDir(), 'migrations');
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, n);
  writeFileSync(journalPath, JSON.stringify(journal));
  if (edit) {
    const last = join(dir, `${journal.entries.at(-1)!.tag}.sql`);
    writeFileSync(last, edit(readFileSync(last, 'utf8')));
  }
  return dir;
}

const migrationRows = (path: string) => {
  const s = new Database(path, { readonly: true });
  try {
    return s.prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at').all() as { hash: string; created_at: number }[];
  } finally {
    s.close();
  }
};

/** The message with which openMirror refuses `path`. */
const refusedOpen = (path: string): string => refusal(() => openMirror(path).close());

describe('database ownership', () => {
  it('refuses files that are not ours and leaves them byte-identical, with no -wal or -shm', () => {
    const dir = tempDir();
    for (const f of foreignFiles(dir)) {
      const before = sha(f.path);
      const files = readdirSync(dir).sort();
      for (const opts of [{}, { readonly: true }, { migrate: false }]) {
        let msg = '';
        try {
          openMirror(f.path, opts).close();
        } catch (err) {
          expect(err, f.name).toBeInstanceOf(ConfigError);
          msg = (err as Error).message;
        }
        expect(msg, f.name).toMatch(new RegExp(`^DATABASE_URL: ${f.path} is not a leeloo-sync database \\(`));
        expect(msg, f.name).toMatch(f.reason);
      }
      expect(sha(f.path), f.name).toBe(before);
      expect(readdirSync(dir).sort(), f.name).toEqual(files);
    }
  });

  it('initialises a new, a 0-byte and an empty SQLite file, and stamps it', () => {
    const dir = tempDir();
    const zero = join(dir, 'zero.db');
    writeFileSync(zero, '');
    const empty = join(dir, 'empty.db');
    new Database(empty).close();
    for (const p of [join(dir, 'sub', 'new.db'), zero, empty]) {
      const m = openMirror(p);
      expect(m.sqlite.pragma('application_id', { simple: true }), p).toBe(APPLICATION_ID);
      expect(m.sqlite.prepare('SELECT count(*) AS n FROM outbound_writes').get(), p).toEqual({ n: 0 });
      m.close();
      expect(migrationRows(p)).toHaveLength(ALL);
    }
  });

  it("stamps a database drizzle's migrator wrote before application_id, keeping its rows", () => {
    const path = join(tempDir(), 'legacy.db');
    legacyDb(path);
    const rows = migrationRows(path);
    const m = openMirror(path);
    expect(m.sqlite.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(m.sqlite.prepare('SELECT name FROM tags').pluck().all()).toEqual(['vip']);
    m.close();
    expect(migrationRows(path)).toEqual(rows);
  });

  it('migrates an older database of ours (0000 and 0001 applied) to the current version', () => {
    const path = join(tempDir(), 'older.db');
    legacyDb(path, migrationsUpTo(2));
    expect(migrationRows(path)).toHaveLength(2);
    const m = openMirror(path);
    expect(m.sqlite.prepare("SELECT count(*) AS n FROM pragma_table_info('people') WHERE name = 'deleted_at'").get()).toEqual({ n: 1 });
    expect(m.sqlite.prepare('SELECT name FROM tags').pluck().all()).toEqual(['vip']);
    m.close();
    const rows = migrationRows(path);
    expect(rows).toHaveLength(ALL);
    // The same rows drizzle's own migrator writes, so either can open the database next.
    const ref = join(tempDir(), 'ref.db');
    legacyDb(ref);
    expect(rows).toEqual(migrationRows(ref));
  });

  it("strips tag_name, no longer accepted from outside, from outbox rows stored before", () => {
    const path = join(tempDir(), 'outbox.db');
    legacyDb(path, migrationsUpTo(3));
    const s = new Database(path);
    const ins = s.prepare("INSERT INTO outbound_writes (kind, target_id, payload, status) VALUES (?, '5e1c4676b70fb2001279c268', ?, ?)");
    ins.run('add-tag', '{"tag_id":"5e1c4676b70fb2001279c269","tag_name":"vip"}', 'pending');
    ins.run('add-tag', '{"tag_id":"5e1c4676b70fb2001279c269","tag_name":"vip"}', 'succeeded');
    ins.run('add-comment', '{"text":"hi","tag_name":"x"}', 'pending');
    ins.run('remove-tag', 'not json', 'pending');
    s.close();
    const m = openMirror(path);
    expect(m.sqlite.prepare('SELECT payload FROM outbound_writes ORDER BY id').pluck().all()).toEqual([
      '{"tag_id":"5e1c4676b70fb2001279c269"}',
      '{"tag_id":"5e1c4676b70fb2001279c269","tag_name":"vip"}',
      '{"text":"hi","tag_name":"x"}',
      'not json',
    ]);
    m.close();
  });

  it('applies all pending migrations or none: a failing statement midway leaves the database unmigrated', () => {
    const path = join(tempDir(), 'half.db');
    legacyDb(path, migrationsUpTo(2));
    const broken = migrationsUpTo(3, (sql) => `${sql};--> statement-breakpoint\nINSERT INTO no_such_table VALUES (1);`);
    expect(() => openMirror(path, { migrationsFolder: broken })).toThrow(/migration 0002_soft_delete_findings failed, nothing was changed: no such table: no_such_table/);
    const s = new Database(path, { readonly: true });
    expect(s.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'api_findings'").get()).toEqual({ n: 0 });
    expect(s.prepare("SELECT count(*) AS n FROM pragma_table_info('people') WHERE name = 'deleted_at'").get()).toEqual({ n: 0 });
    expect(s.pragma('application_id', { simple: true })).toBe(0);
    s.close();
    expect(migrationRows(path)).toHaveLength(2);
    // Fixed, the same database migrates.
    openMirror(path).close();
    expect(migrationRows(path)).toHaveLength(ALL);
  });

  it('refuses a database written by a newer leeloo-sync', () => {
    const path = join(tempDir(), 'newer.db');
    openMirror(path).close();
    const s = new Database(path);
    s.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('f'.repeat(64), Date.UTC(2031, 0, 2));
    s.close();
    const msg = /^DATABASE_URL: .*newer\.db: database was written by a newer leeloo-sync \(migration 2031-01-02T00:00:00\.000Z ffffffffffff\); upgrade leeloo-sync$/;
    expect(refusedOpen(path)).toMatch(msg);
    expect(() => openMirror(path, { readonly: true })).toThrow(msg);
    expect(migrationRows(path)).toHaveLength(ALL + 1);
  });

  it('refuses bad paths naming DATABASE_URL', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    expect(refusedOpen(dir)).toMatch(/^DATABASE_URL is a directory/);
    expect(refusedOpen(join(dir, 'file', 'x.db'))).toMatch(/^DATABASE_URL is under a file/);
    expect(refusedOpen('/proc/self/leeloo.db')).toMatch(/^DATABASE_URL must not point into \/proc/);
    expect(existsSync(join(dir, 'file', 'x.db'))).toBe(false);
  });
});
