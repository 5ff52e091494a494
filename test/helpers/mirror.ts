import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Env } from '../../src/config.js';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { countClientEvent } from '../../src/sync/context.js';
import { runSync, type RunResult, type SyncOptions } from '../../src/sync/engine.js';

export function tempDbPath(prefix = 'ls-test-'): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { path: join(dir, 'mirror.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a simulator before the describe block's tests and closes it and `db` after them. */
export function simulatorFor(db: { cleanup(): void }, opts: Parameters<typeof startSimulator>[0], started: (sim: Simulator) => void): void {
  let sim: Simulator | undefined;
  beforeAll(async () => {
    sim = await startSimulator(opts);
    started(sim);
  });
  afterAll(async () => {
    await sim?.close();
    db.cleanup();
  });
}

/** Environment for a sync against the simulator: fast, quiet, small pages so paging is exercised. */
export function simEnv(sim: Simulator, dbPath: string, overrides: Record<string, string> = {}): Env {
  return loadConfig(
    {
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: dbPath,
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
  opts: Partial<Omit<SyncOptions, 'mirror' | 'client' | 'env' | 'logger'>> & { env?: Record<string, string> } = {},
): Promise<{ result: RunResult; mirror: Mirror }> {
  const env = simEnv(sim, dbPath, opts.env);
  const mirror = openMirror(dbPath);
  const client = createClientFromEnv(env, { logger: silentLogger, onEvent: countClientEvent, retryBaseMs: 5, retryMaxMs: 100 });
  try {
    const result = await runSync({ ...opts, mirror, client, env, logger: silentLogger });
    return { result, mirror };
  } finally {
    await client.close();
  }
}

export function failures(r: RunResult): string[] {
  return r.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream}: ${s.status} ${s.error ?? ''}`);
}
