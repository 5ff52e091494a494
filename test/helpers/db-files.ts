import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS_DIR } from '../../src/db/connection.js';

export const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** A database as drizzle's own migrator left it before application_id existed. */
export function legacyDb(path: string, folder = MIGRATIONS_DIR): void {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  migrate(drizzle({ client: sqlite }), { migrationsFolder: folder });
  sqlite.prepare("INSERT INTO tags (id, name, raw, synced_at) VALUES ('t1', 'vip', '{}', 'now')").run();
  sqlite.close();
}

/** Foreign files: SQLite databases of another program (rollback journal and WAL) and random bytes. */
export function foreignFiles(dir: string): { name: string; path: string; reason: RegExp }[] {
  const plain = join(dir, 'notes.db');
  const a = new Database(plain);
  a.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
  a.close();
  const wal = join(dir, 'wal.db');
  const b = new Database(wal);
  b.pragma('journal_mode = WAL');
  b.exec('CREATE TABLE people (id TEXT PRIMARY KEY); CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
  b.close();
  const appId = join(dir, 'app.db');
  const c = new Database(appId);
  c.pragma('application_id = 1234');
  c.exec('CREATE TABLE x (y)');
  c.close();
  const extra = join(dir, 'extra.db');
  legacyDb(extra);
  const d = new Database(extra);
  d.exec('CREATE TABLE notes (x)');
  d.close();
  const noise = join(dir, 'random.bin');
  writeFileSync(noise, randomBytes(64 * 1024));
  return [
    { name: 'a SQLite file of another program', path: plain, reason: /tables \(notes\) and no __drizzle_migrations/ },
    { name: 'a WAL-mode SQLite file with a people table', path: wal, reason: /its __drizzle_migrations table is empty/ },
    { name: 'a SQLite file with another application_id', path: appId, reason: /application_id is 0x000004d2/ },
    { name: 'a legacy-looking file with a table of its own', path: extra, reason: /tables leeloo-sync does not create: notes/ },
    { name: 'random bytes', path: noise, reason: /not an SQLite database file/ },
  ];
}

