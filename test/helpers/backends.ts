import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { MIRROR_TYPES } from '../../src/db/pg.js';
import { tempDbPath } from './mirror.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

/** The backends the end-to-end suites run against (`describe.each(BACKENDS)`). */
export const BACKENDS = ['sqlite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

export type Row = Record<string, unknown>;
/** Reads rows with one query; values in the mirror's shapes on both backends (ISO text times, JSON text, 0/1, numbers). */
export type ReadRows = <R = Row>(query: string) => Promise<R[]>;

export interface BackendDb {
  readonly backend: Backend;
  /** What DATABASE_URL is set to: the SQLite file's path, or the test database's postgres:// URL. */
  readonly url: string;
  /** The SQLite file (for SQLite-only checks such as integrity_check); undefined on PostgreSQL. */
  readonly path: string | undefined;
  /** A read handle for assertions, opened at its first query (after the first sync made the mirror). */
  readonly rows: ReadRows;
  /** Runs one statement that returns no rows (a test's own edit of the mirror); the number of rows changed. */
  run(statement: string): Promise<number>;
  /** Closes the read handle (the next `rows` opens it again); the database stays. */
  release(): Promise<void>;
  /** Closes the read handle and removes the database. */
  destroy(): Promise<void>;
}

/**
 * A fresh database on `backend`: a temporary SQLite file, or a PostgreSQL database of its own
 * (test/helpers/pg.ts createTestDatabase), created empty; the sync migrates it.
 */
export async function createBackendDb(backend: Backend): Promise<BackendDb> {
  if (backend === 'sqlite') {
    const file = tempDbPath();
    let handle: Database.Database | undefined;
    const open = () => (handle ??= new Database(file.path, { fileMustExist: true }));
    return {
      backend,
      url: file.path,
      path: file.path,
      rows: async <R>(query: string) => open().prepare(query).all() as R[],
      run: async (statement) => open().prepare(statement).run().changes,
      release: async () => {
        handle?.close();
        handle = undefined;
      },
      destroy: async () => {
        handle?.close();
        handle = undefined;
        file.cleanup();
      },
    };
  }
  const db: TestDatabase = await createTestDatabase();
  let pool: pg.Pool | undefined;
  // The store's own type parsers: what the assertions compare is what the sync reads back.
  const open = () => {
    if (pool) return pool;
    pool = new pg.Pool({ connectionString: db.url, max: 2, types: MIRROR_TYPES });
    // An idle connection the server ends (the database dropped under a test that timed out and
    // read again) emits 'error' on the pool; unheard, that is an uncaught exception in the run.
    // A query on it still fails, and that is what a test sees.
    pool.on('error', () => {});
    return pool;
  };
  const release = async () => {
    const p = pool;
    pool = undefined;
    await p?.end();
  };
  return {
    backend,
    url: db.url,
    path: undefined,
    rows: async <R>(query: string) => (await open().query(query)).rows as R[],
    run: async (statement) => (await open().query(statement)).rowCount ?? 0,
    release,
    destroy: async () => {
      await release();
      await db.drop();
    },
  };
}

/** The lazily assigned database of a describe block (its properties throw before beforeAll ran). */
function deferred(): { set(db: BackendDb): void; get(): BackendDb | undefined; view: BackendDb } {
  let current: BackendDb | undefined;
  const need = () => {
    if (!current) throw new Error('the backend database is created in beforeAll: use it inside a test or hook');
    return current;
  };
  const view: BackendDb = {
    get backend() {
      return need().backend;
    },
    get url() {
      return need().url;
    },
    get path() {
      return need().path;
    },
    rows: (q) => need().rows(q),
    run: (q) => need().run(q),
    release: () => need().release(),
    destroy: () => need().destroy(),
  };
  return { set: (db) => (current = db), get: () => current, view };
}

/** One database for the tests of the calling describe block: created before them, removed after them. */
export function useBackendDb(backend: Backend): BackendDb {
  const d = deferred();
  beforeAll(async () => {
    d.set(await createBackendDb(backend));
  });
  afterAll(async () => {
    await d.get()?.destroy();
  });
  return d.view;
}

/** For blocks whose tests each want a fresh database: `await fresh.db()`; each is removed after its test. */
export function freshBackendDbs(backend: Backend): { db(): Promise<BackendDb> } {
  const made: BackendDb[] = [];
  afterEach(async () => {
    for (const db of made.splice(0)) await db.destroy();
  });
  return {
    async db() {
      const db = await createBackendDb(backend);
      made.push(db);
      return db;
    },
  };
}
