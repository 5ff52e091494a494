import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Env } from '../../src/config.js';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { databaseKind } from '../../src/db/location.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import { countClientEvent } from '../../src/sync/context.js';
import { runSync, type RunResult, type SyncOptions } from '../../src/sync/engine.js';

export function tempDbPath(prefix = 'ls-test-'): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { path: join(dir, 'mirror.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Environment for a sync against the simulator: fast, quiet, small pages so paging is exercised. */
export function simEnv(sim: Simulator, databaseUrl: string, overrides: Record<string, string> = {}): Env {
  return loadConfig(
    {
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: databaseUrl,
      LEELOO_RATE_LIMIT: '5000',
      LEELOO_PAGE_SIZE: '50',
      SYNC_CONCURRENCY: '4',
      SYNC_START_DATE: '2015-01-01',
      LOG_LEVEL: 'silent',
      ...overrides,
    },
    { requireToken: true },
  );
}

/** One in-process run; returns the result with the mirror left open for assertions. */
export async function syncWith(
  sim: Simulator,
  dbPath: string,
  opts: Partial<Omit<SyncOptions, 'store' | 'client' | 'env' | 'logger'>> & { env?: Record<string, string> } = {},
): Promise<{ result: RunResult; mirror: Mirror; store: SqliteStore }> {
  const env = simEnv(sim, dbPath, opts.env);
  const mirror = openMirror(dbPath);
  const store = new SqliteStore(mirror);
  const client = createClientFromEnv(env, { logger: silentLogger, onEvent: countClientEvent, retryBaseMs: 5, retryMaxMs: 100 });
  try {
    const result = await runSync({ ...opts, store, client, env, logger: silentLogger });
    return { result, mirror, store };
  } finally {
    await client.close();
  }
}

type SyncStoreOptions = Parameters<typeof syncWith>[2];

export interface StoreRun {
  result: RunResult;
  /** The store the run wrote through, still open (the caller closes it). */
  store: Store;
  /** The SQLite mirror under the store; throws on PostgreSQL, so a SQLite-only check cannot pass there silently. */
  readonly mirror: Mirror;
}

/**
 * One in-process run on either backend: `databaseUrl` is a SQLite path or a postgres:// URL
 * (test/helpers/backends.ts); returns the result with the store left open for assertions.
 */
export async function syncStore(sim: Simulator, databaseUrl: string, opts: SyncStoreOptions = {}): Promise<StoreRun> {
  if (databaseKind(databaseUrl) === 'sqlite') {
    const { result, mirror, store } = await syncWith(sim, databaseUrl, opts);
    return { result, store, mirror };
  }
  const env = simEnv(sim, databaseUrl, opts.env);
  const store = await openStore(databaseUrl);
  const client = createClientFromEnv(env, { logger: silentLogger, onEvent: countClientEvent, retryBaseMs: 5, retryMaxMs: 100 });
  try {
    const result = await runSync({ ...opts, store, client, env, logger: silentLogger });
    return {
      result,
      store,
      get mirror(): Mirror {
        throw new Error('this check reads the SQLite mirror directly; on PostgreSQL read through the store or rows()');
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  } finally {
    await client.close();
  }
}

export function failures(r: RunResult): string[] {
  return r.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream}: ${s.status} ${s.error ?? ''}`);
}
