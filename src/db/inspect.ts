/**
 * Judging a database file without changing it: before leeloo-sync writes a byte (or switches on
 * WAL), it knows the file is new, empty, ours, or not ours. A file that is not ours is left
 * byte-identical, with no -wal or -shm beside it.
 */
import { closeSync, copyFileSync, constants, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../errors.js';
import { APPLICATION_ID, classify, type MigrationSet, type Verdict } from './migrate.js';

const MAGIC = 'SQLite format 3\0';

/** The 100-byte SQLite header, or undefined for a file that is not SQLite (or too short to be). */
function readHeader(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    return n === 100 && buf.subarray(0, 16).toString('latin1') === MAGIC ? buf : undefined;
  } finally {
    closeSync(fd);
  }
}

function classifyReadonly(path: string, set: MigrationSet): Verdict {
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true });
    return classify(sqlite, set);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return { kind: 'foreign', reason: `it is not a readable SQLite database: ${(err as Error).message}` };
    throw err;
  } finally {
    sqlite?.close();
  }
}

/**
 * What the file at `path` is. Only a stamped file (application_id is ours) is opened in place;
 * an unstamped one may belong to another program, and opening a WAL-mode database, even
 * read-only, leaves -wal and -shm files next to it, so it is judged from a copy.
 */
export function inspectDatabaseFile(path: string, set: MigrationSet): Verdict | { kind: 'stamped' } {
  if (path === ':memory:') return { kind: 'empty' };
  const abs = resolve(path);
  let size: number;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) throw new ConfigError(`DATABASE_URL is a directory (${abs})`);
    if (!st.isFile()) throw new ConfigError(`DATABASE_URL is not a regular file (${abs})`);
    size = st.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'empty' };
    if (code === 'ENOTDIR') throw new ConfigError(`DATABASE_URL is under a file, not a directory (${abs})`);
    throw new ConfigError(`DATABASE_URL cannot be read (${abs}: ${code ?? String(err)})`);
  }
  if (size === 0) return { kind: 'empty' };
  let header: Buffer | undefined;
  try {
    header = readHeader(abs);
  } catch (err) {
    throw new ConfigError(`DATABASE_URL cannot be read (${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!header) return { kind: 'foreign', reason: 'it is not an SQLite database file' };
  const appId = header.readUInt32BE(68);
  if (appId === APPLICATION_ID) return { kind: 'stamped' };
  if (appId !== 0) return classifyReadonly(abs, set); // reports the foreign application_id
  const wal = header[18] === 2 || header[19] === 2;
  if (!wal) return classifyReadonly(abs, set);
  const dir = mkdtempSync(join(tmpdir(), 'leeloo-sync-inspect-'));
  try {
    const copy = join(dir, 'db');
    copyFileSync(abs, copy, constants.COPYFILE_FICLONE);
    if (existsSync(`${abs}-wal`)) copyFileSync(`${abs}-wal`, `${copy}-wal`, constants.COPYFILE_FICLONE);
    return classifyReadonly(copy, set);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
