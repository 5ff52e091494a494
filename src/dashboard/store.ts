import { statSync } from 'node:fs';
import { databaseKind, parseDatabaseUrl } from '../db/location.js';
import type { Store } from '../db/store/types.js';
import { mirrorAbsence } from './mirror.js';

/**
 * The dashboard's one read-only store, shared by all its requests. Opening a store per request
 * made a PostgreSQL pool (connect, authenticate, classify the schema) for every page view and
 * every /mirror.json poll; one store per dashboard process keeps a small pool instead.
 *
 * Opened lazily, at the first request that finds a mirror: before the first sync there is none
 * (a SQLite file not there yet, or an empty PostgreSQL database the read-only open refuses), and
 * a failed open is not kept, so a later request tries again. A SQLite file removed after it was
 * opened closes the handle (the overview then says there is no mirror); one replaced by another
 * file (a restore moved into place) is opened again, as a handle keeps reading the file it
 * opened (a request still reading the old handle then may answer 503 once). Closed with the
 * dashboard, or by whoever handed it to the dashboard (the worker, whose /metrics scrape reads
 * through it too).
 */
export interface DashboardStore {
  /** The open store, or undefined while the SQLite file `databaseUrl` names does not exist (`absent` names it). */
  get(): Promise<{ store: Store } | { absent: string }>;
  close(): Promise<void>;
}

/** How the read-only store is opened (tests count the opens). */
export type OpenMirror = (databaseUrl: string) => Promise<Store>;

async function openReadonly(databaseUrl: string): Promise<Store> {
  const { openStore } = await import('../db/store/index.js');
  // Two connections: the pages run their queries one after another; two requests may overlap.
  return openStore(databaseUrl, { migrate: false, readonly: true, poolSize: 2 });
}

/** The SQLite file `databaseUrl` names, undefined for PostgreSQL. */
function sqliteFile(databaseUrl: string): string | undefined {
  if (databaseKind(databaseUrl) === 'postgres') return undefined;
  const parsed = parseDatabaseUrl(databaseUrl);
  return 'problem' in parsed ? databaseUrl : parsed.path;
}

/** Which file is at `path` now (device and inode), or undefined when none. */
function fileIdentity(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export function dashboardStore(databaseUrl: string, open: OpenMirror = openReadonly): DashboardStore {
  const file = sqliteFile(databaseUrl);
  let opening: Promise<Store> | undefined;
  /** The file the open store reads (SQLite). */
  let openedFile: string | undefined;
  let closed = false;
  const drop = async () => {
    const p = opening;
    opening = undefined;
    await p?.then((s) => s.close(), () => undefined);
  };
  return {
    async get() {
      if (closed) throw new Error('the dashboard is shutting down');
      const absent = mirrorAbsence(databaseUrl);
      if (absent !== undefined) {
        await drop();
        return { absent };
      }
      const identity = fileIdentity(file);
      if (opening && identity !== openedFile) await drop();
      if (!opening) openedFile = identity;
      const p = (opening ??= open(databaseUrl));
      try {
        const store = await p;
        // Closed while it opened: close() has closed this store too; it is not handed out.
        if (closed) throw new Error('the dashboard is shutting down');
        return { store };
      } catch (err) {
        if (opening === p) opening = undefined;
        throw err;
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}
