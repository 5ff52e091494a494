import { sql } from 'drizzle-orm';
import type { Store } from '../db/store/types.js';
import { loadLearnedRate } from '../sync/rate-limit-finding.js';
import { lastRuns, type RunRow } from '../sync/run-log.js';
import { parseCheckpoint } from '../sync/state.js';

export interface MirrorStatus {
  cursors: { stream: string; partition: string; cursor: string | null; inProgress: unknown; updatedAt: string }[];
  lastRuns: RunRow[];
  /** LEELOO_RATE_LIMIT=auto: the rate the last sync paced to and the limit it learned (api_findings), as of checkedAt. */
  rateLimit: { rate: number; ceiling: number | null; learnedAt: string | null; checkedAt: string } | null;
}

/** What reading the status needs of a Store. */
export type StatusReader = Pick<Store, 'all' | 'get'>;

// Text ordered by code point, as SQLite's BINARY collation does, whatever PostgreSQL's collation is.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Per-stream cursors, each stream's most recent runs and the learned rate, from an open Store. */
export async function readStatusFrom(store: StatusReader, runsPerStream = 3): Promise<MirrorStatus> {
  const rows = await store.all<{ stream: string; partition: string; cursor: string | null; state: string | null; updatedAt: string }>(
    sql`SELECT stream, partition, cursor, state, updated_at AS "updatedAt" FROM sync_state`,
  );
  const cursors = rows
    .sort((a, b) => cmp(a.stream, b.stream) || cmp(a.partition, b.partition))
    .map(({ state, ...c }) => {
      const parsed = parseCheckpoint(state) as Record<string, unknown> | null | 'lost';
      if (parsed === 'lost') return { ...c, inProgress: 'checkpoint unreadable (not JSON): the next run reads this window again' };
      return { ...c, inProgress: parsed?.current ?? (parsed && 'offset' in parsed ? parsed : null) };
    });
  return { cursors, lastRuns: await lastRuns(store, runsPerStream), rateLimit: await loadLearnedRate(store) };
}

/**
 * The status of the mirror `databaseUrl` names (a SQLite path or a postgres:// URL), opened
 * read-only; read by `status` and the dashboard.
 */
export async function readStatus(databaseUrl: string, runsPerStream = 3): Promise<MirrorStatus> {
  const { openStore } = await import('../db/store/index.js');
  const store = await openStore(databaseUrl, { migrate: false, readonly: true });
  try {
    return await readStatusFrom(store, runsPerStream);
  } finally {
    await store.close();
  }
}
